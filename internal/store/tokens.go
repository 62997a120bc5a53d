package store

import (
	"context"
	"time"
)

// TokenReader holds the queries over API tokens.
type TokenReader interface {
	// TokenByHash finds a token by the SHA-256 of its secret.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context, tenantID string, page Page) ([]Token, string, error)
}

// TokenWriter issues, revokes and touches tokens.
type TokenWriter interface {
	CreateToken(ctx context.Context, t Token, hash string) error
	// RevokeToken marks a token revoked and deletes its UI sessions;
	// ErrNotFound when the tenant has no such live token.
	RevokeToken(ctx context.Context, tenantID, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error
}
