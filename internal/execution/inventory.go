package execution

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// InventoryTargets resolves tag and group targeting over the store's
// resource inventory: tags select every resource of the tenant carrying all
// of them; a group (content kind ResourceGroup) is its listed resources plus
// the resources its own tags (and types) select.
type InventoryTargets struct {
	Groups runbook.Groups
}

var _ TargetResolver = InventoryTargets{}

// ResolveTargets implements TargetResolver.
func (it InventoryTargets) ResolveTargets(ctx context.Context, tx store.Tx, tenant string, sel runbook.TargetSpec) ([]Target, error) {
	if sel.Group != "" {
		return it.group(ctx, tx, tenant, sel.Group)
	}
	if len(sel.Tags) == 0 {
		return nil, errors.New("no tags to select by")
	}
	return selectResources(ctx, tx, tenant, func(r store.Resource) bool { return runbook.HasTags(r.Tags, sel.Tags) }, nil)
}

// group resolves a resource group: its listed members first (a listed ID the
// inventory does not know is still a target, as with `resources:`), then the
// resources its selector picks, each once.
func (it InventoryTargets) group(ctx context.Context, tx store.Tx, tenant, name string) ([]Target, error) {
	g, ok := it.Groups.Get(tenant, name)
	if !ok {
		return nil, fmt.Errorf("no resource group %q", name)
	}
	var out []Target
	seen := map[string]bool{}
	for _, id := range g.Resources {
		if seen[id] {
			continue
		}
		seen[id] = true
		t := Target{ID: id}
		if r, err := tx.GetResource(ctx, tenant, id); err == nil {
			t.Type, t.Tags = r.Type, r.Tags
		}
		out = append(out, t)
	}
	if len(g.Tags) == 0 {
		return out, nil
	}
	return selectResources(ctx, tx, tenant, func(r store.Resource) bool { return !seen[r.ID] && g.Selects(r.Type, r.Tags) }, out)
}

// selectResources appends to out every resource of the tenant keep accepts,
// reading the inventory a page at a time and stopping past maxTargets (the
// caller refuses that many).
func selectResources(ctx context.Context, tx store.Tx, tenant string, keep func(store.Resource) bool, out []Target) ([]Target, error) {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		rs, next, err := tx.ListResources(ctx, tenant, store.ResourceFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if keep(r) {
				out = append(out, Target{ID: r.ID, Type: r.Type, Tags: r.Tags})
			}
		}
		if next == "" || len(out) > maxTargets {
			return out, nil
		}
		page.Cursor = next
	}
}
