package runbook

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

// TestResult is the outcome of one offline test of a runbook.
type TestResult struct {
	Name   string
	Status string
	// StepsRun are the steps that ran (succeeded or failed), in order.
	StepsRun []string
	Outputs  map[string]any
	// Problems are the differences from the test's expectations; none
	// means it passed.
	Problems []string
}

// Passed reports whether the test met its expectations.
func (r TestResult) Passed() bool { return len(r.Problems) == 0 }

// TestCreatedAt is execution.created_at in offline tests: a fixed time,
// so a test's expected outputs do not depend on the day it runs.
const TestCreatedAt = "2026-01-01T00:00:00Z"

// maxTestVisits bounds a test run's steps (goto loops).
const maxTestVisits = 1000

// RunTests runs every test of the runbook.
func (rb *Runbook) RunTests(ctx context.Context) []TestResult {
	out := make([]TestResult, len(rb.Tests))
	for i, tc := range rb.Tests {
		out[i] = rb.RunTest(ctx, tc)
	}
	return out
}

// RunTest runs the runbook offline, for `flywheel content test`: I/O steps
// (and nested runbooks, and wait_for probes) return their mocks, approvals
// are granted (a mock with fail denies), sleeps end at once, and control
// steps run as the executor runs them — branches, asserts, when, on_failure
// and outputs included. It then compares the outcome with tc.Expect.
func (rb *Runbook) RunTest(ctx context.Context, tc TestSpec) TestResult {
	res := TestResult{Name: tc.Name}
	params, err := rb.ResolveParams(tc.Parameters)
	if err != nil {
		res.Status, res.Problems = StatusFailed, []string{err.Error()}
		return res
	}
	item, _ := Normalize(tc.OpsItem).(map[string]any)
	targets := rb.testTargets(tc, item)
	ids := make([]any, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	s := &Scope{Params: params, OpsItem: item, Steps: map[string]any{},
		Execution: map[string]any{"id": "test", "runbook": rb.Name, "version": int64(rb.Version), "started_by": "test",
			"rule": "", "mode": string(ModeAuto), "dry_run": false, "opsitem_id": opsItemID(item), "targets": ids, "parent_id": "",
			"created_at": TestCreatedAt}}
	for _, st := range rb.Steps {
		s.Steps[st.Name] = map[string]any{"status": StatusPending, "outputs": map[string]any{}, "error": ""}
	}
	res.Status = rb.simulate(ctx, tc, s, targets, &res)
	if res.Status == StatusSucceeded {
		res.Outputs = map[string]any{}
		for _, name := range sortedKeys(rb.Outputs) {
			v, err := rb.Outputs[name].Eval(ctx, s)
			if err != nil {
				res.Status = StatusFailed
				res.Problems = append(res.Problems, fmt.Sprintf("output %s: %v", name, err))
				break
			}
			res.Outputs[name] = v
		}
	}
	if res.Status == StatusSucceeded {
		s.Outputs = res.Outputs
		if ok, why := rb.Verified(ctx, s); !ok {
			res.Status = StatusIneffective
			res.Problems = appendIf(res.Problems, tc.Expect.Status != StatusIneffective, why)
		}
	}
	want := tc.Expect.Status
	if want == "" {
		want = StatusSucceeded
	}
	if res.Status != want {
		res.Problems = append(res.Problems, fmt.Sprintf("status %s, want %s", res.Status, want))
	}
	if tc.Expect.StepsRun != nil && !slices.Equal(res.StepsRun, tc.Expect.StepsRun) {
		res.Problems = append(res.Problems, fmt.Sprintf("steps run %v, want %v", res.StepsRun, tc.Expect.StepsRun))
	}
	for _, name := range sortedKeys(tc.Expect.Outputs) {
		if got, want := res.Outputs[name], Normalize(tc.Expect.Outputs[name]); !reflect.DeepEqual(got, want) {
			res.Problems = append(res.Problems, fmt.Sprintf("output %s = %s, want %s", name, show(got), show(want)))
		}
	}
	return res
}

func (rb *Runbook) testTargets(tc TestSpec, item map[string]any) []action.Target {
	var out []action.Target
	switch {
	case len(tc.Targets) > 0:
		for _, id := range tc.Targets {
			out = append(out, action.Target{ID: id})
		}
	case len(rb.Targets.Resources) > 0:
		for _, id := range rb.Targets.Resources {
			out = append(out, action.Target{ID: id})
		}
	case rb.Targets.From == "opsitem":
		rs, _ := item["resources"].([]any)
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				id, _ := m["id"].(string)
				typ, _ := m["type"].(string)
				out = append(out, action.Target{ID: id, Type: typ})
			}
		}
	default:
		out = []action.Target{{ID: "local", Type: "local"}}
	}
	return out
}

