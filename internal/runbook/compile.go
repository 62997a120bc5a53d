package runbook

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

// Runbook is a compiled, validated runbook: every expression compiled, every
// jump resolved to a step index. It is immutable and shared by executions.
type Runbook struct {
	Name        string
	Tenant      string // "" for every tenant
	Description string
	Origin      content.Origin

	Version         int
	EstimateMinutes int
	Params          []Param
	Targets         TargetSpec
	MaxConcurrency  Limit
	MaxErrors       Limit
	Outputs         map[string]*Expr
	// Verify is nil when the runbook declares no verification.
	Verify *Verify
	Steps  []*Step
	Tests  []TestSpec

	index map[string]int
}

// Verify is a compiled verification (see VerifySpec).
type Verify struct {
	Condition *Expr
	Message   string
}

// Verified evaluates the verification in s, whose Outputs hold the
// runbook's outputs. It returns true when the runbook declares none; when
// the condition is false or fails, the reason why the run is ineffective.
func (rb *Runbook) Verified(ctx context.Context, s *Scope) (bool, string) {
	if rb.Verify == nil {
		return true, ""
	}
	ok, err := rb.Verify.Condition.EvalBool(ctx, s)
	switch {
	case err != nil:
		return false, fmt.Sprintf("verification %s could not be evaluated: %v", rb.Verify.Condition, err)
	case ok:
		return true, ""
	case rb.Verify.Message != "":
		return false, "not verified: " + rb.Verify.Message
	}
	return false, "not verified: " + rb.Verify.Condition.String() + " is false"
}

// Step is a compiled step.
type Step struct {
	Index  int
	Name   string
	Action string
	// With is the compiled inputs of an I/O action (nil for control
	// actions, whose inputs are in Control).
	With       *Value
	Timeout    time.Duration
	Retry      Retry
	OnFailure  OnFailure
	Idempotent bool
	When       *Expr
	PerTarget  bool
	// Control is *Sleep, *WaitFor, *Approve, *Branch, *Assert, *Collect,
	// *Nested or *OpsItemUpdate for control actions.
	Control any
	// Source is the step as written, for display.
	Source StepSpec
}

// Retry is a step's retry policy.
type Retry struct {
	Max        int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Delay is the wait before attempt n+1 after attempt n (n from 1) failed.
func (r Retry) Delay(n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// OnFailure is what a failed step does to the execution.
type OnFailure struct {
	// Kind is abort, continue or goto.
	Kind string
	// Goto is the step index for goto.
	Goto int
}

// Failure policies.
const (
	FailAbort    = "abort"
	FailContinue = "continue"
	FailGoto     = "goto"
)

// Step limits and defaults.
const (
	DefaultTimeout    = 10 * time.Minute
	MaxTimeout        = 24 * time.Hour
	MaxRetries        = 20
	DefaultBackoff    = 5 * time.Second
	DefaultMaxBackoff = 5 * time.Minute
	MaxSteps          = 200
)

// Step returns the step named name.
func (rb *Runbook) Step(name string) (*Step, bool) {
	i, ok := rb.index[name]
	if !ok {
		return nil, false
	}
	return rb.Steps[i], true
}

// Summary is how lists show a runbook.
type Summary struct {
	Name            string  `json:"name"`
	Description     string  `json:"description,omitempty"`
	Version         int     `json:"version"`
	EstimateMinutes int     `json:"estimate_minutes,omitempty"`
	Parameters      []Param `json:"parameters"`
	Steps           int     `json:"steps"`
	Origin          string  `json:"origin"`
}

// Summary returns rb's summary.
func (rb *Runbook) Summary() Summary {
	return Summary{Name: rb.Name, Description: rb.Description, Version: rb.Version, EstimateMinutes: rb.EstimateMinutes,
		Parameters: append([]Param{}, rb.Params...), Steps: len(rb.Steps), Origin: rb.Origin.String()}
}

// ActionLookup finds an I/O action by name. It may return (nil, true) for
// an action that exists but whose inputs cannot be checked here.
type ActionLookup func(name string) (action.Action, bool)

// ActionNames returns a lookup that knows names without implementations,
// for validating content where the actions themselves are not built.
func ActionNames(names ...string) ActionLookup {
	return func(name string) (action.Action, bool) { return nil, slices.Contains(names, name) }
}

// Kind returns the Runbook content kind. actions validates `action:`
// names and I/O inputs; nil accepts any I/O action name.
func Kind(actions ActionLookup) content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      KindName,
		New:       func() any { return new(Spec) },
		Validate: func(spec any) error {
			s := spec.(*Spec)
			rb, err := Compile(s, actions)
			if err != nil {
				return err
			}
			s.compiled = rb
			return nil
		},
	}
}

