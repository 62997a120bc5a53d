package rule_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestBreakerFailsSafe: failures the target caused do not count; the
// breaker is kept per target group, so failures on one group leave the
// rule running on another; a person's run of the runbook that succeeds on
// the group closes its breaker; a reset closes every group's, audited.
func TestBreakerFailsSafe(t *testing.T) {
	runBoth(t, func(t *testing.T, open opener) {
		h := newHarness(t, open, diskRule)
		ctx := context.Background()
		exec := func(id, rule, status, targetErr string) store.Execution {
			e := store.Execution{ID: id, TenantID: "acme", Rule: rule, Runbook: "disk-cleanup", Status: status, StartedBy: "rule:" + rule,
				Parameters: json.RawMessage(`{}`), Targets: json.RawMessage(`[{"id":"web-1"},{"id":"i-1"}]`), CreatedAt: h.now, UpdatedAt: h.now}
			if rule == "" {
				e.StartedBy = "token:tok_1"
			}
			h.tx(func(tx store.Tx) error {
				if err := tx.CreateExecution(ctx, e); err != nil {
					return err
				}
				if targetErr == "" {
					return nil
				}
				return tx.PutExecutionSteps(ctx, []store.ExecutionStep{{TenantID: "acme", ExecutionID: id, Seq: 0, Name: "measure", Action: "exec",
					TargetID: "web-1", Status: runbook.StatusFailed, Error: targetErr}})
			})
			return e
		}
		state := func(group string) store.RuleState {
			st, _ := h.st.GetRuleState(ctx, "acme", "disk-cleanup@"+group)
			return st
		}
		// The agent never answered, twice: not the runbook's fault.
		for _, id := range []string{"ex_t1", "ex_t2"} {
			h.record(exec(id, "disk-cleanup", runbook.StatusFailed, "target unavailable: the agent of \"web-1\" did not pick the command up"))
		}
		if st := state(itemGroup); st.Failures != 0 || st.BreakerOpen() {
			t.Fatalf("target-caused failures counted: %+v", st)
		}
		// Two real failures on this group open its breaker.
		h.record(exec("ex_f1", "disk-cleanup", runbook.StatusFailed, "exit status 2"))
		h.record(exec("ex_f2", "disk-cleanup", runbook.StatusFailed, ""))
		if st := state(itemGroup); !st.BreakerOpen() {
			t.Fatalf("breaker after two failures: %+v", st)
		}
		// Another group's OpsItem still runs automatically.
		other := store.OpsItem{ID: "oi_other", TenantID: "acme", Title: "disk full on db-1", Category: "monitoring", Severity: "high",
			Status: "open", Source: "alertmanager", CreatedAt: h.now, UpdatedAt: h.now}
		h.tx(func(tx store.Tx) error {
			if err := tx.CreateOpsItem(ctx, other); err != nil {
				return err
			}
			return tx.AddOpsItemResource(ctx, "acme", other.ID, store.OpsItemResource{Type: "host", ID: "db-1"})
		})
		wantDecisions(t, h.on("acme", h.fire(map[string]string{"instance": "db-1:9100"}), &other), "disk-cleanup:ran")
		o := h.opsItem("acme", "oi_same")
		wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:breaker-open")

		// A person's run of the runbook on the group succeeds: closed.
		h.record(exec("ex_p", "", runbook.StatusSucceeded, ""))
		if st := state(itemGroup); st.BreakerOpen() || st.Failures != 0 {
			t.Errorf("after a person's successful run: %+v", st)
		}
		// Open it again, and on db-1; a reset of the rule closes both.
		h.record(exec("ex_f3", "disk-cleanup", runbook.StatusFailed, ""))
		h.record(exec("ex_f4", "disk-cleanup", runbook.StatusFailed, ""))
		var n int
		h.tx(func(tx store.Tx) error {
			var err error
			n, err = h.en.ResetBreaker(ctx, tx, "acme", "disk-cleanup", "", "token:tok_9")
			return err
		})
		if st := state(itemGroup); n != 1 || st.BreakerOpen() {
			t.Errorf("reset closed %d; state %+v", n, st)
		}
		var closes []string
		for _, a := range h.auditActions("acme") {
			if strings.Contains(a, "rule.breaker.close") {
				closes = append(closes, a)
			}
		}
		if want := []string{"token:tok_1 rule.breaker.close ok", "token:tok_9 rule.breaker.close ok"}; strings.Join(closes, "|") != strings.Join(want, "|") {
			t.Errorf("breaker closes audited: %q, want %q", closes, want)
		}
	})
}

// TestEscalation: an ineffective run raises the OpsItem (severity,
// needs_human, timeline, audit) and notifies the rule's channel; so does
// the problem coming back within the cool-down of the rule's last run;
// an ineffective run earns no breaker failure.
func TestEscalation(t *testing.T) {
	runBoth(t, func(t *testing.T, open opener) {
		h := newHarness(t, open, diskRule+"\n  escalate: {channel: ops-pager}")
		var sent []rule.Notification
		h.en.Notify = func(_ context.Context, tx store.Tx, tenant, name string, n rule.Notification) error {
			if tx == nil || tenant != "acme" || name != "disk-cleanup" {
				t.Errorf("notify outside a transaction or for %s/%s", tenant, name)
			}
			sent = append(sent, n)
			return nil
		}
		ctx := context.Background()
		o := h.opsItem("acme", "oi_1")
		wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:ran")
		h.record(store.Execution{ID: "ex_1", TenantID: "acme", Rule: "disk-cleanup", Runbook: "disk-cleanup", OpsItemID: o.ID,
			Status: runbook.StatusIneffective, Error: "not verified: the volume is still above its target", Targets: json.RawMessage(`[{"id":"web-1"}]`)})
		got, _ := h.st.GetOpsItem(ctx, "acme", o.ID)
		var data map[string]map[string]any
		_ = json.Unmarshal(got.OperationalData, &data)
		if got.Severity != "critical" || data[rule.NeedsHumanKey]["reason"] != "ineffective" || data[rule.NeedsHumanKey]["execution"] != "ex_1" {
			t.Errorf("after an ineffective run: severity %s, data %s", got.Severity, got.OperationalData)
		}
		tl := h.timeline("acme", o.ID)
		if last := tl[len(tl)-1]; !strings.HasPrefix(last, "escalated: needs a person: rule disk-cleanup's automation was ineffective: not verified: the volume is still above its target; severity high → critical") {
			t.Errorf("timeline: %q", tl)
		}
		if len(sent) != 1 || sent[0].Channel != "ops-pager" || sent[0].OpsItemID != o.ID || !strings.Contains(sent[0].Message, "needs a person") {
			t.Errorf("notifications: %+v", sent)
		}
		if st, _ := h.st.GetRuleState(ctx, "acme", "disk-cleanup@web-1"); st.Failures != 0 {
			t.Errorf("an ineffective run counted as a failure: %+v", st)
		}

		// It refills and comes back within the 30m cool-down: blocked,
		// escalated again instead of waiting silently.
		h.now = h.now.Add(10 * time.Minute)
		var effs []rule.Effect
		h.tx(func(tx store.Tx) error {
			var err error
			effs, err = h.en.OnEvent(ctx, tx, "acme", h.fire(nil), &got, "reopened")
			return err
		})
		wantDecisions(t, effs, "disk-cleanup:loop-guarded")
		if len(sent) != 2 || !strings.Contains(sent[1].Message, "was blocked") {
			t.Errorf("notifications after the refill: %+v", sent)
		}
		_ = json.Unmarshal(got.OperationalData, &data)
		if data[rule.NeedsHumanKey]["reason"] != "blocked" {
			t.Errorf("after the refill: %s", got.OperationalData)
		}
		// A plain repeat of the alert within the cool-down is not a refill.
		h.now = h.now.Add(time.Minute)
		h.tx(func(tx store.Tx) error {
			_, err := h.en.OnEvent(ctx, tx, "acme", h.fire(nil), &got, "attached")
			return err
		})
		if len(sent) != 2 {
			t.Errorf("a repeat escalated: %+v", sent)
		}
	})
}
