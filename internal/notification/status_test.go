package notification

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// TestStatuses reads channel statuses from delivery records written the
// way recordTx writes them: ops-slack delivered then failed (failing),
// oncall failed then delivered (ok), email unused, "security" named by a
// rule but not configured; another tenant's records do not count.
func TestStatuses(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	rec := func(tenant, action, channel, result string, at time.Time) {
		t.Helper()
		err := st.InTx(ctx, func(tx store.Tx) error {
			_, err := audit.Append(ctx, tx, tenant, at, audit.Entry{Actor: "system:notification", Action: action, Target: "opsitem/oi_1",
				Result: result, Detail: map[string]any{"channel": channel, "rule": "page-web", "attempts": 1}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"acme", "globex"} {
		if err := st.InTx(ctx, func(tx store.Tx) error { return tx.CreateTenant(ctx, store.Tenant{ID: id, Name: id, CreatedAt: t0}) }); err != nil {
			t.Fatal(err)
		}
	}
	rec("acme", "notification.delivered", "ops-slack", "ok", t0)
	rec("acme", "notification.failed", "ops-slack", "failed: notify: ops-slack: POST https://hooks.slack.com: status 404", t0.Add(time.Minute))
	rec("acme", "notification.failed", "oncall", "failed: timeout", t0.Add(2*time.Minute))
	rec("acme", "notification.delivered", "oncall", "ok", t0.Add(3*time.Minute))
	rec("acme", "notification.failed", "security", "failed: notify: security: no such channel", t0.Add(4*time.Minute))
	rec("globex", "notification.failed", "oncall", "failed: x", t0.Add(5*time.Minute))

	got, err := Statuses(ctx, st, "acme", map[string]string{"ops-slack": "slack", "oncall": "webhook", "dba": "email"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, typ, status    string
		delivered, failed    int
		lastError            string
		lastDeliveredMinutes int // -1: none
	}{
		{"dba", "email", StatusUnused, 0, 0, "", -1},
		{"oncall", "webhook", StatusOK, 1, 1, "timeout", 3},
		{"ops-slack", "slack", StatusFailing, 1, 1, "notify: ops-slack: POST https://hooks.slack.com: status 404", 0},
		{"security", "", StatusNotConfigured, 0, 1, "notify: security: no such channel", -1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d channels: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Type != w.typ || g.Status != w.status || g.Delivered != w.delivered || g.Failed != w.failed || g.LastError != w.lastError {
			t.Errorf("channel %d = %+v, want %+v", i, g, w)
		}
		switch {
		case w.lastDeliveredMinutes < 0 && g.LastDelivered != nil:
			t.Errorf("%s: last delivered %v, want none", w.name, g.LastDelivered)
		case w.lastDeliveredMinutes >= 0 && (g.LastDelivered == nil || !g.LastDelivered.Equal(t0.Add(time.Duration(w.lastDeliveredMinutes)*time.Minute))):
			t.Errorf("%s: last delivered %v, want minute %d", w.name, g.LastDelivered, w.lastDeliveredMinutes)
		}
	}
}
