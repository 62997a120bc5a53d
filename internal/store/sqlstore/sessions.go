package sqlstore

import (
	"context"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const sessionCols = "id_hash, tenant_id, token_id, token_hash, created_at, last_seen_at"

func (r reader) GetUISession(ctx context.Context, idHash string) (store.UISession, error) {
	var s store.UISession
	var created, seen int64
	err := r.q.QueryRow(ctx, "SELECT "+sessionCols+" FROM ui_sessions WHERE id_hash = $1", idHash).
		Scan(&s.IDHash, &s.TenantID, &s.TokenID, &s.TokenHash, &created, &seen)
	s.CreatedAt, s.LastSeenAt = fromTS(created), fromTS(seen)
	return s, r.notFound(err, "session")
}

func (t *tx) CreateUISession(ctx context.Context, s store.UISession) error {
	_, err := t.h.Exec(ctx, "INSERT INTO ui_sessions ("+sessionCols+") VALUES ($1, $2, $3, $4, $5, $6)",
		s.IDHash, s.TenantID, s.TokenID, s.TokenHash, ts(s.CreatedAt), ts(s.LastSeenAt))
	return conflict(t.b, err, "session")
}

func (t *tx) TouchUISession(ctx context.Context, idHash string, at time.Time) error {
	_, err := t.h.Exec(ctx, "UPDATE ui_sessions SET last_seen_at = $1 WHERE id_hash = $2", ts(at), idHash)
	return err
}

func (t *tx) DeleteUISession(ctx context.Context, idHash string) error {
	_, err := t.h.Exec(ctx, "DELETE FROM ui_sessions WHERE id_hash = $1", idHash)
	return err
}

func (t *tx) PruneUISessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	return t.h.Exec(ctx, "DELETE FROM ui_sessions WHERE created_at < $1 OR last_seen_at < $2", ts(createdBefore), ts(seenBefore))
}
