// Package sqlitetest opens the throwaway SQLite stores that tests of other
// packages run on.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// Open opens a fresh SQLite store (default options) in the test's
// temporary directory; it is closed at the test's cleanup.
func Open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "flywheel.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
