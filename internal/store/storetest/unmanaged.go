package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testUnmanagedHosts covers the hosts without an agent: upsert keeps the
// first sighting and the raise, listing is per tenant and paginated,
// deletion forgets.
func testUnmanagedHosts(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	put := func(h store.UnmanagedHost) {
		t.Helper()
		mustTx(t, s, func(tx store.Tx) error { return tx.PutUnmanagedHost(ctx, h) })
	}
	put(store.UnmanagedHost{TenantID: "acme", Host: "web-03", Kind: "hostname", Source: "event alertmanager", FirstSeen: t0, LastSeen: t0})
	put(store.UnmanagedHost{TenantID: "acme", Host: "i-0abc1234", Kind: "instance-id", Source: "resource res_1", ResourceID: "res_1", FirstSeen: t0, LastSeen: t0})
	put(store.UnmanagedHost{TenantID: "globex", Host: "web-03", Kind: "hostname", Source: "event generic", FirstSeen: t0, LastSeen: t0})
	mustTx(t, s, func(tx store.Tx) error { return tx.SetUnmanagedHostRaised(ctx, "acme", "web-03", t0.Add(time.Second)) })
	// A later sighting refreshes last_seen and source, keeps first_seen and the raise.
	put(store.UnmanagedHost{TenantID: "acme", Host: "web-03", Kind: "hostname", Source: "resource res_9", ResourceID: "res_9", FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)})

	items, next, err := s.ListUnmanagedHosts(ctx, "acme", store.Page{Limit: 1})
	if err != nil || len(items) != 1 || next == "" {
		t.Fatalf("page 1 = %+v %q %v", items, next, err)
	}
	h := items[0]
	if h.Host != "web-03" || !h.FirstSeen.Equal(t0) || !h.LastSeen.Equal(t0.Add(time.Hour)) || h.Source != "resource res_9" ||
		h.ResourceID != "res_9" || h.RaisedAt == nil || !h.RaisedAt.Equal(t0.Add(time.Second)) || h.TenantID != "acme" {
		t.Errorf("web-03 = %+v", h)
	}
	items, next, err = s.ListUnmanagedHosts(ctx, "acme", store.Page{Limit: 1, Cursor: next})
	if err != nil || len(items) != 1 || next != "" || items[0].Host != "i-0abc1234" || items[0].RaisedAt != nil || items[0].Kind != "instance-id" {
		t.Fatalf("page 2 = %+v %q %v", items, next, err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.SetUnmanagedHostRaised(ctx, "acme", "nope", t0) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("raise unknown host: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteUnmanagedHost(ctx, "acme", "web-03") })
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteUnmanagedHost(ctx, "acme", "web-03") }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if items, _, _ := s.ListUnmanagedHosts(ctx, "acme", store.Page{}); len(items) != 1 {
		t.Errorf("acme after delete = %+v", items)
	}
	// The other tenant's host of the same name is untouched.
	if items, _, _ := s.ListUnmanagedHosts(ctx, "globex", store.Page{}); len(items) != 1 || items[0].Host != "web-03" || items[0].RaisedAt != nil {
		t.Errorf("globex = %+v", items)
	}
}
