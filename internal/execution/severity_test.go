package execution_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const raiseSeverity = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: raise}
spec:
  parameters: [{name: to, type: string, default: critical}]
  steps:
    - name: raise
      action: opsitem
      with: {severity: "${{ params.to }}", status: in-progress}
`

// TestOpsItemSeverity: an opsitem step sets the OpsItem's severity from an
// expression, on the timeline and in the audit log; a rendered value that
// is not a severity fails the step and changes nothing.
func TestOpsItemSeverity(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		acts := newActions()
		n := startNode(t, st, library(t, acts, raiseSeverity), acts, nodeOpts{})
		o := seedOpsItem(t, st)
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "raise", OpsItemID: o.ID})
		if e := waitStatus(t, st, id, runbook.TerminalStatuses...); e.Status != runbook.StatusSucceeded {
			t.Fatalf("%+v\n%s", e, dumpSteps(t, st, id))
		}
		got, _ := st.GetOpsItem(context.Background(), tenant, o.ID)
		if got.Severity != "critical" || got.Status != "in-progress" {
			t.Errorf("OpsItem severity %s status %s", got.Severity, got.Status)
		}
		if out := string(own(t, st, id)["raise"].Outputs); !jsonEq(t, []byte(out), `{"status":"in-progress","previous_status":"open","severity":"critical","previous_severity":"high"}`) {
			t.Errorf("outputs %s", out)
		}
		tl, _ := st.ListTimeline(context.Background(), tenant, o.ID)
		var lines []string
		for _, e := range tl {
			lines = append(lines, e.Kind+": "+e.Message)
		}
		if !strings.Contains(strings.Join(lines, "\n"), "severity: Severity high → critical by runbook raise") {
			t.Errorf("timeline:\n%s", strings.Join(lines, "\n"))
		}
		if recs := auditOf(t, st, id); countActions(recs, "opsitem.update") != 2 {
			t.Errorf("%d opsitem.update audit records, want 2 (status, severity)", countActions(recs, "opsitem.update"))
		}

		id = start(t, st, n.x, runbook.StartRequest{Runbook: "raise", OpsItemID: o.ID, Parameters: map[string]any{"to": "urgent"}})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		if e.Status != runbook.StatusFailed || !strings.Contains(own(t, st, id)["raise"].Error, `severity "urgent" is not one of`) {
			t.Errorf("%+v\n%s", e, dumpSteps(t, st, id))
		}
		if got, _ := st.GetOpsItem(context.Background(), tenant, o.ID); got.Severity != "critical" {
			t.Errorf("a failed step changed the severity to %s", got.Severity)
		}
	})
}
