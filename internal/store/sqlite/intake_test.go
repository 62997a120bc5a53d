package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func intakeIDs(bs []store.IntakeBatch) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// Deliveries appended to the intake file are listed until a processing
// transaction claims them, exactly once; a claim rolled back is none; a
// claim whose hint was lost (a crash after the commit) still counts, and
// the scan repairs the hint; all of it survives a restart.
func TestIntakeFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var bs []store.IntakeBatch
	for i := range 150 {
		bs = append(bs, store.IntakeBatch{ID: fmt.Sprintf("ib_%04d", i), TenantID: "acme", Source: "alertmanager-v2",
			ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), Header: []byte(`{"Content-Type":"application/json"}`), Body: []byte(fmt.Sprintf(`[{"n":%d}]`, i))})
	}
	if err := s.AppendIntake(ctx, bs[:100]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendIntake(ctx, bs[100:]); err != nil {
		t.Fatal(err)
	}
	// One more the old way, inside a main transaction.
	legacy := store.IntakeBatch{ID: "ib_0075_legacy", TenantID: "acme", Source: "x", ReceivedAt: t0, Body: []byte("[]")}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, []store.IntakeBatch{legacy}) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 1000)
	if err != nil || len(got) != 151 {
		t.Fatalf("unprocessed: %d, %v", len(got), err)
	}
	if got[76].ID != "ib_0075_legacy" || string(got[5].Body) != `[{"n":5}]` || !got[5].ReceivedAt.Equal(bs[5].ReceivedAt) || string(got[5].Header) != string(bs[5].Header) {
		t.Fatalf("unprocessed[5] = %+v, [76] = %s", got[5], got[76].ID)
	}
	if got, _ := s.UnprocessedIntake(ctx, t0.Add(10*time.Millisecond), 1000); len(got) != 11 { // received before: 0…9 and the legacy one
		t.Fatalf("received before 10ms: %d", len(got))
	}

	// Claim 0…59 and the legacy one; again: nothing; rolled back: nothing.
	claim := func(ids []string, fail bool) []string {
		var c []string
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx store.Tx) error {
			var err error
			if c, err = tx.ClaimIntakeBatches(ctx, ids); err != nil {
				return err
			}
			if fail {
				return boom
			}
			return nil
		})
		if err != nil && !(fail && errors.Is(err, boom)) {
			t.Fatal(err)
		}
		slices.Sort(c)
		return c
	}
	first := append(intakeIDs(bs[:60]), legacy.ID, "ib_nosuch")
	if c := claim(first, false); len(c) != 61 {
		t.Fatalf("claimed %d, want 61", len(c))
	}
	if c := claim(first, false); len(c) != 0 {
		t.Fatalf("claimed again: %v", c)
	}
	if c := claim(intakeIDs(bs[60:70]), true); len(c) != 10 {
		t.Fatalf("claim in the failed transaction: %d", len(c))
	}
	if ok, err := s.IntakeProcessed(ctx, "ib_0065"); err != nil || ok {
		t.Fatalf("rolled-back claim: processed = %v, %v", ok, err)
	}
	for id, want := range map[string]bool{"ib_0010": true, legacy.ID: true, "ib_0100": false} {
		if ok, err := s.IntakeProcessed(ctx, id); err != nil || ok != want {
			t.Fatalf("IntakeProcessed(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
	if _, err := s.IntakeProcessed(ctx, "ib_nosuch"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}

	// A claim committed without its hint (as if the process died between).
	if _, err := s.b.writer.ExecContext(ctx, "INSERT INTO intake_claims (id) VALUES ('ib_0070'), ('ib_0071')"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 150-60-2 {
		t.Fatalf("count = %d, %v; want %d", n, err, 150-60-2)
	}
	got, err = s.UnprocessedIntake(ctx, t0.Add(time.Hour), 1000)
	if err != nil || len(got) != 88 || got[0].ID != "ib_0060" || slices.Contains(intakeIDs(got), "ib_0070") {
		t.Fatalf("unprocessed after claims: %d (first %v), %v", len(got), intakeIDs(got)[:min(3, len(got))], err)
	}
	var hint int
	if err := s.b.intakeR.QueryRowContext(ctx, "SELECT processed FROM intake_batches WHERE id = 'ib_0070'").Scan(&hint); err != nil || hint != 1 {
		t.Fatalf("hint not repaired: %d, %v", hint, err)
	}

	// After a restart the same holds.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 50); err != nil || len(got) != 50 || got[0].ID != "ib_0060" {
		t.Fatalf("after restart: %d, %v", len(got), err)
	}
	if c := claim(intakeIDs(bs), false); len(c) != 88 {
		t.Fatalf("claimed %d after restart, want 88", len(c))
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 0 {
		t.Fatalf("count at the end = %d, %v", n, err)
	}
}

// A processing transaction's hints wait for the next group commit of new
// deliveries and are written in it; those no delivery followed are written
// at Close.
func TestIntakeHintsRideTheNextAppend(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(i int) store.IntakeBatch {
		return store.IntakeBatch{ID: fmt.Sprintf("ib_%04d", i), TenantID: "acme", Source: "x", ReceivedAt: t0, Body: []byte("[]")}
	}
	hint := func(id string) int {
		var h int
		if err := s.b.intakeR.QueryRowContext(ctx, "SELECT processed FROM intake_batches WHERE id = ?", id).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	claim := func(ids ...string) {
		if err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.ClaimIntakeBatches(ctx, ids); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendIntake(ctx, []store.IntakeBatch{mk(1), mk(2)}); err != nil {
		t.Fatal(err)
	}
	claim("ib_0001")
	if h := hint("ib_0001"); h != 0 {
		t.Fatalf("hint written before the next append: %d", h)
	}
	if ok, err := s.IntakeProcessed(ctx, "ib_0001"); err != nil || !ok {
		t.Fatalf("processed without its hint = %v, %v", ok, err)
	}
	if err := s.AppendIntake(ctx, []store.IntakeBatch{mk(3)}); err != nil {
		t.Fatal(err)
	}
	if h1, h2 := hint("ib_0001"), hint("ib_0002"); h1 != 1 || h2 != 0 {
		t.Fatalf("after the next append: hints %d, %d; want 1, 0", h1, h2)
	}
	claim("ib_0002", "ib_0003")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h2, h3 := hint("ib_0002"), hint("ib_0003"); h2 != 1 || h3 != 1 {
		t.Fatalf("after Close: hints %d, %d; want 1, 1", h2, h3)
	}
}
