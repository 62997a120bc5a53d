package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "flywheel.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), path, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
	ro, err := Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open beside a writer: %v", err)
	}
	ro.Close()
	s.Close()
	s2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	s2.Close()
}

func TestMigrateIdempotent(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "flywheel.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.Migrate(context.Background())
	if err != nil || n != 0 {
		t.Errorf("second migrate applied %d, err %v; want 0, nil", n, err)
	}
}