// simulate walks the steps and returns the final status.
func (rb *Runbook) simulate(ctx context.Context, tc TestSpec, s *Scope, targets []action.Target, res *TestResult) string {
	i := 0
	for visits := 0; i >= 0 && i < len(rb.Steps); visits++ {
		if visits == maxTestVisits {
			res.Problems = append(res.Problems, fmt.Sprintf("more than %d steps: a goto loop?", maxTestVisits))
			return StatusFailed
		}
		st := rb.Steps[i]
		record := func(status string, outputs map[string]any, errMsg string) {
			if outputs == nil {
				outputs = map[string]any{}
			}
			s.Steps[st.Name] = map[string]any{"status": status, "outputs": Normalize(outputs), "error": errMsg}
			if status != StepSkipped {
				res.StepsRun = append(res.StepsRun, st.Name)
			}
		}
		if st.When != nil {
			ok, err := st.When.EvalBool(ctx, s)
			if err != nil {
				record(StatusFailed, nil, "when: "+err.Error())
			} else if !ok {
				record(StepSkipped, nil, "")
				i++
				continue
			}
		}
		mock := tc.Mocks[st.Name]
		status, outputs, errMsg, jump := StatusSucceeded, mock.Outputs, "", Next
		if mock.Fail != "" {
			status, errMsg = StatusFailed, mock.Fail
		}
		var ctl any = st.Control
		if !st.PerTarget {
			if _, err := st.Render(ctx, s); err != nil {
				status, outputs, errMsg, ctl = StatusFailed, nil, "inputs: "+err.Error(), renderFailed{}
			}
		}
		switch c := ctl.(type) {
		case renderFailed:
		case nil:
			if st.PerTarget {
				outputs, status, errMsg = rb.testFanOut(ctx, st, s, targets, mock)
			}
		case *Sleep, *Nested:
			if _, ok := c.(*Nested); ok && mock.Outputs != nil {
				outputs = map[string]any{"outputs": mock.Outputs, "status": status}
			}
		case *WaitFor:
			sc := *s
			sc.Probe = map[string]any{"outputs": Normalize(nonNilMap(mock.Outputs)), "ok": mock.Fail == "", "error": mock.Fail}
			if ok, err := c.Condition.EvalBool(ctx, &sc); err != nil || !ok {
				status, errMsg = StatusFailed, fmt.Sprintf("condition %s not met by the mocked probe", c.Condition)
			} else {
				status, errMsg = StatusSucceeded, ""
			}
		case *Approve:
			if mock.Fail != "" {
				record(StatusFailed, nil, "denied: "+mock.Fail)
				return StatusDenied
			}
			outputs = map[string]any{"approvers": []any{"test"}}
		case *Branch:
			status, outputs, errMsg = StatusSucceeded, nil, ""
			jump = c.Default
			for k, cs := range c.Cases {
				ok, err := cs.When.EvalBool(ctx, s)
				if err != nil {
					status, errMsg = StatusFailed, fmt.Sprintf("cases[%d].when: %v", k, err)
					break
				}
				if ok {
					jump = cs.Goto
					break
				}
			}
		case *Assert:
			status, outputs, errMsg = StatusSucceeded, nil, ""
			if ok, err := c.That.EvalBool(ctx, s); err != nil || !ok {
				status, errMsg = StatusFailed, "assertion failed: "+c.That.String()
				if m, _ := c.Message.Render(ctx, s); m != nil && m != "" {
					errMsg = fmt.Sprintf("assertion failed: %v", m)
				}
			}
		case *Collect:
			status, errMsg = StatusSucceeded, ""
			v, err := c.Value.Eval(ctx, s)
			if err != nil {
				status, errMsg = StatusFailed, "value: "+err.Error()
			} else {
				outputs = map[string]any{"value": v}
				if s.OpsItem != nil {
					data, _ := s.OpsItem["data"].(map[string]any)
					if data == nil {
						data = map[string]any{}
					}
					data[c.Name] = v
					s.OpsItem["data"] = data
				}
			}
		case *OpsItemUpdate:
			status, errMsg = StatusSucceeded, ""
			sev, err := c.RenderSeverity(ctx, s)
			if s.OpsItem == nil {
				status, errMsg = StatusFailed, "the test has no OpsItem to update"
			} else if err != nil {
				status, errMsg = StatusFailed, "severity: "+err.Error()
			} else {
				if c.Resolve || c.Status != "" {
					to := c.Status
					if c.Resolve {
						to = "resolved"
					}
					outputs = map[string]any{"status": to, "previous_status": s.OpsItem["status"]}
					s.OpsItem["status"] = to
				}
				if sev != "" {
					if outputs == nil {
						outputs = map[string]any{"status": s.OpsItem["status"], "previous_status": s.OpsItem["status"]}
					}
					outputs["severity"], outputs["previous_severity"] = sev, s.OpsItem["severity"]
					s.OpsItem["severity"] = sev
				}
			}
		}
		record(status, outputs, errMsg)
		if status == StatusFailed {
			switch st.OnFailure.Kind {
			case FailContinue:
				jump = Next
			case FailGoto:
				jump = st.OnFailure.Goto
			default:
				return StatusFailed
			}
		}
		switch jump {
		case Next:
			i++
		case Finish:
			i = len(rb.Steps)
		default:
			i = jump
		}
	}
	// Steps never reached count as skipped, as in an execution.
	for name, v := range s.Steps {
		if m, _ := v.(map[string]any); m["status"] == StatusPending {
			s.Steps[name] = map[string]any{"status": StepSkipped, "outputs": map[string]any{}, "error": ""}
		}
	}
	return StatusSucceeded
}

