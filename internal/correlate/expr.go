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

	"github.com/flywheel-ops/flywheel/internal/celexpr"
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
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	checked, err := celexpr.Compile(e, src, maxExprLen, checkEventFields, want...)
	if err != nil {
		return nil, err
	}
	prg, err := celexpr.Program(e, checked, MaxCost)
	if err != nil {
		return nil, err
	}
	return &program{src: src, prg: prg, sources: filterSources(checked.NativeRep().Expr())}, nil
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
	return celexpr.ToString(out)
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
		errs = append(errs, fmt.Errorf("event has no field %q%s (fields: %s)", f, celexpr.DidYouMean(f, eventFields[:]), strings.Join(eventFields[:], ", ")))
	}
	return errors.Join(errs...)
}

func isEvent(e ast.Expr) bool { return e.Kind() == ast.IdentKind && e.AsIdent() == "event" }
