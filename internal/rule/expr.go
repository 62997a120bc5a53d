package rule

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
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/flywheel-ops/flywheel/internal/celexpr"
)

// MaxCost bounds one evaluation of an expression that loops (exists, all,
// map, filter…) or calls a function whose work can grow faster than its
// input, in CEL cost units. An expression that hits it fails on that event.
// Loop-free expressions are linear in their own length and the event's
// size and are not metered (the tracker would double their cost), as in
// correlation rules.
const MaxCost = 10_000

// maxExprLen bounds an expression's source text.
const maxExprLen = 4096

// env is the one CEL environment of rule expressions: `event` and
// `opsitem`, optional syntax and the string extensions. It is immutable
// once built and shared.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("opsitem", cel.MapType(cel.StringType, cel.DynType)),
		cel.OptionalTypes(),
		ext.Strings(),
	)
})

// program is one compiled expression.
type program struct {
	src string
	prg cel.Program
	// guard is what the expression, as a condition, requires of the
	// event's source and kind (see guard).
	guard guard
}

// compile parses and checks src, which must produce one of want (dyn always
// passes and is checked at run time; no want accepts any type). Its errors
// are CEL's messages, positioned within the expression.
func compile(src string, want ...*cel.Type) (*program, error) {
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	checked, err := celexpr.Compile(e, src, maxExprLen, checkFields, want...)
	if err != nil {
		return nil, err
	}
	// Rules may also build timestamps and durations, linear in their text.
	prg, err := celexpr.Program(e, checked, MaxCost, "timestamp", "duration")
	if err != nil {
		return nil, err
	}
	return &program{src: src, prg: prg, guard: guardOf(checked.NativeRep())}, nil
}

func (p *program) eval(act *activation) (ref.Val, error) {
	out, _, err := p.prg.Eval(act)
	return out, err
}

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

func (p *program) evalString(act *activation) (string, error) {
	out, err := p.eval(act)
	if err != nil {
		return "", err
	}
	return celexpr.ToString(out)
}

// evalStrings runs a targets expression: a list of strings (empty strings
// and duplicates dropped), or an optional of one.
func (p *program) evalStrings(act *activation) ([]string, error) {
	out, err := p.eval(act)
	if err != nil {
		return nil, err
	}
	if o, ok := out.(*types.Optional); ok {
		if !o.HasValue() {
			return []string{}, nil
		}
		out = o.GetValue()
	}
	l, ok := out.(traits.Lister)
	if !ok {
		return nil, fmt.Errorf("returned %s, not a list", out.Type().TypeName())
	}
	res := []string{}
	for it := l.Iterator(); it.HasNext() == types.True; {
		s, err := celexpr.ToString(it.Next())
		if err != nil {
			return nil, fmt.Errorf("list element %w", err)
		}
		if s != "" && !slices.Contains(res, s) {
			res = append(res, s)
		}
	}
	return res, nil
}

// evalNative runs a parameter expression and converts its value to plain
// Go (string, int64, uint64, float64, bool, nil, time.Time, duration
// strings, []any, map[string]any), the shape a runbook's parameters take.
func (p *program) evalNative(act *activation) (any, error) {
	out, err := p.eval(act)
	if err != nil {
		return nil, err
	}
	return toNative(out)
}

func toNative(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		return float64(v), nil
	case types.Bool:
		return bool(v), nil
	case types.Null:
		return nil, nil
	case types.Timestamp:
		return v.Time.UTC(), nil
	case types.Duration:
		return v.Duration.String(), nil
	case *types.Optional:
		if !v.HasValue() {
			return nil, nil
		}
		return toNative(v.GetValue())
	case traits.Mapper:
		out := map[string]any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is %s, not a string", k, k.Type().TypeName())
			}
			val, err := toNative(v.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = val
		}
		return out, nil
	case traits.Lister:
		out := []any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			val, err := toNative(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	}
	return nil, fmt.Errorf("returned %s, which a runbook parameter cannot hold", v.Type().TypeName())
}

// checkFields rejects `event.<name>` and `opsitem.<name>` for names the
// record does not have: "event.lables.x" would compile (both are maps) and
// fail on every event. It gives up on a variable a comprehension rebinds.
func checkFields(a *ast.AST) error {
	var (
		bad      []string
		shadowed = map[string]bool{}
	)
	known := map[string]map[string]int{"event": eventIndex, "opsitem": opsItemIndex}
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		var v, field string
		switch e.Kind() {
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			shadowed[c.IterVar()], shadowed[c.IterVar2()] = true, true
			return
		case ast.SelectKind:
			s := e.AsSelect()
			if s.Operand().Kind() != ast.IdentKind {
				return
			}
			v, field = s.Operand().AsIdent(), s.FieldName()
		case ast.CallKind:
			c := e.AsCall()
			if c.FunctionName() != operators.OptSelect || len(c.Args()) != 2 || c.Args()[0].Kind() != ast.IdentKind ||
				c.Args()[1].Kind() != ast.LiteralKind {
				return
			}
			s, ok := c.Args()[1].AsLiteral().(types.String)
			if !ok {
				return
			}
			v, field = c.Args()[0].AsIdent(), string(s)
		default:
			return
		}
		fields, ok := known[v]
		if !ok {
			return
		}
		if _, ok := fields[field]; !ok {
			if msg := v + "." + field; !slices.Contains(bad, msg) {
				bad = append(bad, msg)
			}
		}
	}))
	var errs []error
	for _, b := range bad {
		v, field, _ := strings.Cut(b, ".")
		if shadowed[v] {
			continue
		}
		names := eventFields
		if v == "opsitem" {
			names = opsItemFields
		}
		errs = append(errs, fmt.Errorf("%s has no field %q%s (fields: %s)", v, field, celexpr.DidYouMean(field, names), strings.Join(names, ", ")))
	}
	return errors.Join(errs...)
}
