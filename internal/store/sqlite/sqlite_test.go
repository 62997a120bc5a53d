package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
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

// TestHeldAndFlappingQueriesUseTheirPartialIndexes: DueHeldAlerts and
// FlappingAlerts (their WHERE clauses as sqlstore writes them) are answered
// from the partial indexes of migration 0125, which SQLite uses only when
// the query repeats the index's condition.
func TestHeldAndFlappingQueriesUseTheirPartialIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "flywheel.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for index, where := range map[string]string{
		"alerts_held":     "held_until > 0 AND held_until <= $1 ORDER BY held_until LIMIT $2",
		"alerts_flapping": "flapping = 1 ORDER BY last_change LIMIT $1",
	} {
		rows, err := s.Writer().QueryContext(context.Background(), "EXPLAIN QUERY PLAN SELECT fingerprint FROM alerts WHERE "+where, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "USING INDEX "+index) || slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, "TEMP B-TREE") }) {
			t.Errorf("WHERE %s: plan %q, want a search of %s with no sort", where, plan, index)
		}
	}
}
