package cost

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Finding is something the financial flywheel opens an OpsItem for: a
// resource paid for and not used (waste), or one about to fill up (a
// capacity forecast).
type Finding struct {
	// Key identifies the finding across ticks: one OpsItem per key.
	Key            string
	Kind           string // unattached-volume, old-snapshot, stopped-instance-volumes, idle-instance, oversized-instance, forecast
	Resource       store.Resource
	Title          string
	Description    string
	Severity       string
	MonthlySavings float64
	// Data is the finding's operational data (figures, suggestion).
	Data map[string]any
}

// Open opens an OpsItem (category finance) for f unless its key has
// one; opened says whether it did. The OpsItem, the finding row and the
// audit record commit together.
func Open(ctx context.Context, st store.Store, tenant string, f Finding, now time.Time) (opened bool, err error) {
	err = st.InTx(ctx, func(tx store.Tx) error {
		o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: f.Title, Description: f.Description, Category: "finance",
			Severity: f.Severity, Status: "open", Source: "cost:" + f.Kind, CreatedAt: now, UpdatedAt: now, Occurrences: 1}
		if f.Data != nil {
			b, err := json.Marshal(map[string]any{"finding": f.Data})
			if err != nil {
				return err
			}
			o.OperationalData = b
		}
		if err := tx.PutCostFinding(ctx, store.CostFinding{TenantID: tenant, Key: f.Key, Kind: f.Kind, ResourceID: f.Resource.ID,
			OpsItemID: o.ID, MonthlySavings: f.MonthlySavings, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		if err := tx.AddOpsItemResources(ctx, []store.OpsItemResourceLink{{TenantID: tenant, OpsItemID: o.ID,
			OpsItemResource: store.OpsItemResource{Type: f.Resource.Type, ID: f.Resource.ID}}}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: "system:cost", Action: "finding.open", Target: "opsitem/" + o.ID,
			Detail: map[string]any{"kind": f.Kind, "resource": f.Resource.ID, "monthly_savings": f.MonthlySavings}})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return false, nil // open already (or another replica opened it)
	}
	return err == nil, err
}
