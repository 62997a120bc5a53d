package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// What is committed reaches the database file without any commit running
// a checkpoint (the writers' own only start at 80 MB of log).
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	body := []byte("[" + strings.Repeat(`{"labels":{"a":"b"}},`, 200) + `{"labels":{"a":"b"}}]`) // ~4 KB
	for i := range 50 {
		bs := make([]store.IntakeBatch, 10)
		for j := range bs {
			bs[j] = store.IntakeBatch{ID: fmt.Sprintf("ib_%03d_%02d", i, j), TenantID: "acme", Source: "x", ReceivedAt: t0, Body: body}
		}
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size() < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): no background checkpoint", size(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
