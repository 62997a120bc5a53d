package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestStoreDeflector(t *testing.T) { runBoth(t, testStoreDeflector) }

func testStoreDeflector(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	ctx := context.Background()
	start, end := t0.Add(-time.Hour), t0.Add(time.Hour)
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateSilence(ctx, store.Silence{ID: "sil_deploy", TenantID: "acme", Matchers: []string{`alertname="DiskFull s"`},
			StartsAt: start, EndsAt: end, Comment: "deploy", CreatedBy: "token:x", CreatedAt: start}); err != nil {
			return err
		}
		return tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{ID: "mw_1", TenantID: "acme", Name: "reboots", Timezone: "UTC",
			Schedule: store.MaintenanceSchedule{Start: &start, End: &end}, Targets: store.MaintenanceTargets{ResourceIDs: []string{"web-m"}},
			CreatedBy: "token:x", CreatedAt: start})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.en.Deflector = &StoreDeflector{}
	outs := h.send(alert("s", "firing", t0, nil), alert("m", "firing", t0, nil), alert("x", "firing", t0, nil))
	wantDecisions(t, outs, DecisionSuppressed, DecisionSuppressed, DecisionOpened)
	if outs[0].Reason != "silence: sil_deploy (deploy)" || outs[1].Reason != "maintenance: reboots (mw_1)" {
		t.Errorf("reasons = %q, %q", outs[0].Reason, outs[1].Reason)
	}
	// After the silence ends the same alert opens an OpsItem.
	later := h.send(alert("s", "resolved", t0.Add(90*time.Minute), nil), alert("s", "firing", t0.Add(2*time.Hour), nil))
	wantDecisions(t, later, DecisionResolved, DecisionOpened)
}
