package jobs

import (
	"context"
	"log/slog"
)

// quietHandler passes River's records on with everything below WARN
// demoted to DEBUG: River logs each applied migration, its client's start
// and stop, and its producer's job counts every few seconds at INFO, which
// is a library's routine chatter, not the server's news. Warnings and
// errors keep their level.
type quietHandler struct{ next slog.Handler }

// riverLogger wraps log for River (its client and its migrator).
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(quietHandler{next: log.Handler()})
}

func demote(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, demote(l))
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if l := demote(r.Level); l != r.Level {
		r = r.Clone()
		r.Level = l
	}
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{next: h.next.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{next: h.next.WithGroup(name)}
}
