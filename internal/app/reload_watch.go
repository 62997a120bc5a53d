package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// contentWatch polls the database's content generation (config
// content_poll) and loads the content again when another replica has
// published a reload.
type contentWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *contentWatch) start(ctx context.Context, a *App) {
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		t := time.NewTicker(a.cfg.ContentPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.pollContent(ctx)
			}
		}
	}()
}

// stop ends the watch and waits for a reload in progress.
func (w *contentWatch) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
}

// pollContent reloads when the database's generation is not the one this
// replica loaded. A failure is logged and retried at the next poll.
func (a *App) pollContent(ctx context.Context) {
	g, err := a.st.GetContentGeneration(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("content generation unreadable; trying again", "err", err)
		}
		return
	}
	if g.Generation == a.live.Load().generation {
		return
	}
	if err := a.reloadTo(ctx, g.Generation); err != nil {
		a.log.Error("content reload published by another replica failed here; this replica keeps its content",
			"generation", g.Generation, "digest", g.Digest, "err", err)
	}
}

// reloadOnHangup reloads the content when the process gets SIGHUP (the
// reload then reaches every replica, as POST /api/v1/content/reload). The
// returned function stops listening.
func (a *App) reloadOnHangup(ctx context.Context) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				if st, err := a.ReloadContent(ctx, "signal:SIGHUP"); err != nil {
					a.log.Error("content reload on SIGHUP refused; the content in force stays", "err", err)
				} else {
					a.log.Info("content reloaded on SIGHUP", "generation", st.Generation, "digest", st.Digest)
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
