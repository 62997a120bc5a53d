package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testPatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	st := store.PatchState{TenantID: "t1", ResourceID: "res_a", Hostname: "a", Group: "web", Baseline: "debian-default",
		ScannedAt: t0, Compliant: false, NoncompliantSince: &t0, Detail: json.RawMessage(`{"missing":2}`)}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.PutPatchState(ctx, st); err != nil {
			return err
		}
		st2 := st
		st2.ScannedAt, st2.Compliant, st2.NoncompliantSince, st2.Detail = t0.Add(time.Hour), true, nil, json.RawMessage(`{"missing":0}`)
		if err := tx.PutPatchState(ctx, st2); err != nil {
			return err
		}
		return tx.NotePatchReleases(ctx, "t1", map[string]time.Time{"curl=8.5": t0, "bash=5.2": t0})
	})
	mustTx(t, s, func(tx store.Tx) error {
		// A later sighting keeps the first.
		return tx.NotePatchReleases(ctx, "t1", map[string]time.Time{"curl=8.5": t0.Add(48 * time.Hour), "curl=8.6": t0.Add(time.Hour)})
	})
	got, err := s.GetPatchState(ctx, "t1", "res_a")
	if err != nil || !got.Compliant || !got.ScannedAt.Equal(t0.Add(time.Hour)) || got.NoncompliantSince != nil || string(got.Detail) != `{"missing":0}` {
		t.Fatalf("GetPatchState = %+v, %v", got, err)
	}
	if _, err := s.GetPatchState(ctx, "t2", "res_a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other tenant's state: %v", err)
	}
	hist, err := s.ListPatchHistory(ctx, "t1", t0)
	if err != nil || len(hist) != 2 || hist[0].Compliant || !hist[1].Compliant {
		t.Errorf("history = %+v, %v", hist, err)
	}
	rel, err := s.PatchReleases(ctx, "t1", []string{"curl"})
	if err != nil || len(rel) != 2 || !rel["curl=8.5"].Equal(t0) || !rel["curl=8.6"].Equal(t0.Add(time.Hour)) {
		t.Errorf("releases = %v, %v", rel, err)
	}
	if rel, _ := s.PatchReleases(ctx, "t2", []string{"curl"}); len(rel) != 0 {
		t.Errorf("t2 releases = %v", rel)
	}
	e := store.Expedite{ID: "exp_1", TenantID: "t1", Package: "openssl", Source: "advisory DSA-1", Targets: []string{"res_a"},
		RequestedAt: t0, DueAt: t0.Add(38 * time.Hour), Status: store.ExpediteAwaitingApproval}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutExpedite(ctx, e) })
	open, err := s.OpenExpedites(ctx, 10)
	if err != nil || len(open) != 1 || open[0].Targets[0] != "res_a" || !open[0].DueAt.Equal(e.DueAt) {
		t.Fatalf("open = %+v, %v", open, err)
	}
	e.Status, e.InstalledAt = store.ExpediteInstalled, &t0
	mustTx(t, s, func(tx store.Tx) error { return tx.PutExpedite(ctx, e) })
	if open, _ := s.OpenExpedites(ctx, 10); len(open) != 0 {
		t.Errorf("installed expedite still open: %+v", open)
	}
	if l, _ := s.ListExpedites(ctx, "t1"); len(l) != 1 || l[0].Status != store.ExpediteInstalled {
		t.Errorf("list = %+v", l)
	}
	if l, _ := s.ListExpedites(ctx, "t2"); len(l) != 0 {
		t.Errorf("t2 list = %+v", l)
	}
}

func testPatchKeysAndLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	claim := func(tenant, key, id string) (bool, string) {
		var ok bool
		var holder string
		mustTx(t, s, func(tx store.Tx) (err error) {
			ok, holder, err = tx.ClaimExpediteKey(ctx, tenant, key, id)
			return err
		})
		return ok, holder
	}
	if ok, h := claim("t1", "openssl=3.0.15@res_a", "exp_1"); !ok || h != "exp_1" {
		t.Fatalf("first claim = %v %q", ok, h)
	}
	if ok, h := claim("t1", "openssl=3.0.15@res_a", "exp_2"); ok || h != "exp_1" {
		t.Errorf("second claim = %v %q, want held by exp_1", ok, h)
	}
	if ok, _ := claim("t2", "openssl=3.0.15@res_a", "exp_3"); !ok {
		t.Errorf("another tenant's key is its own")
	}

	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	// Compliance history is pruned by age, in every tenant.
	for i, tenant := range []string{"t1", "t2", "t1"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		mustTx(t, s, func(tx store.Tx) error {
			return tx.PutPatchState(ctx, store.PatchState{TenantID: tenant, ResourceID: "res_p", ScannedAt: at, Compliant: true, Detail: json.RawMessage(`{}`)})
		})
	}
	var pruned int64
	mustTx(t, s, func(tx store.Tx) (err error) {
		pruned, err = tx.PrunePatchHistory(ctx, t0.Add(90*time.Minute))
		return err
	})
	h1, _ := s.ListPatchHistory(ctx, "t1", time.Time{})
	h2, _ := s.ListPatchHistory(ctx, "t2", time.Time{})
	if pruned != 2 || len(h1) != 1 || !h1[0].At.Equal(t0.Add(2*time.Hour)) || len(h2) != 0 {
		t.Errorf("pruned %d: t1 %+v, t2 %+v", pruned, h1, h2)
	}
	if st, err := s.GetPatchState(ctx, "t2", "res_p"); err != nil || !st.ScannedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("pruning the history took the state: %+v %v", st, err)
	}

	take := func(l store.PatchLease, now time.Time) bool {
		var ok bool
		mustTx(t, s, func(tx store.Tx) (err error) {
			ok, err = tx.TakePatchLease(ctx, l, now)
			return err
		})
		return ok
	}
	a := store.PatchLease{TenantID: "t1", Key: "app:shop", Holder: "h_a", ResourceID: "res_a", AcquiredAt: t0, ExpiresAt: t0.Add(time.Hour)}
	b := store.PatchLease{TenantID: "t1", Key: "app:shop", Holder: "h_b", ResourceID: "res_b", AcquiredAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if !take(a, t0) {
		t.Fatal("a free lease was not taken")
	}
	if take(b, t0.Add(time.Minute)) {
		t.Error("a held lease was taken by another holder")
	}
	if !take(store.PatchLease{TenantID: "t2", Key: "app:shop", Holder: "h_c", AcquiredAt: t0, ExpiresAt: t0.Add(time.Hour)}, t0) {
		t.Error("another tenant's key is its own")
	}
	// The holder marks the reboot and extends it.
	reb := t0.Add(10 * time.Minute)
	a.RebootedAt, a.ExpiresAt = &reb, reb.Add(15*time.Minute)
	if !take(a, reb) {
		t.Error("the holder could not renew its lease")
	}
	got, err := s.GetPatchLease(ctx, "t1", "app:shop")
	if err != nil || got.Holder != "h_a" || got.ResourceID != "res_a" || got.RebootedAt == nil || !got.RebootedAt.Equal(reb) || !got.ExpiresAt.Equal(reb.Add(15*time.Minute)) {
		t.Fatalf("lease = %+v, %v", got, err)
	}
	if take(b, reb.Add(14*time.Minute)) {
		t.Error("taken before it expired")
	}
	if !take(b, reb.Add(15*time.Minute)) {
		t.Error("an expired lease was not taken")
	}
	// Only the holder releases.
	mustTx(t, s, func(tx store.Tx) error { return tx.ReleasePatchLease(ctx, "t1", "app:shop", "h_a") })
	if got, err := s.GetPatchLease(ctx, "t1", "app:shop"); err != nil || got.Holder != "h_b" {
		t.Errorf("after a stranger's release: %+v, %v", got, err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.ReleasePatchLease(ctx, "t1", "app:shop", "h_b") })
	if _, err := s.GetPatchLease(ctx, "t1", "app:shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after release: %v", err)
	}
}
