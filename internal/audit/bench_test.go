package audit_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// BenchmarkAppend measures one audited change on the embedded store: a
// transaction that appends one record (head row update, hash, insert) and
// commits.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "flywheel.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := audit.Entry{Actor: "token:tok_1", Action: "opsitem.update", Target: "opsitem/oi_1", Detail: map[string]string{"status": "resolved"}}
	b.ReportAllocs()
	for b.Loop() {
		err := st.InTx(ctx, func(tx store.Tx) error {
			_, err := audit.Append(ctx, tx, "acme", t0, e)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
