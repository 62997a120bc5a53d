package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testBackupCatalogue(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	day := 24 * time.Hour
	p := store.RecoveryPoint{ID: store.NewID("rp", t0), TenantID: "acme", Plan: "prod-db", Rule: "daily", ResourceID: "res_db1",
		Method: "postgres", Repository: "/var/backups", Location: "/var/backups/app-1.sql", CreatedAt: t0, Duration: 1500 * time.Millisecond,
		SizeBytes: 4096, Checksum: "abc", Manifest: map[string]any{"tables": map[string]any{"public.t": map[string]any{"rows": float64(3)}}},
		Status: store.PointAvailable, Verification: store.VerifyNone, ExpiresAt: t0.Add(30 * day), ImmutableUntil: t0.Add(7 * day)}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateRecoveryPoint(ctx, p) })
	got, err := s.GetRecoveryPoint(ctx, "acme", p.ID)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("GetRecoveryPoint = %+v, %v; want %+v", got, err, p)
	}
	if _, err := s.GetRecoveryPoint(ctx, "globex", p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's point: %v, want ErrNotFound", err)
	}
	bad := p
	bad.ID, bad.ExpiresAt = store.NewID("rp", t0.Add(time.Second)), t0.Add(day)
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateRecoveryPoint(ctx, bad) }); !errors.Is(err, store.ErrImmutable) {
		t.Errorf("point expiring inside its immutability: %v, want ErrImmutable", err)
	}

	// The immutability window holds against every update.
	for name, change := range map[string]func(*store.RecoveryPoint){
		"shorten immutability": func(x *store.RecoveryPoint) { x.ImmutableUntil = t0.Add(day) },
		"expire early":         func(x *store.RecoveryPoint) { x.ExpiresAt = t0.Add(2 * day) },
		"delete early": func(x *store.RecoveryPoint) {
			at := t0.Add(6 * day)
			x.Status, x.DeletedAt = store.PointDeleted, &at
		},
	} {
		x := p
		change(&x)
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateRecoveryPoint(ctx, x) }); !errors.Is(err, store.ErrImmutable) {
			t.Errorf("%s: %v, want ErrImmutable", name, err)
		}
	}
	verified := t0.Add(time.Hour)
	p.Verification, p.VerifiedAt, p.ExpiresAt = store.VerifyPassed, &verified, t0.Add(7*day)
	mustTx(t, s, func(tx store.Tx) error { return tx.UpdateRecoveryPoint(ctx, p) })
	by := t0.Add(7 * day)
	expired, _, err := s.ListRecoveryPoints(ctx, "acme", store.RecoveryPointFilter{ExpiredBy: &by}, store.Page{})
	if err != nil || len(expired) != 1 || expired[0].Verification != store.VerifyPassed {
		t.Errorf("expired points by %s = %+v, %v; want the one point, verified", by, expired, err)
	}
	early := t0.Add(6 * day)
	if expired, _, _ := s.ListRecoveryPoints(ctx, "acme", store.RecoveryPointFilter{ExpiredBy: &early}, store.Page{}); len(expired) != 0 {
		t.Errorf("expired points by %s = %d, want none", early, len(expired))
	}
	deleted := t0.Add(7 * day)
	p.Status, p.DeletedAt = store.PointDeleted, &deleted
	mustTx(t, s, func(tx store.Tx) error { return tx.UpdateRecoveryPoint(ctx, p) })
	if got, _ := s.GetRecoveryPoint(ctx, "acme", p.ID); got.Status != store.PointDeleted {
		t.Errorf("after deletion at the end of immutability: status %s", got.Status)
	}

	// A failed point expires by its retention too; a deleted one is not
	// listed again.
	failed := p
	failed.ID, failed.Status, failed.DeletedAt, failed.Error = store.NewID("rp", t0.Add(2*time.Second)), store.PointFailed, nil, "exit code 1"
	failed.ExpiresAt, failed.ImmutableUntil = t0.Add(3*day), t0
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateRecoveryPoint(ctx, failed) })
	if expired, _, err := s.ListRecoveryPoints(ctx, "acme", store.RecoveryPointFilter{ExpiredBy: &by}, store.Page{}); err != nil ||
		len(expired) != 1 || expired[0].ID != failed.ID {
		t.Errorf("expired points by %s after the available one was deleted = %+v, %v; want only the failed one", by, expired, err)
	}

	rt := store.RestoreTest{ID: store.NewID("rt", t0), TenantID: "acme", Plan: "prod-db", PointID: p.ID, ResourceID: "res_db1",
		StartedAt: t0, Duration: 2 * time.Second, Status: "passed", Detail: "3 tables equal"}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateRestoreTest(ctx, rt) })
	tests, _, err := s.ListRestoreTests(ctx, "acme", "prod-db", store.Page{})
	if err != nil || len(tests) != 1 || !reflect.DeepEqual(tests[0], rt) {
		t.Errorf("ListRestoreTests = %+v, %v; want [%+v]", tests, err, rt)
	}
	if tests, _, _ := s.ListRestoreTests(ctx, "globex", "", store.Page{}); len(tests) != 0 {
		t.Errorf("another tenant sees %d restore tests", len(tests))
	}
}
