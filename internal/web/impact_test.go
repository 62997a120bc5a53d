package web

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestOpsItemImpact: the OpsItem page shows the priority, the affected
// application and its dependency path, and the probable root cause, as the
// pipeline keeps them in the operational data; an OpsItem without them
// shows none of it.
func TestOpsItemImpact(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	ctx := context.Background()
	data, _ := json.Marshal(map[string]any{
		"impact":     application.Impact{Application: "orders-db", Criticality: "critical", Dependants: 3, Path: []string{"storefront", "orders", "orders-db"}, Priority: "P1"},
		"root_cause": pipeline.RootCause{Fingerprint: "fp-db", Title: "PostgresDown on db-orders-01", Severity: "critical", Rank: 3, At: w.now},
	})
	o := store.OpsItem{ID: store.NewID("oi", w.now), TenantID: "acme", Title: "PostgresDown", Category: "operations", Severity: "critical",
		Status: "open", Source: "alertmanager", CreatedAt: w.now, UpdatedAt: w.now, OperationalData: data}
	plain := store.OpsItem{ID: store.NewID("oi", w.now), TenantID: "acme", Title: "Plain", Category: "operations", Severity: "low",
		Status: "open", Source: "manual", CreatedAt: w.now, UpdatedAt: w.now}
	if err := w.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		return tx.CreateOpsItem(ctx, plain)
	}); err != nil {
		t.Fatal(err)
	}
	page := w.get("/opsitems/"+o.ID, w.acme)
	wantContains(t, page, `<dd id="impact-priority">P1 <span class="help">(critical application, 3 depend on it)</span></dd>`,
		`<dd id="impact-application">orders-db</dd>`, `<dd id="impact-path">storefront → orders → orders-db</dd>`,
		`<dd id="root-cause">PostgresDown on db-orders-01`)
	wantLacks(t, w.get("/opsitems/"+plain.ID, w.acme), `id="impact-priority"`, `id="root-cause"`)
}
