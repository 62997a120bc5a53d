package execution_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const fourEyes = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: four-eyes}
spec:
  parameters: [{name: svc, default: nginx}]
  steps:
    - name: ok
      action: approve
      with: {approvers: [operator, "name:change-lead"], timeout: 1h}
    - {name: act, action: counter}
`

// TestFourEyes: the principal that started an execution cannot approve it,
// nor can the token whose event set off the rule that started it; another
// operator can, and so can a token a gate names; approving is audited with
// who, what and the parameters.
func TestFourEyes(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		counter := &fake{name: "counter"}
		acts := newActions(counter)
		n := startNode(t, st, library(t, acts, fourEyes), acts, nodeOpts{ruleApprovers: func(tenant, rule string) []string {
			if rule == "secops-only" {
				return []string{"name:secops"}
			}
			return nil
		}})
		ctx := context.Background()
		alice := execution.Approver{Actor: "token:tok_alice", Name: "alice", Role: store.RoleAdmin}
		bob := execution.Approver{Actor: "token:tok_bob", Name: "bob", Role: store.RoleOperator}

		id := start(t, st, n.x, runbook.StartRequest{Runbook: "four-eyes", StartedBy: alice.Actor, Parameters: map[string]any{"svc": "postgres"}})
		waitStatus(t, st, id, runbook.StatusWaitingApproval)
		_, err := n.x.Approve(ctx, tenant, id, alice, "self")
		if !errors.Is(err, execution.ErrNotApprover) || !strings.Contains(err.Error(), "four eyes: token:tok_alice started this execution") {
			t.Fatalf("self-approval: %v", err)
		}
		if as, _ := st.ListApprovals(ctx, tenant, id); len(as) != 0 {
			t.Errorf("self-approval recorded: %+v", as)
		}
		if _, err := n.x.Approve(ctx, tenant, id, bob, "checked"); err != nil {
			t.Fatal(err)
		}
		if e := waitStatus(t, st, id, runbook.TerminalStatuses...); e.Status != runbook.StatusSucceeded {
			t.Fatalf("after bob's approval: %+v", e)
		}
		var refused, approved *store.AuditRecord
		for _, r := range auditOf(t, st, id) {
			if r.Action == "execution.approve" && r.Actor == alice.Actor {
				refused = &r
			}
			if r.Action == "execution.approve" && r.Actor == bob.Actor {
				approved = &r
			}
		}
		if refused == nil || !strings.HasPrefix(refused.Result, "denied") || !strings.Contains(string(refused.Detail), "four_eyes") {
			t.Errorf("refused self-approval audited as %+v", refused)
		}
		var d struct{ Runbook, Parameters, Comment string }
		if approved != nil {
			var m map[string]any
			_ = json.Unmarshal(approved.Detail, &m)
			d.Runbook, _ = m["runbook"].(string)
			d.Parameters, _ = m["parameters"].(string)
			d.Comment, _ = m["comment"].(string)
		}
		if approved == nil || d.Runbook != "four-eyes" || !strings.Contains(d.Parameters, `"svc":"postgres"`) || d.Comment != "checked" {
			t.Errorf("approval audited as %+v", approved)
		}

		// A rule started it for an OpsItem carrying the sender's event: the
		// sender may not approve; a token named by the gate may, whatever
		// its role.
		now := time.Now().UTC()
		item := store.OpsItem{ID: "oi_foureyes", TenantID: tenant, Title: "disk full", Category: "monitoring", Severity: "high", Status: "open",
			Source: "alertmanager", CreatedAt: now, UpdatedAt: now}
		err = st.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateOpsItem(ctx, item); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, store.Event{ID: "ev_foureyes", TenantID: tenant, Source: "alertmanager", Fingerprint: "fp1", Kind: "alert",
				Severity: "high", Status: "firing", Title: "disk full", OccurredAt: now, ReceivedAt: now, OpsItemID: item.ID, Decision: "opened",
				Labels: map[string]string{event.SenderLabel: bob.Actor}})
		})
		if err != nil {
			t.Fatal(err)
		}
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "four-eyes", StartedBy: "rule:disk", Rule: "disk", OpsItemID: item.ID})
		waitStatus(t, st, id, runbook.StatusWaitingApproval)
		_, err = n.x.Approve(ctx, tenant, id, bob, "")
		if !errors.Is(err, execution.ErrNotApprover) || !strings.Contains(err.Error(), "sent event ev_foureyes") {
			t.Fatalf("the sender's approval: %v", err)
		}
		lead := execution.Approver{Actor: "token:tok_lead", Name: "change-lead", Role: store.RoleViewer}
		if _, err := n.x.Approve(ctx, tenant, id, lead, "named"); err != nil {
			t.Fatalf("the named approver: %v", err)
		}
		if e := waitStatus(t, st, id, runbook.TerminalStatuses...); e.Status != runbook.StatusSucceeded {
			t.Fatalf("after the named approval: %+v", e)
		}

		// A rule naming its approvers: in approval mode, only they approve
		// the start; an operator the rule does not name is refused.
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "four-eyes", StartedBy: "rule:secops-only", Rule: "secops-only", Mode: runbook.ModeApproval})
		if _, err := n.x.Approve(ctx, tenant, id, bob, ""); !errors.Is(err, execution.ErrNotApprover) || !strings.Contains(err.Error(), "name:secops") {
			t.Fatalf("an operator the rule does not name: %v", err)
		}
		secops := execution.Approver{Actor: "token:tok_secops", Name: "secops", Role: store.RoleOperator}
		if _, err := n.x.Approve(ctx, tenant, id, secops, "start"); err != nil {
			t.Fatalf("the rule's approver: %v", err)
		}
		waitFor(t, "the runbook's own gate", func() bool {
			e, _ := st.GetExecution(ctx, tenant, id)
			return e.Status == runbook.StatusWaitingApproval && e.Seq >= 0
		})
	})
}
