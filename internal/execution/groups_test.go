package execution_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestResourceGroupTargets resolves docs/runbooks.md's ResourceGroup over an
// inventory: the listed member, then the hosts carrying both tags — not the
// container with the same tags, not the dev host, not the database.
func TestResourceGroupTargets(t *testing.T) {
	t.Parallel()
	doc := docExample(t, "ops/groups/web-prod.yaml")
	scoped := strings.Replace(doc, "name: web-prod", "name: web-other\n  tenant: someone-else", 1)
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{
		"groups/web-prod.yaml":  {Data: []byte(doc)},
		"groups/web-other.yaml": {Data: []byte(scoped)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resolver := execution.InventoryTargets{Groups: runbook.NewGroups(set)}
	forEachDriver(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		prod := map[string]string{"role": "web", "env": "prod"}
		for _, r := range []store.Resource{
			{ID: "res_lb1", Type: "load-balancer"},
			{ID: "res_web1", Type: "host", Tags: prod},
			{ID: "res_web2", Type: "host", Tags: map[string]string{"role": "web", "env": "prod", "az": "b"}},
			{ID: "res_web3", Type: "container", Tags: prod},
			{ID: "res_web4", Type: "host", Tags: map[string]string{"role": "web", "env": "dev"}},
			{ID: "res_db1", Type: "host", Tags: map[string]string{"role": "db", "env": "prod"}},
		} {
			r.TenantID, r.Name, r.CreatedAt, r.UpdatedAt = tenant, r.ID, now, now
			if err := st.InTx(ctx, func(tx store.Tx) error { return tx.PutResource(ctx, r) }); err != nil {
				t.Fatal(err)
			}
		}
		var got []execution.Target
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			got, err = resolver.ResolveTargets(ctx, tx, tenant, runbook.TargetSpec{Group: "web-prod"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tg := range got {
			ids = append(ids, tg.ID)
		}
		if ids[0] != "res_lb1" || got[0].Type != "load-balancer" {
			t.Errorf("the listed member comes first with its inventory type: %+v", got)
		}
		slices.Sort(ids)
		if want := []string{"res_lb1", "res_web1", "res_web2"}; !slices.Equal(ids, want) {
			t.Errorf("group web-prod = %v, want %v", ids, want)
		}

		// A group scoped to another tenant does not exist for this one.
		err = st.InTx(ctx, func(tx store.Tx) error {
			_, err := resolver.ResolveTargets(ctx, tx, tenant, runbook.TargetSpec{Group: "web-other"})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), `no resource group "web-other"`) {
			t.Errorf("another tenant's group: %v", err)
		}
	})
}

// TestResourceGroupChecks: a group needs members or a selector, and a
// runbook naming a group that does not exist fails to load.
func TestResourceGroupChecks(t *testing.T) {
	t.Parallel()
	load := func(files map[string]string) error {
		fs := fstest.MapFS{}
		for name, body := range files {
			fs[name] = &fstest.MapFile{Data: []byte(body)}
		}
		_, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fs})
		return err
	}
	empty := "apiVersion: flywheel/v1\nkind: ResourceGroup\nmetadata: {name: nothing}\nspec: {types: [host]}\n"
	if err := load(map[string]string{"g.yaml": empty}); err == nil || !strings.Contains(err.Error(), "needs resources, tags or both") {
		t.Errorf("empty group: %v", err)
	}
	rb := "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: web-check}\nspec:\n  targets: {group: web-prod}\n  steps:\n    - {name: wait, action: sleep, with: {duration: 1s}}\n"
	if err := load(map[string]string{"r.yaml": rb}); err == nil ||
		!strings.Contains(err.Error(), `r.yaml:1: Runbook "web-check": targets.group names resource group "web-prod", which does not exist`) {
		t.Errorf("missing group: %v", err)
	}
	group := "apiVersion: flywheel/v1\nkind: ResourceGroup\nmetadata: {name: web-prod}\nspec: {tags: {role: web}}\n"
	if err := load(map[string]string{"r.yaml": rb, "g.yaml": group}); err != nil {
		t.Errorf("runbook with its group: %v", err)
	}
}
