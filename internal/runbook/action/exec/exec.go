// Package exec is the `exec` step action: run a command or a shell script on
// a step's target and capture its exit code and output.
//
// Commands reach hosts through the host agent (a Dispatcher). Until the
// agent exists only the `local` target — the Flywheel server's own host — is
// supported, and only when the operator enables it (Options.AllowLocal):
// a runbook that can run anything on the server is a privilege an operator
// grants, not a default.
//
// A local command runs in its own process group with a minimal environment
// (the server's environment holds its credentials and is not passed on);
// when the step times out or the execution is cancelled the whole group is
// sent SIGTERM and, after a grace period, SIGKILL, so no stray children
// outlive the step.
package exec

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// LocalTarget is the target ID of the server's own host.
const LocalTarget = "local"

const (
	defaultMaxOutput = 64 << 10
	defaultShell     = "/bin/sh"
	defaultKillGrace = 5 * time.Second
	// maxScript keeps a script under Linux's limit for one argument
	// (MAX_ARG_STRLEN, 128 KiB), since it is passed as `sh -c SCRIPT`.
	maxScript = 100 << 10
)

// Options configure the exec action.
type Options struct {
	// AllowLocal lets steps run commands on the server host (target
	// "local"). Off by default.
	AllowLocal bool
	// MaxOutput is how many bytes of stdout and of stderr are kept, each;
	// beyond it the tail is kept. Default 64 KiB.
	MaxOutput int
	// Shell runs `script` inputs as Shell -c SCRIPT. Default /bin/sh.
	Shell string
	// KillGrace is how long a stopped command's process group has between
	// SIGTERM and SIGKILL. Default 5s.
	KillGrace time.Duration
	// Dispatcher runs commands on targets other than "local" (the host
	// agent). Nil: only "local" is supported.
	Dispatcher Dispatcher
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.MaxOutput <= 0 {
		o.MaxOutput = defaultMaxOutput
	}
	if o.Shell == "" {
		o.Shell = defaultShell
	}
	if o.KillGrace <= 0 {
		o.KillGrace = defaultKillGrace
	}
	return o
}

// Dispatcher runs a command on a remote target; the host agent implements
// it.
type Dispatcher interface {
	// Dispatch runs cmd on target and returns when it has finished. A
	// non-zero exit is a Result, not an error; an error means the command
	// did not run to completion (not delivered, agent lost, timed out,
	// cancelled). A Result with a zero Duration means it never started.
	Dispatch(ctx context.Context, target action.Target, cmd Command) (Result, error)
}

// Command is what to run: Argv, or Script run by a shell.
type Command struct {
	Argv   []string
	Script string
	// Env is added to a minimal environment (PATH, HOME, USER, LOGNAME).
	Env map[string]string
	// Dir is the working directory; "" means "/".
	Dir string
	// User runs the command as another user ("" for the runner's own).
	User string
	// Timeout bounds the run; 0 leaves only the caller's context.
	Timeout time.Duration
	// MaxOutput bytes of stdout and of stderr are kept (the tail).
	MaxOutput int
	// Patch, instead of Argv or Script, asks the host agent to run a
	// patch operation with its own package backend (the patch action).
	Patch *wire.PatchRequest
}

// Result is how a command ended.
type Result struct {
	// ExitCode is -1 when the process was killed by a signal.
	ExitCode int
	// Signal names the signal that killed it ("" if it exited).
	Signal         string
	Stdout, Stderr string
	// StdoutBytes and StderrBytes count everything written, kept or not.
	StdoutBytes, StderrBytes int64
	Duration                 time.Duration
}

// Truncated reports whether output was dropped.
func (r Result) Truncated() bool {
	return r.StdoutBytes > int64(len(r.Stdout)) || r.StderrBytes > int64(len(r.Stderr))
}

// ExitError is returned when a command exits with a code the step does not
// expect, or is killed by a signal.
type ExitError struct {
	Code     int
	Signal   string
	Expected []int
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("exec: killed by signal %s", e.Signal)
	}
	return fmt.Sprintf("exec: exit code %d (expected %s)", e.Code, formatCodes(e.Expected))
}

// Exec is the exec action.
type Exec struct {
	opts Options
}

var _ action.Action = (*Exec)(nil)

// New returns the exec action.
func New(o Options) *Exec { return &Exec{opts: o.WithDefaults()} }

// Name implements action.Action.
func (*Exec) Name() string { return "exec" }

// Validate implements action.Action.
func (*Exec) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	parse(r)
	return r.Err()
}

// step is a parsed exec step.
type step struct {
	cmd    Command
	expect []int
}

