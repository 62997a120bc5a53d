package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// unavailable marks err with store.ErrUnavailable when it says the server
// cannot be reached now rather than that the statement is wrong: the
// connection refused, cut or closed (a restart, a fail-over), or the
// server refusing work while it shuts down or starts (SQLSTATE class 08,
// 57P01..57P03). The pool replaces broken connections by itself, so the
// same request succeeds once the server is back.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailableRow and unavailableRows carry unavailable to errors that
// surface when a result is read.
type unavailableRow struct{ pgx.Row }

func (r unavailableRow) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

type unavailableRows struct{ pgx.Rows }

func (r unavailableRows) Err() error { return unavailable(r.Rows.Err()) }

func (r unavailableRows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }
