package store

import (
	"context"
	"time"
)

// ContentGeneration is the database's content generation: a reload on any
// replica bumps it, and each replica loads its content again when the
// generation it polls differs from the one it loaded.
type ContentGeneration struct {
	Generation int64
	// Digest is the digest of the content the reloading replica loaded.
	Digest    string
	UpdatedAt time.Time
	UpdatedBy string
}

// ContentReader reads the content generation.
type ContentReader interface {
	GetContentGeneration(ctx context.Context) (ContentGeneration, error)
}

// ContentWriter bumps the content generation.
type ContentWriter interface {
	// BumpContentGeneration adds one to the generation, records digest,
	// at and by, and returns the new generation.
	BumpContentGeneration(ctx context.Context, digest string, at time.Time, by string) (ContentGeneration, error)
}