func parse(r *with.Reader) step {
	r.OneOf(true, "command", "script")
	var s step
	if v, ok := r.Any("command"); ok {
		if _, isString := v.(string); isString {
			// A command line needs a shell to split and interpret it; say
			// so rather than guess.
			r.Errorf("command", "is a string, but command takes a list (the program and its arguments, like [df, -h, /]); run a command line with script")
		} else if argv, ok := r.Strings("command", false); ok {
			// While validating, expression elements are left out of argv.
			if l, isList := v.([]any); isList && len(l) == 0 || !r.Validating() && (len(argv) == 0 || argv[0] == "") {
				r.Errorf("command", "needs at least the program to run")
			}
			s.cmd.Argv = argv
		}
	}
	if script, ok := r.String("script"); ok {
		switch {
		case strings.TrimSpace(script) == "":
			r.Errorf("script", "is empty")
		case len(script) > maxScript:
			r.Errorf("script", "is %d bytes; the limit is %d (install a longer script on the host and run it as a command)", len(script), maxScript)
		case strings.ContainsRune(script, 0):
			r.Errorf("script", "contains a NUL byte")
		}
		s.cmd.Script = script
	}
	if env, ok := r.StringMap("env"); ok {
		for k := range env {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				r.Errorf("env", "%q is not a variable name", k)
			}
		}
		s.cmd.Env = env
	}
	if dir, ok := r.String("dir"); ok {
		if !filepath.IsAbs(dir) {
			r.Errorf("dir", "%q is not an absolute path", dir)
		}
		s.cmd.Dir = dir
	}
	if u, ok := r.String("user"); ok {
		if u == "" || strings.ContainsAny(u, " \t\n:/") {
			r.Errorf("user", "%q is not a user name", u)
		}
		s.cmd.User = u
	}
	s.cmd.Timeout, _ = r.Duration("timeout")
	s.expect = []int{0}
	if list, ok := r.List("expect_exit"); ok {
		s.expect = s.expect[:0]
		for i, v := range list {
			n, isInt := exitCode(v)
			if !isInt {
				r.Errorf(fmt.Sprintf("expect_exit[%d]", i), "is not an exit code (0-255)")
				continue
			}
			s.expect = append(s.expect, n)
		}
		if len(s.expect) == 0 && !r.Validating() {
			r.Errorf("expect_exit", "is empty")
		}
	}
	return s
}

func exitCode(v any) (int, bool) {
	r := with.ForRun(map[string]any{"v": v})
	n, ok := r.Int("v")
	return n, ok && r.Err() == nil && n >= 0 && n <= 255
}

// Run implements action.Action.
func (e *Exec) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	s := parse(r)
	if err := r.Err(); err != nil {
		return action.Output{}, fmt.Errorf("exec: %w", err)
	}
	s.cmd.MaxOutput = e.opts.MaxOutput

	var (
		res   Result
		err   error
		where string
	)
	switch t := in.Target; {
	case t == nil:
		return action.Output{}, errors.New(`exec: the step has no target; give the runbook targets (or "local" for the server host)`)
	case t.ID == LocalTarget:
		if !e.opts.AllowLocal {
			return action.Output{}, errors.New(`exec: the "local" target (the Flywheel server host) is disabled; the server's operator must enable it`)
		}
		where = LocalTarget
		res, err = e.runLocal(ctx, s.cmd)
	case e.opts.Dispatcher == nil:
		return action.Output{}, fmt.Errorf(`exec: target %q: commands on hosts need the host agent, which is not available; only the "local" target is supported`, t.ID)
	default:
		where = t.ID
		res, err = e.opts.Dispatcher.Dispatch(ctx, *t, s.cmd)
	}
	if err != nil && res.Duration == 0 {
		return action.Output{}, err
	}
	out := action.Output{
		Values: map[string]any{
			"exit_code":   res.ExitCode,
			"signal":      res.Signal,
			"stdout":      res.Stdout,
			"stderr":      res.Stderr,
			"duration_ms": res.Duration.Milliseconds(),
			"truncated":   res.Truncated(),
		},
		Log: logLine(where, res),
	}
	if err != nil {
		return out, err
	}
	if res.Signal != "" || !slices.Contains(s.expect, res.ExitCode) {
		return out, &ExitError{Code: res.ExitCode, Signal: res.Signal, Expected: s.expect}
	}
	return out, nil
}

// logLine summarises a run for the step log. It never repeats the command
// or its environment, which may carry secrets.
func logLine(where string, res Result) string {
	var b strings.Builder
	if res.Signal != "" {
		fmt.Fprintf(&b, "%s: killed by %s after %s", where, res.Signal, res.Duration.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "%s: exit %d after %s", where, res.ExitCode, res.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "; stdout %d B, stderr %d B", res.StdoutBytes, res.StderrBytes)
	if n := res.StdoutBytes - int64(len(res.Stdout)); n > 0 {
		fmt.Fprintf(&b, "; stdout truncated: kept the last %d B, dropped %d B", len(res.Stdout), n)
	}
	if n := res.StderrBytes - int64(len(res.Stderr)); n > 0 {
		fmt.Fprintf(&b, "; stderr truncated: kept the last %d B, dropped %d B", len(res.Stderr), n)
	}
	return b.String()
}

func formatCodes(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
