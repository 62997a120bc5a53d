package store

import (
	"context"
	"time"
)

// UISession is a logged-in browser: the UI's cookie holds a random session
// id, the store its SHA-256 (IDHash) and the token it was opened with
// (TokenHash, the token's secret hash, never the secret). Each request
// looks the token up again, so a revoked or expired token ends its
// sessions at once; revoking a token also deletes them.
type UISession struct {
	IDHash     string
	TenantID   string
	TokenID    string
	TokenHash  string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// SessionReader reads UI sessions.
type SessionReader interface {
	// GetUISession returns the session whose id hashes to idHash, or
	// ErrNotFound.
	GetUISession(ctx context.Context, idHash string) (UISession, error)
}

// SessionWriter writes UI sessions.
type SessionWriter interface {
	CreateUISession(ctx context.Context, s UISession) error
	// TouchUISession records activity (the idle expiry counts from it).
	TouchUISession(ctx context.Context, idHash string, at time.Time) error
	// DeleteUISession ends one session (logout); no error when it is gone.
	DeleteUISession(ctx context.Context, idHash string) error
	// PruneUISessions deletes sessions created before createdBefore or
	// last seen before seenBefore, returning how many.
	PruneUISessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error)
}
