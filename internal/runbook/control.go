package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Control actions are run by the executor itself: they pause, redirect or
// check the execution, or write to Flywheel's own records, rather than do
// I/O somewhere else.
const (
	ActionSleep   = "sleep"
	ActionWaitFor = "wait_for"
	ActionApprove = "approve"
	ActionBranch  = "branch"
	ActionAssert  = "assert"
	ActionCollect = "collect"
	ActionRunbook = "runbook"
	ActionOpsItem = "opsitem"
)

// ControlActions lists the control actions.
var ControlActions = []string{ActionSleep, ActionWaitFor, ActionApprove, ActionBranch, ActionAssert, ActionCollect, ActionRunbook, ActionOpsItem}

// IsControl reports whether name is a control action.
func IsControl(name string) bool { return slices.Contains(ControlActions, name) }

// End is the goto target that ends the execution successfully.
const End = "end"

// Sleep waits, durably: the worker is freed and the execution resumes when
// the time is up.
type Sleep struct {
	// Duration renders to a Go duration string.
	Duration *Value
}

// WaitFor runs a probe every Interval until Condition holds over its
// outputs (probe.outputs.<key>), failing after Timeout.
type WaitFor struct {
	Condition *Expr
	Probe     string // I/O action name
	ProbeWith *Value
	Interval  time.Duration
	Timeout   time.Duration
}

// Approve pauses the execution until MinApprovals distinct approvers
// allowed by Approvers approve, any of them denies, or Timeout passes.
type Approve struct {
	// Approvers are roles ("operator" means operator or admin), token
	// IDs ("token:tok_…") or token names ("name:oncall-lead").
	Approvers    []string
	MinApprovals int
	Timeout      time.Duration
	Message      *Value
}

// ValidApprover reports whether who names approvers: a role (viewer,
// operator, admin), a token ID (token:<id>) or a token name (name:<name>).
func ValidApprover(who string) bool {
	return store.Role(who).Rank() > 0 || strings.HasPrefix(who, "token:") || strings.HasPrefix(who, "tok_") ||
		(strings.HasPrefix(who, "name:") && len(who) > len("name:"))
}

// ApproverProblem says why who is not a valid approver.
func ApproverProblem(who string) string {
	return fmt.Sprintf("%q is neither a role (viewer, operator, admin) nor a token (token:<id>, name:<token name>)", who)
}

// Allows reports whether a caller with this actor and role may decide.
func (a *Approve) Allows(actor string, role store.Role) bool {
	for _, who := range a.Approvers {
		if r := store.Role(who); r.Rank() > 0 {
			if role.Rank() >= r.Rank() {
				return true
			}
			continue
		}
		if who == actor || "token:"+who == actor {
			return true
		}
	}
	return false
}

// Branch jumps to the first case whose When holds, else to Default.
type Branch struct {
	Cases []BranchCase
	// Default is the step index to go to; Next means the following step.
	Default int
	// DefaultName is Default as written ("" for the next step).
	DefaultName string
}

// BranchCase is one branch.
type BranchCase struct {
	When *Expr
	Goto int
	// Target is Goto as written: a step name or "end".
	Target string
}

// Jump targets besides step indexes.
const (
	// Next continues with the following step.
	Next = -1
	// Finish ends the execution successfully.
	Finish = -2
)

// Assert fails the step unless That holds.
type Assert struct {
	That    *Expr
	Message *Value
}

// Collect attaches a value to the OpsItem's operational data under Name.
type Collect struct {
	Name  string
	Value *Expr
}

// Nested runs another runbook and waits for it; its outputs become the
// step's outputs.
type Nested struct {
	Runbook    string
	Parameters *Value
}

// OpsItemUpdate changes the execution's OpsItem.
type OpsItemUpdate struct {
	Status string
	// Severity, when set, renders to the severity the OpsItem takes
	// (critical, high, medium, low, info); "" leaves it.
	Severity *Value
	Note     *Value
	Resolve  bool
}

// RenderSeverity renders Severity: "" for no change, else a valid severity.
func (u *OpsItemUpdate) RenderSeverity(ctx context.Context, s *Scope) (string, error) {
	if u.Severity == nil {
		return "", nil
	}
	v, err := u.Severity.Render(ctx, s)
	if err != nil {
		return "", err
	}
	sev, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("severity: %T is not a string", v)
	}
	if sev == "" {
		return "", nil
	}
	if err := opsitem.ValidSeverity(sev); err != nil {
		return "", err
	}
	return sev, nil
}

