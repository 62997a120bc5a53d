package app

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// TestOpsItemHosts: an OpsItem's host references resolve to the
// inventory's hosts by name; unknown names of hosts are dropped once one
// resolved; without any resolved, the executor's own targeting stays.
func TestOpsItemHosts(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fw.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"postgres": func(t *testing.T) store.Store { return postgres.OpenTest(t) },
	} {
		t.Run(name, func(t *testing.T) { testOpsItemHosts(t, open(t)) })
	}
}

func testOpsItemHosts(t *testing.T, st store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	item := func(tx store.Tx, id string, refs ...store.OpsItemResource) error {
		if err := tx.CreateOpsItem(ctx, store.OpsItem{ID: id, TenantID: "acme", Title: id, Category: "monitoring", Severity: "high",
			Status: "open", Source: "alertmanager", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for _, r := range refs {
			if err := tx.AddOpsItemResource(ctx, "acme", id, r); err != nil {
				return err
			}
		}
		return nil
	}
	host := func(name string) store.OpsItemResource { return store.OpsItemResource{Type: "host", ID: name} }
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, tn := range []string{"acme", "globex"} {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: tn, Name: tn, CreatedAt: now}); err != nil {
				return err
			}
		}
		for _, r := range []store.Resource{
			{ID: "res_web1", TenantID: "acme", Type: "host", Name: "web-1"},
			{ID: "res_twin_a", TenantID: "acme", Type: "host", Name: "twin"},
			{ID: "res_twin_b", TenantID: "acme", Type: "host", Name: "twin"},
			{ID: "res_other", TenantID: "globex", Type: "host", Name: "db-1"},
			{ID: "i-0123456789abcdef0", TenantID: "acme", Type: "ec2-instance", Name: "web-2"},
		} {
			r.CreatedAt, r.UpdatedAt = now, now
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return firstErr(
			// nodename and instance name the same host; the IP is unknown.
			item(tx, "oi_named", host("web-1"), host("10.0.3.41")),
			item(tx, "oi_ids", store.OpsItemResource{Type: "ec2-instance", ID: "i-0123456789abcdef0"}, host("web-1")),
			item(tx, "oi_unknown", host("web-9"), host("10.0.3.42")),
			item(tx, "oi_twins", host("twin")),
			item(tx, "oi_tenant", host("db-1")),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"oi_named", []string{"res_web1"}},
		{"oi_ids", []string{"i-0123456789abcdef0", "res_web1"}},
		{"oi_unknown", nil},
		{"oi_twins", nil},  // two hosts of that name: no guess
		{"oi_tenant", nil}, // another tenant's host is not found
	} {
		var got []string
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			got, err = opsItemHosts(ctx, tx, "acme", tc.id)
			return err
		})
		slices.Sort(got)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