// FromItem returns the compiled runbook of a loaded content item.
func FromItem(it content.Item, actions ActionLookup) (*Runbook, error) {
	s, ok := it.Spec.(*Spec)
	if !ok {
		return nil, fmt.Errorf("content item %s %q is not a runbook", it.Kind, it.Name)
	}
	rb := s.compiled
	if rb == nil {
		var err error
		if rb, err = Compile(s, actions); err != nil {
			return nil, err
		}
	}
	cp := *rb
	cp.Name, cp.Tenant, cp.Origin = it.Name, it.Tenant, it.Origin
	cp.Description = it.Description
	if s.Description != "" {
		cp.Description = s.Description
	}
	return &cp, nil
}

type compiler struct {
	spec    *Spec
	actions ActionLookup
	index   map[string]int
	params  map[string]bool
}

var stepNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Compile validates s and compiles it. Errors are *content.FieldError
// values joined, each naming its field ("steps[2].with.that").
func Compile(s *Spec, actions ActionLookup) (*Runbook, error) {
	c := &compiler{spec: s, actions: actions, index: map[string]int{}, params: map[string]bool{}}
	rb := &Runbook{Version: s.Version, EstimateMinutes: s.EstimateMinutes, Description: s.Description,
		Targets: s.Targets, Tests: s.Tests, Outputs: map[string]*Expr{}}
	var errs []error
	if s.Version < 0 {
		errs = append(errs, fieldErrf("version", "%d is negative", s.Version))
	}
	if s.EstimateMinutes < 0 {
		errs = append(errs, fieldErrf("estimate_minutes", "%d is negative", s.EstimateMinutes))
	}
	for i, ps := range s.Parameters {
		path := fmt.Sprintf("parameters[%d]", i)
		p, perrs := compileParam(ps, path)
		errs = append(errs, perrs...)
		if c.params[ps.Name] {
			errs = append(errs, fieldErrf(path+".name", "parameter %q is declared twice", ps.Name))
		}
		c.params[ps.Name] = true
		rb.Params = append(rb.Params, p)
	}
	errs = append(errs, checkTargets(s.Targets)...)
	var err error
	if rb.MaxConcurrency, err = ParseLimit(s.MaxConcurrency, DefaultMaxConcurrency, false); err != nil {
		errs = append(errs, fieldErr("max_concurrency", err))
	}
	if rb.MaxErrors, err = ParseLimit(s.MaxErrors, Limit{}, true); err != nil {
		errs = append(errs, fieldErr("max_errors", err))
	}

	if len(s.Steps) == 0 {
		errs = append(errs, fieldErrf("steps", "a runbook needs at least one step"))
	}
	if len(s.Steps) > MaxSteps {
		errs = append(errs, fieldErrf("steps", "%d steps; the limit is %d", len(s.Steps), MaxSteps))
	}
	for i, ss := range s.Steps {
		path := fmt.Sprintf("steps[%d].name", i)
		switch {
		case ss.Name == "":
			errs = append(errs, fieldErrf(path, "is required"))
		case ss.Name == End:
			errs = append(errs, fieldErrf(path, "%q is reserved (goto: end finishes the execution)", End))
		case !stepNameRE.MatchString(ss.Name):
			errs = append(errs, fieldErrf(path, "%q is not a valid step name (letters, digits and _, not starting with a digit; expressions use it as steps.<name>)", ss.Name))
		default:
			if j, dup := c.index[ss.Name]; dup {
				errs = append(errs, fieldErrf(path, "step name %q is already used by steps[%d]", ss.Name, j))
				continue
			}
			c.index[ss.Name] = i
		}
	}
	rb.index = c.index
	for i, ss := range s.Steps {
		st, serrs := c.compileStep(i, ss)
		errs = append(errs, serrs...)
		rb.Steps = append(rb.Steps, st)
	}
	for _, name := range sortedKeys(s.Outputs) {
		path := "outputs." + name
		if !paramNameRE.MatchString(name) {
			errs = append(errs, fieldErrf(path, "%q is not a valid output name", name))
		}
		e, err := compileExpr(s.Outputs[name], anyValue, false)
		if err != nil {
			errs = append(errs, fieldErr(path, err))
			continue
		}
		errs = append(errs, c.checkRefs(e, path)...)
		rb.Outputs[name] = e
	}
	if v := s.Verify; v != nil {
		e, err := compileExprIn(v.Condition, boolValue, verifyEnv)
		switch {
		case strings.TrimSpace(v.Condition) == "":
			errs = append(errs, fieldErrf("verify.condition", "is required"))
		case err != nil:
			errs = append(errs, fieldErr("verify.condition", err))
		default:
			errs = append(errs, c.checkRefs(e, "verify.condition")...)
			for _, o := range e.outputRefs {
				if _, ok := s.Outputs[o]; !ok {
					errs = append(errs, fieldErrf("verify.condition", "reads outputs.%s, which the runbook does not declare", o))
				}
			}
			rb.Verify = &Verify{Condition: e, Message: v.Message}
		}
	}
	errs = append(errs, c.checkTests(rb)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rb, nil
}

func checkTargets(t TargetSpec) []error {
	var errs []error
	set := 0
	for _, b := range []bool{len(t.Resources) > 0, len(t.Tags) > 0, t.Group != "", t.From != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		errs = append(errs, fieldErrf("targets", "set one of resources, tags, group or from"))
	}
	if t.From != "" && t.From != "opsitem" {
		errs = append(errs, fieldErrf("targets.from", "%q is not a target source (opsitem)", t.From))
	}
	for i, r := range t.Resources {
		if strings.TrimSpace(r) == "" {
			errs = append(errs, fieldErrf(fmt.Sprintf("targets.resources[%d]", i), "is empty"))
		}
	}
	return errs
}

func (c *compiler) compileStep(i int, ss StepSpec) (*Step, []error) {
	path := fmt.Sprintf("steps[%d]", i)
	st := &Step{Index: i, Name: ss.Name, Action: ss.Action, Timeout: ss.Timeout, Source: ss}
	var errs []error
	control := IsControl(ss.Action)
	switch {
	case ss.Action == "":
		errs = append(errs, fieldErrf(path+".action", "is required"))
	case control:
		errs = append(errs, c.compileControl(st, ss.With, path)...)
	default:
		if err := c.checkIO(ss.Action, ss.With, path); err != nil {
			errs = append(errs, err)
		}
		st.With = compileValue(nonNilMap(ss.With), path+".with", &errs)
	}
	switch {
	case ss.Timeout == 0:
		st.Timeout = DefaultTimeout
	case ss.Timeout < time.Second:
		errs = append(errs, fieldErrf(path+".timeout", "%s is under a second (write a unit: 30s, 5m)", ss.Timeout))
	case ss.Timeout > MaxTimeout:
		errs = append(errs, fieldErrf(path+".timeout", "%s is longer than the %s limit", ss.Timeout, MaxTimeout))
	}
	r := ss.Retries
	st.Retry = Retry{Max: r.Max, Backoff: r.Backoff, MaxBackoff: r.MaxBackoff}
	if r.Max < 0 || r.Max > MaxRetries {
		errs = append(errs, fieldErrf(path+".retries.max", "%d is out of range 0..%d", r.Max, MaxRetries))
	}
	if r.Backoff < 0 || r.MaxBackoff < 0 {
		errs = append(errs, fieldErrf(path+".retries", "backoff must not be negative"))
	}
	if st.Retry.Backoff == 0 {
		st.Retry.Backoff = DefaultBackoff
	}
	if st.Retry.MaxBackoff == 0 {
		st.Retry.MaxBackoff = max(DefaultMaxBackoff, st.Retry.Backoff)
	}
	if st.Retry.MaxBackoff < st.Retry.Backoff {
		errs = append(errs, fieldErrf(path+".retries.max_backoff", "%s is shorter than backoff %s", st.Retry.MaxBackoff, st.Retry.Backoff))
	}
	if control && r.Max > 0 && ss.Action != ActionWaitFor && ss.Action != ActionRunbook {
		errs = append(errs, fieldErrf(path+".retries", "%s steps are not retried", ss.Action))
	}

	st.OnFailure = OnFailure{Kind: FailAbort}
	switch of := ss.OnFailure; {
	case of == "" || of == FailAbort:
	case of == FailContinue:
		st.OnFailure.Kind = FailContinue
	case strings.HasPrefix(of, "goto:"):
		st.OnFailure.Kind = FailGoto
		st.OnFailure.Goto = c.jump(strings.TrimSpace(strings.TrimPrefix(of, "goto:")), path+".on_failure", st, &errs)
	default:
		errs = append(errs, fieldErrf(path+".on_failure", "%q is not abort, continue or goto:<step>", of))
	}

	st.PerTarget = ss.Action == ActionExec
	if ss.PerTarget != nil {
		if *ss.PerTarget && control {
			errs = append(errs, fieldErrf(path+".per_target", "%s steps run once, not per target", ss.Action))
		}
		st.PerTarget = *ss.PerTarget
	}
	// Control steps commit their effect with the step's result, or wait
	// without side effects: running them again is safe.
	st.Idempotent = control
	if ss.Idempotent != nil {
		st.Idempotent = *ss.Idempotent
	}
	if ss.When != "" {
		e, err := compileExpr(ss.When, boolValue, false)
		if err != nil {
			errs = append(errs, fieldErr(path+".when", err))
		} else {
			errs = append(errs, c.checkRefs(e, path+".when")...)
		}
		st.When = e
	}
	for _, e := range c.stepExprs(st) {
		errs = append(errs, c.checkRefs(e, path+".with")...)
	}
	return st, errs
}

// stepExprs lists the expressions of a step's inputs.
func (c *compiler) stepExprs(st *Step) []*Expr {
	out := st.With.exprs()
	switch ctl := st.Control.(type) {
	case *Sleep:
		out = append(out, ctl.Duration.exprs()...)
	case *WaitFor:
		out = append(out, ctl.ProbeWith.exprs()...)
		if ctl.Condition != nil {
			out = append(out, ctl.Condition)
		}
	case *Approve:
		out = append(out, ctl.Message.exprs()...)
	case *Branch:
		for _, cs := range ctl.Cases {
			if cs.When != nil {
				out = append(out, cs.When)
			}
		}
	case *Assert:
		out = append(out, ctl.Message.exprs()...)
		if ctl.That != nil {
			out = append(out, ctl.That)
		}
	case *Collect:
		if ctl.Value != nil {
			out = append(out, ctl.Value)
		}
	case *Nested:
		out = append(out, ctl.Parameters.exprs()...)
	case *OpsItemUpdate:
		out = append(out, ctl.Note.exprs()...)
		out = append(out, ctl.Severity.exprs()...)
	}
	return out
}

// checkRefs reports steps.<name> and params.<name> that name nothing.
func (c *compiler) checkRefs(e *Expr, path string) []error {
	if e == nil {
		return nil
	}
	var errs []error
	for _, s := range e.stepRefs {
		if _, ok := c.index[s]; !ok {
			errs = append(errs, fieldErrf(path, "steps.%s: there is no step %q%s", s, s, hint(s, sortedKeys(c.index))))
		}
	}
	for _, p := range e.paramRefs {
		if !c.params[p] {
			errs = append(errs, fieldErrf(path, "params.%s: there is no parameter %q%s", p, p, hint(p, sortedKeys(c.params))))
		}
	}
	return errs
}

func hint(s string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, s) || (len(n) > 3 && levenshtein(n, s) <= 2) {
			return fmt.Sprintf("; did you mean %q?", n)
		}
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// jump resolves a goto target: a step name, or "end".
func (c *compiler) jump(target, path string, from *Step, errs *[]error) int {
	switch target {
	case "":
		*errs = append(*errs, fieldErrf(path, "needs a step to go to"))
		return Next
	case End:
		return Finish
	}
	i, ok := c.index[target]
	if !ok {
		*errs = append(*errs, fieldErrf(path, "there is no step %q to go to%s", target, hint(target, sortedKeys(c.index))))
		return Next
	}
	if i == from.Index {
		*errs = append(*errs, fieldErrf(path, "step %q cannot go to itself", target))
	}
	return i
}

// checkIO checks an I/O action's name and, when the action is available,
// its inputs.
func (c *compiler) checkIO(name string, with map[string]any, path string) error {
	if c.actions == nil {
		return nil
	}
	a, ok := c.actions(name)
	if !ok {
		return fieldErrf(path+".action", "unknown action %q (control actions: %s)", name, strings.Join(ControlActions, ", "))
	}
	if a == nil {
		return nil
	}
	if err := a.Validate(nonNilMap(with)); err != nil {
		var fe *content.FieldError
		if errors.As(err, &fe) {
			return fieldErr(path+".with."+fe.Field, fe.Err)
		}
		return fieldErr(path+".with", err)
	}
	return nil
}

func (c *compiler) checkTests(rb *Runbook) []error {
	var errs []error
	names := map[string]bool{}
	for i, t := range c.spec.Tests {
		path := fmt.Sprintf("tests[%d]", i)
		if t.Name == "" {
			errs = append(errs, fieldErrf(path+".name", "is required"))
		} else if names[t.Name] {
			errs = append(errs, fieldErrf(path+".name", "test %q is defined twice", t.Name))
		}
		names[t.Name] = true
		if len(errs) == 0 {
			if _, err := rb.ResolveParams(t.Parameters); err != nil {
				errs = append(errs, fieldErr(path+".parameters", err))
			}
		}
		for _, m := range sortedKeys(t.Mocks) {
			if _, ok := c.index[m]; !ok {
				errs = append(errs, fieldErrf(path+".mocks."+m, "there is no step %q", m))
			}
		}
		for j, s := range t.Expect.StepsRun {
			if _, ok := c.index[s]; !ok {
				errs = append(errs, fieldErrf(path+".expect.steps_run["+strconv.Itoa(j)+"]", "there is no step %q", s))
			}
		}
		for _, o := range sortedKeys(t.Expect.Outputs) {
			if _, ok := c.spec.Outputs[o]; !ok {
				errs = append(errs, fieldErrf(path+".expect.outputs."+o, "the runbook has no output %q", o))
			}
		}
		if st := t.Expect.Status; st != "" && !slices.Contains(TerminalStatuses, st) {
			errs = append(errs, fieldErrf(path+".expect.status", "%q is not a final status (%s)", st, strings.Join(TerminalStatuses, ", ")))
		}
	}
	return errs
}

func fieldErrf(path, format string, args ...any) error {
	return content.FieldErrorf(path, format, args...)
}

func fieldErr(path string, err error) error { return &content.FieldError{Field: path, Err: err} }

// UsesAction reports whether a step of rb runs the I/O action name ("aws"),
// e.g. so an approval can say whether AWS is ready.
func (rb *Runbook) UsesAction(name string) bool {
	for _, st := range rb.Steps {
		if st.Action == name {
			return true
		}
	}
	return false
}