// Raw shapes of the control actions' `with`.
type (
	sleepWith struct {
		Duration string `json:"duration"`
	}
	waitForWith struct {
		Condition string `json:"condition"`
		Probe     struct {
			Action string         `json:"action"`
			With   map[string]any `json:"with"`
		} `json:"probe"`
		Interval string `json:"interval"`
		Timeout  string `json:"timeout"`
	}
	approveWith struct {
		Approvers    []string `json:"approvers"`
		MinApprovals int      `json:"min_approvals"`
		Timeout      string   `json:"timeout"`
		Message      string   `json:"message"`
	}
	branchWith struct {
		Cases []struct {
			When string `json:"when"`
			Goto string `json:"goto"`
		} `json:"cases"`
		Default string `json:"default"`
	}
	assertWith struct {
		That    string `json:"that"`
		Message string `json:"message"`
	}
	collectWith struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	runbookWith struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters"`
	}
	opsItemWith struct {
		Status   string `json:"status"`
		Severity string `json:"severity"`
		Note     string `json:"note"`
		Resolve  bool   `json:"resolve"`
	}
)

// Control-action defaults and bounds.
const (
	DefaultApprovalTimeout = 24 * time.Hour
	MaxApprovalTimeout     = 30 * 24 * time.Hour
	DefaultWaitInterval    = 10 * time.Second
	DefaultWaitTimeout     = 10 * time.Minute
	MaxSleep               = 7 * 24 * time.Hour
)

// decodeWith decodes a step's with into a raw shape strictly.
func decodeWith(with map[string]any, into any, path string) error {
	if with == nil {
		with = map[string]any{}
	}
	b, err := json.Marshal(with)
	if err != nil {
		return fieldErrf(path, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(into)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fieldErrf(joinPath(path, te.Field), "is %s, want %s", te.Value, te.Type)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return fieldErrf(joinPath(path, f), "unknown field %q", f)
	}
	return fieldErrf(path, "%v", err)
}

// durationField parses an optional duration; zero when empty.
func durationField(s, path string, errs *[]error) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		*errs = append(*errs, fieldErrf(path, "%q is not a positive duration (e.g. 30s, 5m, 1h)", s))
		return 0
	}
	return d
}

