package correlate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// MaxCost bounds one evaluation of an expression that loops (a
// comprehension: exists, all, map, filter…), in CEL cost units (roughly one
// per operation, string and list work by size). Correlation runs on every
// event, so the bound is low; an expression that hits it fails on that
// event (see Match.EvalErrors). Expressions without a loop are not
// metered: their work is linear in their own length and the event's size.
const MaxCost = 10_000

// maxExprLen bounds an expression's source, which content loads from user
// files.
const maxExprLen = 4096

// env is the one CEL environment of correlation expressions. It is
// immutable once built, so it is shared rather than rebuilt per rule.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.OptionalTypes(),
		ext.Strings(),
	)
})

// program is one compiled expression.
type program struct {
	src string
	prg cel.Program
	// sources, for a filter, are the only event sources it can hold for
	// (see filterSources); nil when it does not say.
	sources []string
}

// compile parses and checks src, which must produce one of want (dyn is
// always accepted and checked at run time). Its errors are the CEL
// messages, one per problem, positioned within the expression.
func compile(src string, want ...*cel.Type) (*program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("is empty")
	}
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("is %d bytes long; expressions are limited to %d", len(src), maxExprLen)
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	checked, iss := e.Compile(src)
	if iss.Err() != nil {
		return nil, issues(src, iss)
	}
	if err := checkEventFields(checked.NativeRep()); err != nil {
		return nil, err
	}
	out := checked.OutputType()
	if !out.IsExactType(cel.DynType) && !slices.ContainsFunc(want, func(w *cel.Type) bool { return w.IsAssignableType(out) }) {
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = w.String()
		}
		return nil, fmt.Errorf("must be of type %s, not %s", strings.Join(names, " or "), out)
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if metered(checked.NativeRep()) {
		opts = append(opts, cel.CostLimit(MaxCost))
	}
	prg, err := e.Program(checked, opts...)
	if err != nil {
		return nil, err
	}
	return &program{src: src, prg: prg, sources: filterSources(checked.NativeRep().Expr())}, nil
}

// issues words CEL's compile errors for a content file: the message, and
// where in the expression when that helps (a long or multi-line one).
func issues(src string, iss *cel.Issues) error {
	multiline := strings.Contains(strings.TrimRight(src, "\n"), "\n")
	var errs []error
	for _, e := range iss.Errors() {
		// The environment has no container (namespace); saying so is noise.
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

// eval runs the program on one event.
func (p *program) eval(act *activation) (ref.Val, error) {
	out, _, err := p.prg.Eval(act)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// evalBool runs a filter.
func (p *program) evalBool(act *activation) (bool, error) {
	out, err := p.eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("returned %s, not a bool", out.Type().TypeName())
	}
	return bool(b), nil
}

// evalString runs a group_by or title expression. Optionals unwrap (none is
// ""), null is "", and scalars convert to their CEL string form.
func (p *program) evalString(act *activation) (string, error) {
	out, err := p.eval(act)
	if err != nil {
		return "", err
	}
	return toString(out)
}

func toString(v ref.Val) (string, error) {
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case types.Null:
		return "", nil
	case *types.Optional:
		if !v.HasValue() {
			return "", nil
		}
		return toString(v.GetValue())
	case types.Bool, types.Int, types.Uint, types.Double, types.Timestamp, types.Duration:
		if s, ok := v.ConvertToType(types.StringType).(types.String); ok {
			return string(s), nil
		}
	}
	return "", fmt.Errorf("returned %s, not a string", v.Type().TypeName())
}

// checkEventFields rejects `event.<name>` for a name the event does not
// have — "event.lables.team" would otherwise compile (event is a map) and
// fail on every event. It gives up when a comprehension rebinds "event".
func checkEventFields(a *ast.AST) error {
	var (
		bad      []string
		shadowed bool
	)
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		var field string
		switch e.Kind() {
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			shadowed = shadowed || c.IterVar() == "event" || c.IterVar2() == "event"
			return
		case ast.SelectKind:
			s := e.AsSelect()
			if !isEvent(s.Operand()) {
				return
			}
			field = s.FieldName()
		case ast.CallKind:
			c := e.AsCall()
			if c.FunctionName() != operators.OptSelect || len(c.Args()) != 2 || !isEvent(c.Args()[0]) ||
				c.Args()[1].Kind() != ast.LiteralKind {
				return
			}
			s, ok := c.Args()[1].AsLiteral().(types.String)
			if !ok {
				return
			}
			field = string(s)
		default:
			return
		}
		if fieldIndex(field) < 0 && !slices.Contains(bad, field) {
			bad = append(bad, field)
		}
	}))
	if shadowed || len(bad) == 0 {
		return nil
	}
	var errs []error
	for _, f := range bad {
		errs = append(errs, fmt.Errorf("event has no field %q%s (fields: %s)", f, didYouMean(f), strings.Join(eventFields[:], ", ")))
	}
	return errors.Join(errs...)
}

// metered reports whether an expression needs the run-time cost limit:
// whether it has a comprehension (a loop: exists, all, map, filter…) or
// calls a function outside linearFunctions. Without either, its work is
// linear in its own length and the event's size, so metering it would
// only cost time — the tracker more than doubles the time of a Match.
func metered(a *ast.AST) bool {
	return len(ast.MatchDescendants(ast.NavigateAST(a), func(e ast.NavigableExpr) bool {
		switch e.Kind() {
		case ast.ComprehensionKind:
			return true
		case ast.CallKind:
			return !linearFunctions[e.AsCall().FunctionName()]
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

func isEvent(e ast.Expr) bool { return e.Kind() == ast.IdentKind && e.AsIdent() == "event" }

// didYouMean suggests the event field closest to a misspelt one.
func didYouMean(field string) string {
	for _, f := range eventFields {
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
