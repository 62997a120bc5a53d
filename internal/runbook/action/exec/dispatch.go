package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

// Dispatch runs cmd on the server's own host (the "local" target) as an
// exec step would, for other callers of a Dispatcher (the backup
// service), and passes other targets to the Dispatcher in Options.
func (e *Exec) Dispatch(ctx context.Context, t action.Target, cmd Command) (Result, error) {
	if t.ID != LocalTarget {
		if e.opts.Dispatcher == nil {
			return Result{}, fmt.Errorf("exec: no agent dispatcher to reach %q", t.ID)
		}
		return e.opts.Dispatcher.Dispatch(ctx, t, cmd)
	}
	if !e.opts.AllowLocal {
		return Result{}, errors.New(`exec: the "local" target (the Flywheel server host) is disabled; the server's operator must enable it`)
	}
	if cmd.MaxOutput == 0 {
		cmd.MaxOutput = e.opts.MaxOutput
	}
	return e.runLocal(ctx, cmd)
}

var _ Dispatcher = (*Exec)(nil)
