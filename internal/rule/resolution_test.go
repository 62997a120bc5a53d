package rule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestIsPerson(t *testing.T) {
	for actor, want := range map[string]bool{
		"token:tok_1": true, "user:ann": true, "": false, "system:pipeline": false, "rule:disk-cleanup": false,
		"execution:ex_1": false, "runbook:disk-cleanup": false, "automation:rule:x": false,
	} {
		if got := rule.IsPerson(actor); got != want {
			t.Errorf("IsPerson(%q) = %v, want %v", actor, got, want)
		}
	}
}

// TestResolvedBy: an OpsItem is resolved by automation only when an
// execution a rule started on it succeeded and no person touched it.
func TestResolvedBy(t *testing.T) {
	runBoth(t, func(t *testing.T, open opener) {
		h := newHarness(t, open, diskRule)
		ctx := context.Background()
		n := 0
		exec := func(o store.OpsItem, ruleName, status string, mut func(*store.Execution)) {
			n++
			e := store.Execution{ID: fmt.Sprintf("ex_%d", n), TenantID: o.TenantID, Runbook: "disk-cleanup", Status: status,
				Parameters: json.RawMessage(`{}`), Targets: json.RawMessage(`[]`), OpsItemID: o.ID, Rule: ruleName,
				StartedBy: "rule:" + ruleName, Mode: "auto", CreatedAt: h.now.Add(time.Duration(n) * time.Second), UpdatedAt: h.now}
			if ruleName == "" {
				e.StartedBy = "token:tok_1"
			}
			if mut != nil {
				mut(&e)
			}
			h.tx(func(tx store.Tx) error { return tx.CreateExecution(ctx, e) })
		}
		note := func(o store.OpsItem, actor string) {
			h.tx(func(tx store.Tx) error {
				return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", h.now), TenantID: o.TenantID, OpsItemID: o.ID,
					At: h.now, Kind: "note", Message: "looked at it", Actor: actor})
			})
		}
		resolvedBy := func(o store.OpsItem) string {
			t.Helper()
			var by string
			h.tx(func(tx store.Tx) error {
				var err error
				by, err = h.en.ResolvedBy(ctx, tx, &o)
				return err
			})
			return by
		}

		none := h.opsItem("acme", "oi_none")
		if by := resolvedBy(none); by != "" {
			t.Errorf("no execution: %q", by)
		}

		fixed := h.opsItem("acme", "oi_fixed")
		exec(fixed, "disk-cleanup", runbook.StatusSucceeded, nil)
		note(fixed, "rule:disk-cleanup")
		note(fixed, "execution:ex_1")
		if by := resolvedBy(fixed); by != "automation:rule:disk-cleanup" {
			t.Errorf("fixed by the rule: %q", by)
		}

		failed := h.opsItem("acme", "oi_failed")
		exec(failed, "disk-cleanup", runbook.StatusFailed, nil)
		exec(failed, "disk-cleanup", runbook.StatusRunning, nil)
		if by := resolvedBy(failed); by != "" {
			t.Errorf("only a failed and a running execution: %q", by)
		}

		byHand := h.opsItem("acme", "oi_hand")
		exec(byHand, "", runbook.StatusSucceeded, nil)
		if by := resolvedBy(byHand); by != "" {
			t.Errorf("a runbook a person ran: %q", by)
		}

		dry := h.opsItem("acme", "oi_dry")
		exec(dry, "disk-cleanup", runbook.StatusSucceeded, func(e *store.Execution) { e.DryRun = true })
		exec(dry, "disk-cleanup", runbook.StatusSucceeded, func(e *store.Execution) { e.ParentID = "ex_parent" })
		if by := resolvedBy(dry); by != "" {
			t.Errorf("a dry run and a nested run: %q", by)
		}

		touched := h.opsItem("acme", "oi_touched")
		exec(touched, "disk-cleanup", runbook.StatusSucceeded, nil)
		note(touched, "token:tok_1")
		if by := resolvedBy(touched); by != "" {
			t.Errorf("a person wrote on its timeline: %q", by)
		}

		// A cleanup that freed nothing is ineffective: a person then
		// fixing it by hand outside Flywheel earns the rule no credit.
		ineffective := h.opsItem("acme", "oi_ineffective")
		exec(ineffective, "disk-cleanup", runbook.StatusIneffective, nil)
		if by := resolvedBy(ineffective); by != "" {
			t.Errorf("an ineffective run: %q", by)
		}

		// A run that ended before the OpsItem reopened (the rule then
		// blocked by its cool-down ran nothing) earns no credit for the
		// new lifetime; a run after the reopening does.
		reopened := h.opsItem("acme", "oi_reopened")
		exec(reopened, "disk-cleanup", runbook.StatusSucceeded, func(e *store.Execution) { e.EndedAt = h.now.Add(time.Minute) })
		h.tx(func(tx store.Tx) error {
			return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", h.now), TenantID: "acme", OpsItemID: reopened.ID,
				At: h.now.Add(10 * time.Minute), Kind: "reopened", Message: "fired again", Actor: "system:pipeline"})
		})
		if by := resolvedBy(reopened); by != "" {
			t.Errorf("only a run from before the reopening: %q", by)
		}
		exec(reopened, "disk-cleanup", runbook.StatusSucceeded, func(e *store.Execution) { e.EndedAt = h.now.Add(11 * time.Minute) })
		if by := resolvedBy(reopened); by != "automation:rule:disk-cleanup" {
			t.Errorf("a verified run after the reopening: %q", by)
		}

		// A runbook without verify proves nothing: no credit.
		h.en.Verifies = func(tenant, rb string) bool { return rb != "disk-cleanup" }
		if by := resolvedBy(fixed); by != "" {
			t.Errorf("a succeeded run of a runbook without verify: %q", by)
		}
	})
}
