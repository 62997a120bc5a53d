package app

import (
	"context"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// OpenStore opens (and migrates) the store a --db value names.
func OpenStore(ctx context.Context, db string) (store.Store, error) {
	return openStore(ctx, db, sqlite.Options{})
}

func openStore(ctx context.Context, db string, o sqlite.Options) (store.Store, error) {
	driver, loc, err := config.ParseDB(db)
	if err != nil {
		return nil, err
	}
	switch driver {
	case "sqlite":
		s, err := sqlite.Open(ctx, loc, o)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", loc, err)
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, loc, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return s, nil
	}
}

// OpenStoreReadOnly opens a store for inspection beside a running server
// (SQLite without the exclusive lock; PostgreSQL without migrating).
func OpenStoreReadOnly(ctx context.Context, db string) (store.Store, error) {
	driver, loc, err := config.ParseDB(db)
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		return sqlite.Open(ctx, loc, sqlite.Options{ReadOnly: true})
	}
	return postgres.Open(ctx, loc, postgres.Options{SkipMigrate: true})
}
