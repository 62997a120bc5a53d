package runbook

import "time"

// KindName is the content kind of runbooks.
const KindName = "Runbook"

// Spec is a Runbook document's spec, as written. docs/runbooks.md describes
// every field for users; Compile turns a Spec into a Runbook.
type Spec struct {
	// Version is the document's version, raised on every change; an
	// execution records the version it ran.
	Version int `yaml:"version"`
	// Description says what the runbook fixes, for people picking one.
	Description string `yaml:"description"`
	// Parameters are the typed inputs.
	Parameters []ParamSpec `yaml:"parameters"`
	// Targets is the default targeting; a start request may override it.
	Targets TargetSpec `yaml:"targets"`
	// MaxConcurrency bounds how many targets a per-target step runs on at
	// once: "10" or "10%" of the targets (default 10).
	MaxConcurrency string `yaml:"max_concurrency"`
	// MaxErrors is how many failed targets a per-target step tolerates:
	// "0" (the default) stops at the first, "10%" at the tenth of them.
	MaxErrors string `yaml:"max_errors"`
	// EstimateMinutes is how long one manual run takes a person; the
	// flywheel metrics count it as time saved per automated run.
	EstimateMinutes int `yaml:"estimate_minutes"`
	// Outputs are CEL expressions evaluated when the execution succeeds.
	Outputs map[string]string `yaml:"outputs"`
	// Verify says how a run proves its effect: a condition over the
	// outputs, checked when every step has run. False ends the execution
	// as ineffective instead of succeeded.
	Verify *VerifySpec `yaml:"verify"`
	Steps  []StepSpec  `yaml:"steps"`
	// Tests run offline (`flywheel content test`).
	Tests []TestSpec `yaml:"tests"`

	// compiled is set by the kind's Validate, so content loads compile
	// each runbook once.
	compiled *Runbook
}

// VerifySpec is a runbook's verification. The re-check itself is a step
// (a measure after the fix, a wait then a probe); Condition reads its
// result, usually through an output.
type VerifySpec struct {
	// Condition is a CEL bool over outputs, params, steps, opsitem and
	// execution; true means the fix took.
	Condition string `yaml:"condition"`
	// Message says what was not fixed, for the OpsItem (default: the
	// condition's source).
	Message string `yaml:"message"`
}

// ParamSpec declares one parameter.
type ParamSpec struct {
	Name        string    `yaml:"name"`
	Type        ParamType `yaml:"type"`
	Description string    `yaml:"description"`
	Default     any       `yaml:"default"`
	Required    bool      `yaml:"required"`
	// Allowed lists the only values accepted.
	Allowed []any `yaml:"allowed"`
	// Pattern is a regular expression a string value must match (whole).
	Pattern string `yaml:"pattern"`
	// Secret marks a value never shown: executions' views read Redacted.
	Secret bool `yaml:"secret"`
}

// ParamType is a parameter's type.
type ParamType string

// Parameter types.
const (
	TypeString   ParamType = "string"
	TypeInt      ParamType = "int"
	TypeNumber   ParamType = "number"
	TypeBool     ParamType = "bool"
	TypeDuration ParamType = "duration"
	TypeList     ParamType = "list"
	TypeMap      ParamType = "map"
)

// ParamTypes lists every type.
var ParamTypes = []ParamType{TypeString, TypeInt, TypeNumber, TypeBool, TypeDuration, TypeList, TypeMap}

// TargetSpec selects targets. At most one of its fields is set.
type TargetSpec struct {
	// Resources are inventory resource IDs.
	Resources []string `yaml:"resources" json:"resources,omitempty"`
	// Tags select resources carrying all of them.
	Tags map[string]string `yaml:"tags" json:"tags,omitempty"`
	// Group names a resource group (an application).
	Group string `yaml:"group" json:"group,omitempty"`
	// From "opsitem" takes the OpsItem's related resources.
	From string `yaml:"from" json:"from,omitempty"`
}

// IsZero reports whether no targeting is set.
func (t TargetSpec) IsZero() bool {
	return len(t.Resources) == 0 && len(t.Tags) == 0 && t.Group == "" && t.From == ""
}

// StepSpec is one step.
type StepSpec struct {
	// Name is unique within the runbook; expressions use it
	// (steps.<name>.outputs).
	Name string `yaml:"name"`
	// Action is an I/O action from the action registry (exec, http, …) or
	// a control action the executor runs itself (sleep, wait_for, approve,
	// branch, assert, collect, runbook, opsitem).
	Action string `yaml:"action"`
	// With are the action's inputs; strings may embed ${{ expressions }}.
	With map[string]any `yaml:"with"`
	// Timeout bounds one attempt (default 10m).
	Timeout time.Duration `yaml:"timeout"`
	Retries RetrySpec     `yaml:"retries"`
	// OnFailure is abort (default), continue, or goto:<step>.
	OnFailure string `yaml:"on_failure"`
	// Idempotent says the step may run again after a crash interrupted it;
	// a step that is not is never run twice.
	Idempotent *bool `yaml:"idempotent"`
	// When is a CEL bool; false skips the step.
	When string `yaml:"when"`
	// PerTarget runs the step once per target (default true for exec).
	PerTarget *bool `yaml:"per_target"`
}

// RetrySpec is a step's retry policy: Max more attempts after the first,
// waiting Backoff, doubling up to MaxBackoff.
type RetrySpec struct {
	Max        int           `yaml:"max"`
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// TestSpec is an offline test of the runbook: the I/O steps are replaced
// by Mocks, control steps run as they would, and Expect is checked.
type TestSpec struct {
	Name       string         `yaml:"name"`
	Parameters map[string]any `yaml:"parameters"`
	// OpsItem is what `opsitem` holds in expressions.
	OpsItem map[string]any `yaml:"opsitem"`
	// Targets are target IDs (default: none, or the runbook's resources).
	Targets []string `yaml:"targets"`
	// Mocks give each I/O step's result by step name; a step without one
	// succeeds with no outputs.
	Mocks  map[string]MockSpec `yaml:"mocks"`
	Expect ExpectSpec          `yaml:"expect"`
}

// MockSpec is a mocked I/O step result.
type MockSpec struct {
	Outputs map[string]any `yaml:"outputs"`
	// Fail, when set, fails the step with this message.
	Fail string `yaml:"fail"`
}

// ExpectSpec is what a test asserts.
type ExpectSpec struct {
	// Status is the execution's final status (default succeeded).
	Status string `yaml:"status"`
	// StepsRun are the steps that ran (not skipped), in order.
	StepsRun []string `yaml:"steps_run"`
	// Outputs are runbook outputs that must equal these values.
	Outputs map[string]any `yaml:"outputs"`
}
