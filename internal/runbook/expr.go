package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/flywheel-ops/flywheel/internal/celexpr"
)

// Expressions in a runbook are CEL over these variables, each a map:
//
//	params     the execution's parameters, typed as declared
//	steps      steps.<name>.outputs.<key>, steps.<name>.status, steps.<name>.error
//	target     the target of a per-target step: id, type, tags
//	opsitem    the OpsItem the execution works on: id, title, severity, status, …
//	execution  id, runbook, version, started_by, dry_run, targets
//
// and, in a wait_for condition, probe (probe.outputs.<key>); in a verify
// condition, outputs (the runbook's outputs by name).
var scopeVars = []string{"params", "steps", "target", "opsitem", "execution"}

// MaxCost bounds one evaluation, in CEL cost units: a runbook expression
// runs a handful of times per execution, so the bound is generous, but a
// runaway comprehension over a large output must not stall a worker.
const MaxCost = 1_000_000

// maxExprLen bounds an expression's source.
const maxExprLen = 8192

func newEnv(extra ...string) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Lists(),
		ext.Math(),
		ext.Encoders(),
	}
	for _, v := range append(append([]string(nil), scopeVars...), extra...) {
		opts = append(opts, cel.Variable(v, cel.MapType(cel.StringType, cel.DynType)))
	}
	return cel.NewEnv(opts...)
}

var (
	baseEnv   = sync.OnceValues(func() (*cel.Env, error) { return newEnv() })
	probeEnv  = sync.OnceValues(func() (*cel.Env, error) { return newEnv("probe") })
	verifyEnv = sync.OnceValues(func() (*cel.Env, error) { return newEnv("outputs") })
)

// Expr is one compiled CEL expression.
type Expr struct {
	src string
	prg cel.Program
	// refs are the step names and parameter names it reads
	// (steps.<name>, params.<name>), for load-time checks.
	stepRefs, paramRefs []string
	// outputRefs are the outputs.<name> a verify condition reads.
	outputRefs []string
}

// String returns the expression's source.
func (e *Expr) String() string { return e.src }

// exprKind says what an expression must produce.
type exprKind int

const (
	anyValue exprKind = iota
	boolValue
)

// compileExpr parses and checks src. probe adds the wait_for variable.
// cel-go can panic on odd input (a bytes map key folded as a constant);
// that is an error in the expression, not a crash of the loader.
func compileExpr(src string, kind exprKind, probe bool) (e *Expr, err error) {
	envFn := baseEnv
	if probe {
		envFn = probeEnv
	}
	return compileExprIn(src, kind, envFn)
}

// compileExprIn is compileExpr in the environment envFn makes.
func compileExprIn(src string, kind exprKind, envFn func() (*cel.Env, error)) (e *Expr, err error) {
	defer func() {
		if p := recover(); p != nil {
			e, err = nil, fmt.Errorf("cannot be compiled: %v", p)
		}
	}()
	env, err := envFn()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	checked, err := celexpr.Compile(env, src, maxExprLen, nil)
	if err != nil {
		return nil, err
	}
	if kind == boolValue {
		out := checked.OutputType()
		if !out.IsExactType(cel.DynType) && !cel.BoolType.IsAssignableType(out) {
			return nil, fmt.Errorf("must be a bool, not %s", out)
		}
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(MaxCost), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	e = &Expr{src: src, prg: prg}
	e.stepRefs, e.paramRefs, e.outputRefs = references(checked.NativeRep())
	return e, nil
}

// references collects the names in steps.<name> and params.<name>
// selections, so a misspelt step or parameter fails at load rather than on
// every run. A comprehension that rebinds either variable turns the check
// off for it.
func references(a *ast.AST) (stepRefs, paramRefs, outputRefs []string) {
	shadow := map[string]bool{}
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			shadow[c.IterVar()], shadow[c.IterVar2()], shadow[c.AccuVar()] = true, true, true
		case ast.SelectKind:
			s := e.AsSelect()
			op := s.Operand()
			if op.Kind() != ast.IdentKind || s.IsTestOnly() {
				return
			}
			switch op.AsIdent() {
			case "steps":
				stepRefs = append(stepRefs, s.FieldName())
			case "params":
				paramRefs = append(paramRefs, s.FieldName())
			case "outputs":
				outputRefs = append(outputRefs, s.FieldName())
			}
		}
	}))
	if shadow["steps"] {
		stepRefs = nil
	}
	if shadow["params"] {
		paramRefs = nil
	}
	if shadow["outputs"] {
		outputRefs = nil
	}
	return stepRefs, paramRefs, outputRefs
}

// Scope is what expressions see during an execution.
type Scope struct {
	Params map[string]any
	// Steps by name: {"outputs": {...}, "status": "...", "error": "..."}.
	Steps     map[string]any
	Target    map[string]any
	OpsItem   map[string]any
	Execution map[string]any
	// Probe is set in a wait_for condition.
	Probe map[string]any
	// Outputs are the runbook's outputs, in a verify condition.
	Outputs map[string]any
}

func (s *Scope) activation() map[string]any {
	nz := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	return map[string]any{
		"params": nz(s.Params), "steps": nz(s.Steps), "target": nz(s.Target),
		"opsitem": nz(s.OpsItem), "execution": nz(s.Execution), "probe": nz(s.Probe), "outputs": nz(s.Outputs),
	}
}

// Eval evaluates e in s and returns a plain Go value (nil, bool, int64,
// float64, string, []any, map[string]any).
func (e *Expr) Eval(ctx context.Context, s *Scope) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("evaluation failed: %v", p)
		}
	}()
	out, _, err := e.prg.ContextEval(ctx, s.activation())
	if err != nil {
		return nil, err
	}
	return native(out)
}

// EvalBool evaluates a condition.
func (e *Expr) EvalBool(ctx context.Context, s *Scope) (bool, error) {
	v, err := e.Eval(ctx, s)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("returned %T, not a bool", v)
	}
	return b, nil
}

// native converts a CEL value to plain Go data that marshals as JSON.
func native(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		if uint64(v) > math.MaxInt64 {
			return float64(v), nil
		}
		return int64(v), nil
	case types.Double:
		return float64(v), nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return string(v), nil
	case types.Duration:
		return v.Duration.String(), nil
	case types.Timestamp:
		return v.Time.UTC().Format(time.RFC3339Nano), nil
	case *types.Optional:
		if !v.HasValue() {
			return nil, nil
		}
		return native(v.GetValue())
	case traits.Mapper:
		out := map[string]any{}
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is %s, not a string", k, k.Type().TypeName())
			}
			ev, err := native(v.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = ev
		}
		return out, nil
	case traits.Lister:
		var out []any
		it := v.Iterator()
		for it.HasNext() == types.True {
			ev, err := native(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	case *types.Err:
		return nil, v
	}
	// Anything else (a proto value): through its JSON form.
	j, err := v.ConvertToNative(reflect.TypeFor[json.RawMessage]())
	if err == nil {
		var out any
		if raw, ok := j.(json.RawMessage); ok && json.Unmarshal(raw, &out) == nil {
			return Normalize(out), nil
		}
	}
	return nil, fmt.Errorf("cannot use a CEL %s value here", v.Type().TypeName())
}

// Normalize makes JSON-decoded data fit for expressions: integral numbers
// become int64 (JSON has only float64, and CEL does not add an int to a
// double), json.Number is resolved, maps and lists are walked.
func Normalize(v any) any {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
		return v
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case float32:
		return Normalize(float64(v))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = Normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = Normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = e
		}
		return out
	}
	return v
}
