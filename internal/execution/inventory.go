package execution

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// InventoryTargets resolves tag targeting over the store's resource
// inventory: every resource of the tenant carrying all the tags. Groups
// (applications) are not in the inventory yet.
type InventoryTargets struct{}

var _ TargetResolver = InventoryTargets{}

// ResolveTargets implements TargetResolver.
func (InventoryTargets) ResolveTargets(ctx context.Context, tx store.Tx, tenant string, sel runbook.TargetSpec) ([]Target, error) {
	if sel.Group != "" {
		return nil, fmt.Errorf("resource group %q: groups are not supported yet; target by tags or resource IDs", sel.Group)
	}
	if len(sel.Tags) == 0 {
		return nil, errors.New("no tags to select by")
	}
	var out []Target
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		rs, next, err := tx.ListResources(ctx, tenant, store.ResourceFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if hasTags(r.Tags, sel.Tags) {
				out = append(out, Target{ID: r.ID, Type: r.Type, Tags: r.Tags})
			}
		}
		if next == "" || len(out) > maxTargets {
			return out, nil
		}
		page.Cursor = next
	}
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
