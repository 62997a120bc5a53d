package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// Why a command's context ends early.
var (
	errCancelled = errors.New("cancelled by the server")
	errTimeout   = errors.New("timed out")
	errStopping  = errors.New("the agent is stopping")
)

// ErrRestart is returned by Run when a self-update asked for the process
// to be replaced.
var ErrRestart = errors.New("agent restart for a self-update")

const (
	defaultShell = "/bin/sh"
	// flushEvery and flushBytes bound how long output waits before it is
	// streamed to the server.
	flushEvery = 500 * time.Millisecond
	flushBytes = 64 << 10
)

// startCommand runs c in the background, holding a slot until its result
// is delivered.
func (a *Agent) startCommand(ctx context.Context, c wire.Command) {
	cctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	a.mu.Lock()
	if _, dup := a.running[c.ID]; dup {
		a.mu.Unlock()
		cancel(nil)
		return
	}
	a.running[c.ID] = cancel
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			a.mu.Lock()
			delete(a.running, c.ID)
			a.mu.Unlock()
			cancel(nil)
			select {
			case a.freed <- struct{}{}:
			default:
			}
		}()
		a.runCommand(cctx, ctx, c)
	}()
}

func (a *Agent) cancelCommand(id string) {
	a.mu.Lock()
	cancel := a.running[id]
	a.mu.Unlock()
	if cancel != nil {
		a.log.Info("cancelling command", "command", id)
		cancel(errCancelled)
	}
}

// stopCommands kills every running command (the agent is stopping) and
// waits for their results to be reported, or for a bound.
func (a *Agent) stopCommands() {
	a.mu.Lock()
	for _, cancel := range a.running {
		cancel(errStopping)
	}
	a.mu.Unlock()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(a.cfg.KillGrace + 10*time.Second):
		a.log.Warn("commands still reporting at shutdown")
	}
}

// runCommand runs one command: cctx ends it (cancel, stop); agentCtx bounds
// reporting its output and result.
func (a *Agent) runCommand(cctx, agentCtx context.Context, c wire.Command) {
	log := a.log.With("command", c.ID)
	spec := c.Spec
	if spec.Timeout <= 0 {
		spec.Timeout = 5 * time.Minute
	}
	runCtx, stop := context.WithTimeoutCause(cctx, spec.Timeout, errTimeout)
	defer stop()
	out := &outputStream{a: a, id: c.ID, cap: a.cfg.OutputCap, ctx: context.WithoutCancel(agentCtx)}
	start := time.Now()
	exit, runErr := a.execute(runCtx, spec, out)
	out.close()
	res := wire.Result{OutputBytes: out.total()}
	switch cause := context.Cause(runCtx); {
	case runErr != nil && exit == nil:
		res.Status, res.Error = wire.StatusFailed, runErr.Error()
	case errors.Is(cause, errTimeout):
		res.Status, res.ExitCode, res.Error = wire.StatusTimedOut, exit, fmt.Sprintf("timed out after %s; process group killed", spec.Timeout)
	case errors.Is(cause, errCancelled), errors.Is(cause, errStopping):
		res.Status, res.ExitCode, res.Error = wire.StatusCancelled, exit, cause.Error()+"; process group killed"
	case *exit == 0:
		res.Status, res.ExitCode = wire.StatusSucceeded, exit
	default:
		res.Status, res.ExitCode = wire.StatusFailed, exit
	}
	code := "none"
	if exit != nil {
		code = fmt.Sprint(*exit)
	}
	log.Info("command ended", "status", res.Status, "exit_code", code, "duration", time.Since(start).Round(time.Millisecond), "output_bytes", res.OutputBytes)
	a.report(agentCtx, c.ID, res)
}

// report delivers a result, retrying with backoff: the slot stays taken
// until the server has it (or the agent stops for good).
func (a *Agent) report(ctx context.Context, id string, res wire.Result) {
	b := backoff{min: a.cfg.MinBackoff, max: a.cfg.MaxBackoff}
	// When the agent is stopping, try for a short while only.
	rctx := context.WithoutCancel(ctx)
	var cancel context.CancelFunc
	if ctx.Err() != nil {
		rctx, cancel = context.WithTimeout(rctx, 5*time.Second)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		err := a.c.do(rctx, "POST", wire.CommandResultPath(id), res, nil)
		if err == nil || errors.Is(err, ErrRejected) || statusOf(err) == 404 || statusOf(err) == 400 {
			if err != nil {
				a.log.Warn("result not accepted", "command", id, "error", err)
			}
			return
		}
		d := b.next()
		if attempt == 1 || attempt%10 == 0 {
			a.log.Warn("reporting result failed; retrying", "command", id, "error", err, "in", d)
		}
		select {
		case <-time.After(d):
		case <-rctx.Done():
			return
		case <-ctx.Done():
			if cancel == nil {
				rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
			}
		}
	}
}