// renderFailed marks a step whose inputs did not render.
type renderFailed struct{}

// testFanOut is a per-target step in a test: every target gets the mock.
func (rb *Runbook) testFanOut(ctx context.Context, st *Step, s *Scope, targets []action.Target, mock MockSpec) (map[string]any, string, string) {
	byTarget := map[string]any{}
	failed := 0
	for _, t := range targets {
		sc := *s
		sc.Target = TargetScope(t)
		entry := map[string]any{"status": StatusSucceeded, "error": "", "outputs": Normalize(nonNilMap(mock.Outputs))}
		if _, err := st.Render(ctx, &sc); err != nil {
			entry["status"], entry["error"] = StatusFailed, "inputs: "+err.Error()
		} else if mock.Fail != "" {
			entry["status"], entry["error"] = StatusFailed, mock.Fail
		}
		if entry["status"] == StatusFailed {
			failed++
		}
		byTarget[t.ID] = entry
	}
	n := len(targets)
	out := map[string]any{"targets": int64(n), "succeeded": int64(n - failed), "failed": int64(failed), "skipped": int64(0), "by_target": byTarget}
	if failed > rb.MaxErrors.Of(n, false) {
		return out, StatusFailed, fmt.Sprintf("%d of %d targets failed (max_errors %s)", failed, n, rb.MaxErrors)
	}
	return out, StatusSucceeded, ""
}

// TestSummary renders results for people: one line per test, problems
// indented under failures.
func TestSummary(name string, results []TestResult) string {
	var b strings.Builder
	for _, r := range results {
		mark := "ok  "
		if !r.Passed() {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s Runbook %s: %s\n", mark, name, r.Name)
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "       %s\n", p)
		}
	}
	return b.String()
}

// appendIf appends v to list when cond holds.
func appendIf(list []string, cond bool, v string) []string {
	if cond {
		return append(list, v)
	}
	return list
}

// opsItemID is the test OpsItem's id, "" without one (as an execution
// without an OpsItem has).
func opsItemID(item map[string]any) any {
	if id, ok := item["id"]; ok {
		return id
	}
	return ""
}
