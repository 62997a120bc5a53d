package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Deliveries acknowledged into the journal but not processed when the
// backup is taken are in the backup, once: the restored store offers
// exactly those (not the processed ones, in order or claimed out of order)
// and goes on appending to a fresh journal.
func TestBackupCarriesUnprocessedDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "live", "flywheel.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var bs []store.IntakeBatch
	for i := range 10 {
		bs = append(bs, delivery(i))
	}
	if err := s.AppendIntake(ctx, bs); err != nil {
		t.Fatal(err)
	}
	// 0-2 processed in order (the cursor moves), 6 out of order (a claim).
	claim(t, s, intakeIDs(bs[:3]), false)
	claim(t, s, []string{bs[6].ID}, false)

	out := filepath.Join(dir, "backup.db")
	res, err := Backup(ctx, s.b.path, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deliveries != 6 || res.Bytes == 0 {
		t.Errorf("Backup = %+v, want 6 unprocessed deliveries moved", res)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v, %v; want 0600 (it holds token hashes)", fi.Mode(), err)
	}
	if _, err := Backup(ctx, s.b.path, out); err == nil {
		t.Error("a second backup overwrote the first")
	}

	restored := filepath.Join(dir, "restored", "flywheel.db")
	moved, err := Restore(ctx, out, restored, time.Now())
	if err != nil || moved != "" {
		t.Fatalf("Restore = %q, %v", moved, err)
	}
	r, err := Open(ctx, restored, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.UnprocessedIntake(ctx, t0.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{bs[3].ID, bs[4].ID, bs[5].ID, bs[7].ID, bs[8].ID, bs[9].ID}
	if ids := intakeIDs(got); !slices.Equal(ids, want) {
		t.Errorf("restored unprocessed deliveries = %v, want %v", ids, want)
	}
	if len(got) > 0 && string(got[0].Body) != string(bs[3].Body) {
		t.Errorf("restored body %q, want %q", got[0].Body, bs[3].Body)
	}
	// New deliveries are offered too, after the carried ones.
	if err := r.AppendIntake(ctx, []store.IntakeBatch{delivery(10)}); err != nil {
		t.Fatal(err)
	}
	if n, err := r.CountUnprocessedIntake(ctx); err != nil || n != 7 {
		t.Errorf("CountUnprocessedIntake = %d, %v; want 7", n, err)
	}
	if c := claim(t, r, append(slices.Clone(want), delivery(10).ID), false); len(c) != 7 {
		t.Errorf("claimed %v, want all 7", c)
	}

	// Restoring over a database needs it stopped: the live store holds it.
	if _, err := Restore(ctx, out, s.b.path, time.Now()); err == nil {
		t.Error("restored over a database a running store holds")
	}
}