// execute starts spec in its own process group, copies its combined output
// to out, and stops the whole group when ctx ends. exit is nil when the
// process never started.
func (a *Agent) execute(ctx context.Context, spec wire.CommandSpec, out io.Writer) (exit *int, err error) {
	if spec.Patch != nil {
		return a.patch(ctx, *spec.Patch, out)
	}
	argv := spec.Argv
	if len(argv) == 0 {
		shell := spec.Shell
		if shell == "" {
			shell = defaultShell
		}
		argv = []string{shell, "-c", spec.Script}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	env, err := commandEnv(spec)
	if err != nil {
		return nil, err
	}
	cmd.Env = env
	if err := setUser(cmd, spec.User); err != nil {
		return nil, err
	}
	setGroup(cmd)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, r)
		close(copied)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		// Timeout or cancellation: the whole group goes, SIGTERM then
		// SIGKILL for whatever is left after the grace period.
		werr = stopGroup(cmd, a.cfg.KillGrace, waited)
	}
	// A process the command deliberately left running (nohup … &) is not
	// killed when the command exits normally, as with the exec action run
	// locally; it may hold the output pipe open, so reading stops after
	// the grace period.
	select {
	case <-copied:
	case <-time.After(a.cfg.KillGrace):
	}
	r.Close()
	code := cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return &code, werr
	}
	return &code, nil
}

// commandEnv is a minimal environment (the agent's own may hold things a
// command should not see) plus the command's variables.
func commandEnv(spec wire.CommandSpec) ([]string, error) {
	env := map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
	if home, user, ok := userEnv(spec.User); ok {
		env["HOME"], env["USER"], env["LOGNAME"] = home, user, user
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out, nil
}

// outputStream buffers a command's output and streams it to the server in
// chunks, up to cap bytes; it counts everything.
type outputStream struct {
	a   *Agent
	id  string
	cap int
	ctx context.Context

	mu      sync.Mutex
	buf     bytes.Buffer
	sent    int64 // bytes handed to the server
	counted int64 // bytes the command wrote
	last    time.Time
	closed  bool
	flushMu sync.Mutex
	timer   *time.Timer
}

func (o *outputStream) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.counted += int64(len(p))
	room := int64(o.cap) - o.sent - int64(o.buf.Len())
	if room > 0 {
		o.buf.Write(p[:min(int64(len(p)), room)])
	}
	n := o.buf.Len()
	if o.timer == nil && n > 0 {
		o.timer = time.AfterFunc(flushEvery, func() { o.flush() })
	}
	o.mu.Unlock()
	if n >= flushBytes {
		o.flush()
	}
	return len(p), nil
}

// flush sends what is buffered. Chunks go out one at a time, in order.
func (o *outputStream) flush() {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	o.mu.Lock()
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	data := o.buf.String()
	o.buf.Reset()
	offset := o.sent
	o.sent += int64(len(data))
	o.mu.Unlock()
	if data == "" {
		return
	}
	b := backoff{min: o.a.cfg.MinBackoff, max: 2 * time.Second}
	for attempt := 0; attempt < 5; attempt++ {
		ctx, cancel := context.WithTimeout(o.ctx, 30*time.Second)
		err := o.a.c.do(ctx, "POST", wire.CommandOutputPath(o.id), wire.Output{Offset: offset, Data: data}, nil)
		cancel()
		if err == nil || errors.Is(err, ErrRejected) || statusOf(err) == 404 || statusOf(err) == 400 {
			return
		}
		if !sleep(o.ctx, b.next()) {
			return
		}
	}
	o.a.log.Warn("output chunk lost", "command", o.id, "offset", offset, "bytes", len(data))
}

func (o *outputStream) close() { o.flush() }

func (o *outputStream) total() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counted
}
