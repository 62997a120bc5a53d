// Package celexpr holds what the content kinds that embed CEL expressions
// (correlation rules, automation rules, runbooks) share: refusing an empty
// or oversized expression, wording CEL's compile errors for a content
// file, checking the result type, deciding which expressions need the
// run-time cost limit, suggesting the field a misspelt one meant, and
// reading a result as a string.
package celexpr

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Compile parses and checks src in e: it must not be empty or longer than
// maxLen bytes, check (when not nil) must accept its syntax tree, and it
// must produce one of want (dyn always passes and is checked at run time;
// no want accepts any type). Its errors are CEL's messages, positioned
// within the expression (see Issues).
func Compile(e *cel.Env, src string, maxLen int, check func(*ast.AST) error, want ...*cel.Type) (*cel.Ast, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("is empty")
	}
	if len(src) > maxLen {
		return nil, fmt.Errorf("is %d bytes long; expressions are limited to %d", len(src), maxLen)
	}
	checked, iss := e.Compile(src)
	if iss.Err() != nil {
		return nil, Issues(src, iss)
	}
	if check != nil {
		if err := check(checked.NativeRep()); err != nil {
			return nil, err
		}
	}
	out := checked.OutputType()
	if len(want) > 0 && !out.IsExactType(cel.DynType) && !slices.ContainsFunc(want, func(w *cel.Type) bool { return w.IsAssignableType(out) }) {
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = w.String()
		}
		return nil, fmt.Errorf("must be of type %s, not %s", strings.Join(names, " or "), out)
	}
	return checked, nil
}

// Issues words CEL's compile errors for a content file: the message, and
// where in the expression when that helps (a long or multi-line one).
func Issues(src string, iss *cel.Issues) error {
	multiline := strings.Contains(strings.TrimRight(src, "\n"), "\n")
	var errs []error
	for _, e := range iss.Errors() {
		// The environments have no container (namespace); saying so is noise.
		msg := strings.TrimSuffix(e.Message, " (in container '')")
		switch loc := e.Location; {
		case loc == nil || loc.Line() < 1:
		case multiline:
			msg += fmt.Sprintf(" (line %d, column %d)", loc.Line(), loc.Column()+1)
		case len(src) > 40:
			msg += fmt.Sprintf(" (column %d)", loc.Column()+1)
		}
		errs = append(errs, errors.New(msg))
	}
	if len(errs) == 0 {
		return iss.Err()
	}
	return errors.Join(errs...)
}

// Program builds checked's program, optimized, with the cost limit maxCost
// when it is Metered (alsoLinear as there).
func Program(e *cel.Env, checked *cel.Ast, maxCost uint64, alsoLinear ...string) (cel.Program, error) {
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if Metered(checked.NativeRep(), alsoLinear...) {
		opts = append(opts, cel.CostLimit(maxCost))
	}
	return e.Program(checked, opts...)
}

// Metered reports whether an expression needs the run-time cost limit:
// whether it has a comprehension (a loop: exists, all, map, filter…) or
// calls a function that is neither in linearFunctions nor in alsoLinear.
// Without either, its work is linear in its own length and its input's
// size, so metering it would only cost time — the tracker more than
// doubles the time of a correlation match.
func Metered(a *ast.AST, alsoLinear ...string) bool {
	return len(ast.MatchDescendants(ast.NavigateAST(a), func(e ast.NavigableExpr) bool {
		switch e.Kind() {
		case ast.ComprehensionKind:
			return true
		case ast.CallKind:
			name := e.AsCall().FunctionName()
			return !linearFunctions[name] && !slices.Contains(alsoLinear, name)
		}
		return false
	})) > 0
}

// linearFunctions are the functions whose work and result are at most
// linear in their arguments. Others — ext.Strings' replace and format,
// whose results can multiply in size, and any function added later — are
// metered.
var linearFunctions = map[string]bool{
	operators.Conditional: true, operators.LogicalAnd: true, operators.LogicalOr: true,
	operators.LogicalNot: true, operators.Equals: true, operators.NotEquals: true,
	operators.Less: true, operators.LessEquals: true, operators.Greater: true,
	operators.GreaterEquals: true, operators.Add: true, operators.Subtract: true,
	operators.Multiply: true, operators.Divide: true, operators.Modulo: true,
	operators.Negate: true, operators.Index: true, operators.OptIndex: true,
	operators.OptSelect: true, operators.In: true,
	"size": true, "contains": true, "startsWith": true, "endsWith": true, "matches": true,
	"string": true, "int": true, "uint": true, "double": true, "bool": true, "dyn": true, "type": true,
	"orValue": true, "or": true, "hasValue": true, "value": true,
	"optional.of": true, "optional.ofNonZeroValue": true, "optional.none": true,
	"lowerAscii": true, "upperAscii": true, "trim": true, "substring": true, "charAt": true,
	"indexOf": true, "lastIndexOf": true, "split": true, "join": true, "reverse": true,
}

// ToString reads a result as a string: optionals unwrap (none is ""), null
// is "", and scalars convert to their CEL string form.
func ToString(v ref.Val) (string, error) {
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case types.Null:
		return "", nil
	case *types.Optional:
		if !v.HasValue() {
			return "", nil
		}
		return ToString(v.GetValue())
	case types.Bool, types.Int, types.Uint, types.Double, types.Timestamp, types.Duration:
		if s, ok := v.ConvertToType(types.StringType).(types.String); ok {
			return string(s), nil
		}
	}
	return "", fmt.Errorf("returned %s, not a string", v.Type().TypeName())
}

// DidYouMean suggests the name in names closest to a misspelt field, as
// "; did you mean %q?", or "".
func DidYouMean(field string, names []string) string {
	for _, f := range names {
		if strings.EqualFold(f, field) || closeEnough(f, field) {
			return fmt.Sprintf("; did you mean %q?", f)
		}
	}
	return ""
}

// closeEnough reports whether a and b differ by one edit or one swap of
// neighbours — the commonest typos.
func closeEnough(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) == len(b) {
		var diff []int
		for i := range a {
			if a[i] != b[i] {
				diff = append(diff, i)
			}
		}
		switch len(diff) {
		case 1:
			return true
		case 2:
			i, j := diff[0], diff[1]
			return j == i+1 && a[i] == b[j] && a[j] == b[i]
		}
		return false
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a) != len(b)+1 {
		return false
	}
	for i := range b {
		if a[i] != b[i] {
			return a[i+1:] == b[i:]
		}
	}
	return true
}