// compileControl compiles a control step's with. resolve maps a goto
// target to a step index; known reports whether an I/O action exists.
func (c *compiler) compileControl(st *Step, with map[string]any, path string) []error {
	var errs []error
	wp := path + ".with"
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch st.Action {
	case ActionSleep:
		var w sleepWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		if w.Duration == "" {
			return []error{fieldErrf(wp+".duration", "is required")}
		}
		v := compileValue(w.Duration, wp+".duration", &errs)
		if v.kind == litValue {
			if d := durationField(w.Duration, wp+".duration", &errs); d > MaxSleep {
				errs = append(errs, fieldErrf(wp+".duration", "%s is longer than the %s limit", d, MaxSleep))
			}
		}
		st.Control = &Sleep{Duration: v}
	case ActionWaitFor:
		var w waitForWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		wf := &WaitFor{Probe: w.Probe.Action}
		if w.Condition == "" {
			errs = append(errs, fieldErrf(wp+".condition", "is required"))
		} else {
			e, err := compileExpr(w.Condition, boolValue, true)
			if err != nil {
				errs = append(errs, fieldErr(wp+".condition", err))
			}
			wf.Condition = e
		}
		switch {
		case w.Probe.Action == "":
			errs = append(errs, fieldErrf(wp+".probe.action", "is required"))
		case IsControl(w.Probe.Action):
			errs = append(errs, fieldErrf(wp+".probe.action", "%q is a control action; a probe is an I/O action", w.Probe.Action))
		default:
			add(c.checkIO(w.Probe.Action, w.Probe.With, wp+".probe"))
		}
		wf.ProbeWith = compileValue(nonNilMap(w.Probe.With), wp+".probe.with", &errs)
		wf.Interval = durationField(w.Interval, wp+".interval", &errs)
		wf.Timeout = durationField(w.Timeout, wp+".timeout", &errs)
		if wf.Interval == 0 {
			wf.Interval = DefaultWaitInterval
		}
		if wf.Timeout == 0 {
			wf.Timeout = DefaultWaitTimeout
		}
		if wf.Interval > wf.Timeout {
			errs = append(errs, fieldErrf(wp+".interval", "%s is longer than the timeout %s", wf.Interval, wf.Timeout))
		}
		st.Control = wf
	case ActionApprove:
		var w approveWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		a := &Approve{Approvers: w.Approvers, MinApprovals: w.MinApprovals}
		if len(a.Approvers) == 0 {
			a.Approvers = []string{string(store.RoleOperator)}
		}
		for i, who := range a.Approvers {
			if !ValidApprover(who) {
				errs = append(errs, fieldErrf(fmt.Sprintf("%s.approvers[%d]", wp, i), "%s", ApproverProblem(who)))
			}
		}
		if a.MinApprovals == 0 {
			a.MinApprovals = 1
		}
		if a.MinApprovals < 0 || a.MinApprovals > 20 {
			errs = append(errs, fieldErrf(wp+".min_approvals", "%d is out of range 1..20", a.MinApprovals))
		}
		a.Timeout = durationField(w.Timeout, wp+".timeout", &errs)
		if a.Timeout == 0 {
			a.Timeout = DefaultApprovalTimeout
		}
		if a.Timeout > MaxApprovalTimeout {
			errs = append(errs, fieldErrf(wp+".timeout", "%s is longer than the %s limit", a.Timeout, MaxApprovalTimeout))
		}
		a.Message = compileValue(w.Message, wp+".message", &errs)
		st.Control = a
	case ActionBranch:
		var w branchWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		b := &Branch{Default: Next}
		if len(w.Cases) == 0 {
			errs = append(errs, fieldErrf(wp+".cases", "needs at least one case"))
		}
		for i, cs := range w.Cases {
			cp := fmt.Sprintf("%s.cases[%d]", wp, i)
			var bc BranchCase
			if cs.When == "" {
				errs = append(errs, fieldErrf(cp+".when", "is required"))
			} else {
				e, err := compileExpr(cs.When, boolValue, false)
				if err != nil {
					errs = append(errs, fieldErr(cp+".when", err))
				}
				bc.When = e
			}
			bc.Goto, bc.Target = c.jump(cs.Goto, cp+".goto", st, &errs), cs.Goto
			b.Cases = append(b.Cases, bc)
		}
		if w.Default != "" {
			b.Default, b.DefaultName = c.jump(w.Default, wp+".default", st, &errs), w.Default
		}
		st.Control = b
	case ActionAssert:
		var w assertWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		a := &Assert{}
		if w.That == "" {
			errs = append(errs, fieldErrf(wp+".that", "is required"))
		} else {
			e, err := compileExpr(w.That, boolValue, false)
			if err != nil {
				errs = append(errs, fieldErr(wp+".that", err))
			}
			a.That = e
		}
		a.Message = compileValue(w.Message, wp+".message", &errs)
		st.Control = a
	case ActionCollect:
		var w collectWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		col := &Collect{Name: w.Name}
		if w.Name == "" {
			errs = append(errs, fieldErrf(wp+".name", "is required"))
		} else if !paramNameRE.MatchString(strings.ReplaceAll(w.Name, "-", "_")) {
			errs = append(errs, fieldErrf(wp+".name", "%q is not a valid name (letters, digits, _ and -)", w.Name))
		}
		if w.Value == "" {
			errs = append(errs, fieldErrf(wp+".value", "is required"))
		} else {
			e, err := compileExpr(w.Value, anyValue, false)
			if err != nil {
				errs = append(errs, fieldErr(wp+".value", err))
			}
			col.Value = e
		}
		st.Control = col
	case ActionRunbook:
		var w runbookWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		if w.Name == "" {
			errs = append(errs, fieldErrf(wp+".name", "is required"))
		}
		st.Control = &Nested{Runbook: w.Name, Parameters: compileValue(nonNilMap(w.Parameters), wp+".parameters", &errs)}
	case ActionOpsItem:
		var w opsItemWith
		if err := decodeWith(with, &w, wp); err != nil {
			return []error{err}
		}
		u := &OpsItemUpdate{Status: w.Status, Resolve: w.Resolve}
		if w.Status != "" {
			if err := opsitem.ValidStatus(w.Status); err != nil {
				errs = append(errs, fieldErr(wp+".status", err))
			}
			if w.Resolve && w.Status != opsitem.StatusResolved {
				errs = append(errs, fieldErrf(wp+".status", "%q contradicts resolve: true", w.Status))
			}
		}
		if w.Severity != "" {
			if !strings.Contains(w.Severity, openDelim) {
				if err := opsitem.ValidSeverity(w.Severity); err != nil {
					errs = append(errs, fieldErr(wp+".severity", err))
				}
			}
			u.Severity = compileValue(w.Severity, wp+".severity", &errs)
		}
		if w.Status == "" && !w.Resolve && w.Note == "" && w.Severity == "" {
			errs = append(errs, fieldErrf(wp, "needs status, severity, note or resolve"))
		}
		u.Note = compileValue(w.Note, wp+".note", &errs)
		st.Control = u
	}
	return errs
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
