//go:build unix

package exec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// defaultPath is the PATH of a local command unless its env sets one; the
// server's own PATH is not inherited, like the rest of its environment.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runLocal runs c on the server host in its own process group.
func (e *Exec) runLocal(ctx context.Context, c Command) (Result, error) {
	argv := c.Argv
	if c.Script != "" {
		// $0 names the script in the shell's own error messages.
		argv = []string{e.opts.Shell, "-c", c.Script, "flywheel-step"}
	}
	cred, account, err := runAs(c.User)
	if err != nil {
		return Result{}, err
	}
	env := environment(account, c.Env)
	path, err := lookPath(argv[0], env)
	if err != nil {
		return Result{}, fmt.Errorf("exec: %w", err)
	}
	dir := c.Dir
	if dir == "" {
		dir = "/"
	}

	stdout, stderr := newTail(c.MaxOutput), newTail(c.MaxOutput)
	cmd := &osexec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    env,
		Dir:    dir,
		Stdout: stdout,
		Stderr: stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:    true,
			Credential: cred,
		},
		// A process left in the background may hold stdout open after the
		// command itself exits; stop reading then instead of waiting on it.
		WaitDelay: e.opts.KillGrace,
	}

	runCtx := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	// Durations of real processes are measured on the monotonic clock, not
	// the execution's (possibly simulated) clock.
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("exec: start %s: %w", argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var stopErr error
	select {
	case <-waited:
	case <-runCtx.Done():
		e.stopGroup(cmd.Process.Pid, waited)
		if ctx.Err() != nil {
			stopErr = fmt.Errorf("exec: stopped: %w", context.Cause(ctx))
		} else {
			stopErr = fmt.Errorf("exec: timed out after %s: %w", c.Timeout, context.DeadlineExceeded)
		}
	}

	res := Result{
		ExitCode:    cmd.ProcessState.ExitCode(),
		Duration:    max(time.Since(start), time.Nanosecond),
		Stdout:      stdout.String(),
		Stderr:      stderr.String(),
		StdoutBytes: stdout.Total(),
		StderrBytes: stderr.Total(),
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = signalName(ws.Signal())
	}
	return res, stopErr
}

// stopGroup ends process group pgid: SIGTERM, then SIGKILL for whatever is
// left after the grace period — children too, not only the leader, which
// may exit on SIGTERM while a child ignores it. waited delivers the
// leader's Wait; stopGroup returns after it has.
func (e *Exec) stopGroup(pgid int, waited <-chan error) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	grace := time.NewTimer(e.opts.KillGrace)
	defer grace.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	leaderDone := false
	for {
		select {
		case <-waited:
			leaderDone = true
		case <-poll.C:
		case <-grace.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			if !leaderDone {
				<-waited
			}
			return
		}
		if leaderDone && !groupAlive(pgid) {
			return
		}
	}
}

// runAs returns the credential to run as name and the account whose HOME
// and USER the command gets. Only root can run commands as another user.
func runAs(name string) (*syscall.Credential, *user.User, error) {
	self, err := user.Current()
	if err != nil {
		return nil, nil, fmt.Errorf("exec: look up the server's user: %w", err)
	}
	if name == "" || name == self.Username || name == self.Uid {
		return nil, self, nil
	}
	if uid := os.Geteuid(); uid != 0 {
		return nil, nil, fmt.Errorf("exec: user %q: running a command as another user needs the Flywheel server to run as root (it runs as %s, uid %d)", name, self.Username, uid)
	}
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if _, numErr := strconv.Atoi(name); numErr == nil || errors.As(err, &unknown) {
			if byID, idErr := user.LookupId(name); idErr == nil {
				u, err = byID, nil
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("exec: user %q: %w", name, err)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, fmt.Errorf("exec: user %q: %w", name, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, u, nil
}

// environment is the command's environment: PATH and the account's
// identity, then the step's env on top.
func environment(account *user.User, extra map[string]string) []string {
	vars := map[string]string{
		"PATH":    defaultPath,
		"HOME":    account.HomeDir,
		"USER":    account.Username,
		"LOGNAME": account.Username,
	}
	if vars["HOME"] == "" {
		vars["HOME"] = "/"
	}
	for k, v := range extra {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// lookPath finds name on the command's PATH (not the server's).
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found on PATH %s: %w", name, path, fs.ErrNotExist)
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	}
	return fmt.Sprintf("signal %d (%s)", int(s), s)
}
