package app

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// TestInventoryLookups: the deflector's tag and group lookups find the
// resource an event names by ID or, for a host, by its unique name; a
// group's members are its listed resources and those its selector picks.
func TestInventoryLookups(t *testing.T) {
	t.Parallel()
	st := sqlitetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: now}); err != nil {
			return err
		}
		for _, r := range []store.Resource{
			{ID: "res_1", Type: "host", Name: "web-1", Tags: map[string]string{"role": "web"}},
			{ID: "res_2", Type: "host", Name: "db-1", Tags: map[string]string{"role": "db"}},
			{ID: "res_3", Type: "host", Name: "twin", Tags: map[string]string{"role": "web"}},
			{ID: "res_4", Type: "host", Name: "twin", Tags: map[string]string{"role": "web"}},
		} {
			r.TenantID, r.CreatedAt, r.UpdatedAt = "acme", now, now
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	host := func(id string) event.ResourceRef { return event.ResourceRef{Type: "host", ID: id} }
	if got := inventoryTags(ctx, st, "acme", host("web-1")); got["role"] != "web" {
		t.Errorf("by host name: %v", got)
	}
	if got := inventoryTags(ctx, st, "acme", event.ResourceRef{Type: "ec2-instance", ID: "res_2"}); got["role"] != "db" {
		t.Errorf("by ID: %v", got)
	}
	if got := inventoryTags(ctx, st, "acme", host("twin")); got != nil {
		t.Errorf("two hosts named twin: %v, want no guess", got)
	}
	if got := inventoryTags(ctx, st, "globex", host("web-1")); got != nil {
		t.Errorf("another tenant: %v", got)
	}
	reg := content.NewRegistry()
	reg.Register(runbook.GroupKind())
	set, err := content.Load(reg, content.Source{Name: "t", FS: fstest.MapFS{"g.yaml": {Data: []byte(
		"apiVersion: flywheel/v1\nkind: ResourceGroup\nmetadata: {name: web}\nspec: {resources: [i-0abc], tags: {role: web}}\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	member := groupMember(runbook.NewGroups(set))
	for ref, want := range map[event.ResourceRef]bool{
		host("web-1"): true, host("db-1"): false, {Type: "ec2-instance", ID: "i-0abc"}: true, host("nowhere"): false,
	} {
		if got := member(ctx, st, "acme", "web", ref); got != want {
			t.Errorf("member(%v) = %v, want %v", ref, got, want)
		}
	}
	if member(ctx, st, "acme", "nope", host("web-1")) {
		t.Error("member of an undefined group")
	}
}
