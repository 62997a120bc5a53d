package compliance

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/flywheel-ops/flywheel/internal/celexpr"
	"github.com/flywheel-ops/flywheel/internal/content"
)

// MaxCost bounds one evaluation of an expression that loops (exists, all,
// map, filter…), in CEL cost units; one that hits it is an ERROR result
// for that resource. Loop-free expressions are not metered (see
// celexpr.Metered).
const MaxCost = 100_000

// maxExprLen bounds an expression's source text.
const maxExprLen = 8192

// env is the one CEL environment of config-rule expressions: `resource`
// ({id, type, name, tags, config}) and `params`, optional syntax and the
// string extensions. Immutable once built and shared.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("params", cel.MapType(cel.StringType, cel.DynType)),
		// A parameter's 14 compares with a config's 14.0.
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
	)
})

// program is one compiled expression and its source.
type program struct {
	src string
	prg cel.Program
}

func compileExpr(src string, want ...*cel.Type) (*program, error) {
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	checked, err := celexpr.Compile(e, src, maxExprLen, nil, want...)
	if err != nil {
		return nil, err
	}
	prg, err := celexpr.Program(e, checked, MaxCost, "timestamp", "duration")
	if err != nil {
		return nil, err
	}
	return &program{src: src, prg: prg}, nil
}

// Rule is one compiled ConfigRule.
type Rule struct {
	Name        string
	Description string
	// Tenant is the tenant the rule belongs to; "" is every tenant.
	Tenant       string
	ResourceType string
	Controls     []string
	Severity     string
	// Parameters are the declared defaults.
	Parameters  map[string]any
	Remediation *Remediation

	applies, check, annotation *program
	remediation                map[string]*program // runbook parameter → expression
}

// compileRule compiles one rule's spec; name may be "" (validation).
func compileRule(name string, s *RuleSpec) (*Rule, error) {
	errs := validateRuleShape(s)
	r := &Rule{Name: name, ResourceType: s.ResourceType, Controls: s.Controls, Severity: s.Severity,
		Parameters: s.Parameters, Remediation: s.Remediation}
	field := func(f string, p **program, src string, want ...*cel.Type) {
		if src == "" {
			return
		}
		prg, err := compileExpr(src, want...)
		if err != nil {
			errs = append(errs, &content.FieldError{Field: f, Err: err})
			return
		}
		*p = prg
	}
	if s.Check == "" {
		errs = append(errs, content.FieldErrorf("check", "is required (a CEL bool over resource and params)"))
	}
	field("applies", &r.applies, s.Applies, cel.BoolType)
	field("check", &r.check, s.Check, cel.BoolType)
	field("annotation", &r.annotation, s.Annotation, cel.StringType)
	if s.Remediation != nil {
		r.remediation = map[string]*program{}
		keys := make([]string, 0, len(s.Remediation.Parameters))
		for k := range s.Remediation.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var p *program
			field("remediation.parameters."+k, &p, s.Remediation.Parameters[k])
			if p != nil {
				r.remediation[k] = p
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// boolResult reads an expression's result as a bool.
func boolResult(p *program, act any) (bool, error) {
	out, _, err := p.prg.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("returned %s, not a bool", out.Type().TypeName())
	}
	return bool(b), nil
}

// anyType converts a CEL result to its plain Go value.
var anyType = reflect.TypeFor[any]()
