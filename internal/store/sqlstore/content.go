package sqlstore

import (
	"context"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func (r reader) GetContentGeneration(ctx context.Context) (store.ContentGeneration, error) {
	var g store.ContentGeneration
	var at int64
	err := r.q.QueryRow(ctx, "SELECT generation, digest, updated_at, updated_by FROM content_generation WHERE id = 1").
		Scan(&g.Generation, &g.Digest, &at, &g.UpdatedBy)
	g.UpdatedAt = fromTS(at)
	return g, r.notFound(err, "content generation")
}

func (t *tx) BumpContentGeneration(ctx context.Context, digest string, at time.Time, by string) (store.ContentGeneration, error) {
	g := store.ContentGeneration{Digest: digest, UpdatedAt: at, UpdatedBy: by}
	err := t.h.QueryRow(ctx, "UPDATE content_generation SET generation = generation + 1, digest = $1, updated_at = $2, updated_by = $3 WHERE id = 1 RETURNING generation",
		digest, ts(at), by).Scan(&g.Generation)
	return g, err
}
