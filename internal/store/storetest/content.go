package storetest

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testContentGeneration: a new database is at generation 0; each bump adds
// one and records the digest and who reloaded, and a reader sees it.
func testContentGeneration(t *testing.T, s store.Store) {
	ctx := context.Background()
	g, err := s.GetContentGeneration(ctx)
	if err != nil || g.Generation != 0 || g.Digest != "" {
		t.Fatalf("new database: %+v, %v; want generation 0, no digest", g, err)
	}
	for want := int64(1); want <= 2; want++ {
		var bumped store.ContentGeneration
		mustTx(t, s, func(tx store.Tx) error {
			var err error
			bumped, err = tx.BumpContentGeneration(ctx, "digest-"+string(rune('a'+want)), t0, "tok_admin")
			return err
		})
		if bumped.Generation != want {
			t.Fatalf("bump %d returned generation %d", want, bumped.Generation)
		}
		got, err := s.GetContentGeneration(ctx)
		if err != nil || got.Generation != want || got.Digest != "digest-"+string(rune('a'+want)) || got.UpdatedBy != "tok_admin" || !got.UpdatedAt.Equal(t0) {
			t.Fatalf("after bump %d: %+v, %v", want, got, err)
		}
	}
}
