package sqlite

import (
	"context"
	"database/sql"

	"github.com/flywheel-ops/flywheel/internal/store/sqlstore"
)

// sqlExecer is what *sql.DB and *sql.Tx have in common.
type sqlExecer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type dbQuerier struct{ db sqlExecer }

func (d dbQuerier) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := d.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d dbQuerier) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d dbQuerier) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return d.db.QueryRowContext(ctx, q, args...)
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type txHandle struct{ tx *sql.Tx }

func (t txHandle) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return dbQuerier{t.tx}.Exec(ctx, q, args...)
}
func (t txHandle) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return dbQuerier{t.tx}.Query(ctx, q, args...)
}
func (t txHandle) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return t.tx.QueryRowContext(ctx, q, args...)
}
func (t txHandle) Commit(context.Context) error   { return t.tx.Commit() }
func (t txHandle) Rollback(context.Context) error { return t.tx.Rollback() }
func (t txHandle) Raw() any                       { return t.tx }
