package web

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestOpsItemPageShowsFirstEvent: the page shows when the OpsItem was
// created and, separately, when its first event happened.
func TestOpsItemPageShowsFirstEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.now
	first := e.now.Add(-26 * time.Hour)
	o := store.OpsItem{ID: store.NewID("oi", created), TenantID: "acme", Title: "Held then opened", Category: "monitoring", Severity: "high",
		Status: "open", Source: "alertmanager", CreatedAt: created, UpdatedAt: created, FirstEventAt: first, LastEventAt: first}
	if err := e.st.InTx(context.Background(), func(tx store.Tx) error { return tx.CreateOpsItem(context.Background(), o) }); err != nil {
		t.Fatal(err)
	}
	wantContains(t, e.get("/opsitems/"+o.ID, e.acme),
		`<dt>Created</dt><dd><time datetime="`+created.Format(time.RFC3339),
		`<dt>First event</dt><dd><time datetime="`+first.Format(time.RFC3339))
}
