package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testPackInstallations: a pack installed for a tenant is read back with
// its files, scoped to that tenant; replacing it keeps the first install's
// time and actor; deleting it twice is ErrNotFound the second time.
func testPackInstallations(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	p := store.PackInstallation{TenantID: "acme", Name: "postgresql", Version: "1.0.0", Digest: "d1",
		Files:       []store.PackFile{{Path: "pack.yaml", Data: []byte("kind: Pack\n")}, {Path: "runbooks/a.yaml", Data: []byte{0, 1, 0xff}}},
		InstalledAt: t0, InstalledBy: "tok_admin", UpdatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutPackInstallation(ctx, p) })
	mustTx(t, s, func(tx store.Tx) error {
		return tx.PutPackInstallation(ctx, store.PackInstallation{TenantID: "globex", Name: "redis", Version: "0.1.0", Digest: "d2",
			InstalledAt: t0, InstalledBy: "tok_g", UpdatedAt: t0})
	})
	got, err := s.GetPackInstallation(ctx, "acme", "postgresql")
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("get = %+v, %v; want %+v", got, err, p)
	}
	if _, err := s.GetPackInstallation(ctx, "globex", "postgresql"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's pack: %v, want ErrNotFound", err)
	}
	up := p
	up.Version, up.Digest, up.Files, up.InstalledAt, up.InstalledBy, up.UpdatedAt = "1.1.0", "d3", nil, t0.Add(time.Hour), "tok_other", t0.Add(time.Hour)
	mustTx(t, s, func(tx store.Tx) error { return tx.PutPackInstallation(ctx, up) })
	list, err := s.ListPackInstallations(ctx, "acme")
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if g := list[0]; g.Version != "1.1.0" || g.Digest != "d3" || len(g.Files) != 0 || !g.InstalledAt.Equal(t0) || g.InstalledBy != "tok_admin" || !g.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after upgrade: %+v", g)
	}
	all, err := s.ListAllPackInstallations(ctx)
	if err != nil || len(all) != 2 || all[0].TenantID != "acme" || all[1].TenantID != "globex" {
		t.Fatalf("all = %+v, %v", all, err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeletePackInstallation(ctx, "acme", "postgresql") })
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeletePackInstallation(ctx, "acme", "postgresql") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}
