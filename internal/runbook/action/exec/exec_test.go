package exec_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
)

var local = &action.Target{ID: exec.LocalTarget}

func input(target *action.Target, with map[string]any) action.Input {
	return action.Input{
		With:        with,
		Target:      target,
		ExecutionID: "ex-1",
		Step:        "s",
		Attempt:     1,
		Logger:      slog.New(slog.DiscardHandler),
		Now:         time.Now,
	}
}

func run(t *testing.T, o exec.Options, with map[string]any) (action.Output, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return exec.New(o).Run(ctx, input(local, with))
}

func TestCommand(t *testing.T) {
	t.Parallel()
	out, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"command": []any{"echo", "hello", 42}})
	if err != nil {
		t.Fatal(err)
	}
	v := out.Values
	if v["stdout"] != "hello 42\n" || v["stderr"] != "" || v["exit_code"] != 0 || v["truncated"] != false {
		t.Errorf("values = %v", v)
	}
	if _, ok := v["duration_ms"].(int64); !ok {
		t.Errorf("duration_ms = %T", v["duration_ms"])
	}
	if !strings.HasPrefix(out.Log, "local: exit 0 after ") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestScriptEnvDir(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, exec.Options{AllowLocal: true}, map[string]any{
		"script": `echo "$GREETING"; pwd; echo oops >&2`,
		"env":    map[string]any{"GREETING": "hi there"},
		"dir":    dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "hi there\n" + dir + "\n"; out.Values["stdout"] != want {
		t.Errorf("stdout = %q, want %q", out.Values["stdout"], want)
	}
	if out.Values["stderr"] != "oops\n" {
		t.Errorf("stderr = %q", out.Values["stderr"])
	}
}

// The server's environment (which holds its credentials) is not passed to
// commands. Not parallel: it sets an environment variable.
func TestEnvironmentNotInherited(t *testing.T) {
	t.Setenv("FLYWHEEL_TEST_SECRET", "s3cret")
	out, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"command": []any{"env"}})
	if err != nil {
		t.Fatal(err)
	}
	stdout := out.Values["stdout"].(string)
	if strings.Contains(stdout, "s3cret") {
		t.Errorf("the server's environment leaked into the command:\n%s", stdout)
	}
	for _, want := range []string{"PATH=", "HOME=", "USER="} {
		if !strings.Contains(stdout, want) {
			t.Errorf("environment lacks %s:\n%s", want, stdout)
		}
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	out, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"script": "echo partial; exit 3"})
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Code != 3 {
		t.Fatalf("err = %v, want exit code 3", err)
	}
	if got := err.Error(); got != "exec: exit code 3 (expected [0])" {
		t.Errorf("error = %q", got)
	}
	if out.Values["exit_code"] != 3 || out.Values["stdout"] != "partial\n" {
		t.Errorf("a failed step still reports its output: %v", out.Values)
	}

	if _, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"script": "exit 3", "expect_exit": []any{0, 3}}); err != nil {
		t.Errorf("expect_exit [0, 3]: %v", err)
	}
	if _, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"script": "exit 0", "expect_exit": 1}); err == nil {
		t.Error("expect_exit 1 accepted exit 0")
	}
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	out, err := run(t, exec.Options{AllowLocal: true, MaxOutput: 1024}, map[string]any{
		"script": `i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done; printf END`,
	})
	if err != nil {
		t.Fatal(err)
	}
	stdout := out.Values["stdout"].(string)
	if len(stdout) != 1024 || !strings.HasSuffix(stdout, "line 499\nEND") {
		t.Errorf("stdout is %d bytes ending %q; want the last 1024", len(stdout), stdout[max(0, len(stdout)-20):])
	}
	if out.Values["truncated"] != true {
		t.Error("truncated not set")
	}
	if !strings.Contains(out.Log, "stdout truncated: kept the last 1024 B") {
		t.Errorf("log = %q", out.Log)
	}
}

// gone reports whether pid has exited. A zombie counts: it is dead, only
// waiting for its parent (for orphans, PID 1, which in a container may
// never reap it).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	// pid (comm) S …: the state follows the last ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] == "Z"
}

// startChild runs a script that starts a `sleep 30` child in the step's
// process group and writes the child's pid to a file, and returns the
// child's pid once it is running, with the step's result channel.
func startChild(t *testing.T, ctx context.Context, o exec.Options, script string, extra map[string]any) (int, <-chan error) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	with := map[string]any{
		"script": strings.ReplaceAll(script, "PIDFILE", pidFile),
	}
	for k, v := range extra {
		with[k] = v
	}
	done := make(chan error, 1)
	go func() {
		_, err := exec.New(o).Run(ctx, input(local, with))
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid, done
		}
		select {
		case err := <-done:
			t.Fatalf("the step ended before starting its child: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the child never started")
	return 0, nil
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d is still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	child, done := startChild(t, ctx, exec.Options{AllowLocal: true}, `sleep 30 & echo $! > PIDFILE; wait`, nil)
	if gone(child) {
		t.Fatal("the child is not running before cancel")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// Run returns only after the group is gone: no waiting needed.
	if !gone(child) {
		t.Errorf("child %d survived the cancelled step", child)
	}
}

// A group that ignores SIGTERM is killed after the grace period.
func TestTimeoutEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	o := exec.Options{AllowLocal: true, KillGrace: 200 * time.Millisecond}
	start := time.Now()
	child, done := startChild(t, t.Context(), o, `trap "" TERM; sleep 30 & echo $! > PIDFILE; wait; wait`, map[string]any{"timeout": "500ms"})
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	waitGone(t, child)
}

func TestTimeoutOutput(t *testing.T) {
	t.Parallel()
	out, err := run(t, exec.Options{AllowLocal: true, KillGrace: time.Second}, map[string]any{
		"script":  "echo started; sleep 30",
		"timeout": "300ms",
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if out.Values["stdout"] != "started\n" || out.Values["signal"] == "" || out.Values["exit_code"] != -1 {
		t.Errorf("values = %v", out.Values)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	with := map[string]any{"command": []any{"true"}}
	_, err := exec.New(exec.Options{}).Run(t.Context(), input(local, with))
	if err == nil || !strings.Contains(err.Error(), `"local" target (the Flywheel server host) is disabled`) {
		t.Errorf("local without AllowLocal: %v", err)
	}
	_, err = exec.New(exec.Options{AllowLocal: true}).Run(t.Context(), input(&action.Target{ID: "i-0abc"}, with))
	if err == nil || !strings.Contains(err.Error(), `target "i-0abc": commands on hosts need the host agent`) {
		t.Errorf("remote without a dispatcher: %v", err)
	}
	_, err = exec.New(exec.Options{AllowLocal: true}).Run(t.Context(), input(nil, with))
	if err == nil || !strings.Contains(err.Error(), "no target") {
		t.Errorf("no target: %v", err)
	}
}

type fakeDispatcher struct {
	got    exec.Command
	target action.Target
	res    exec.Result
}

func (f *fakeDispatcher) Dispatch(_ context.Context, target action.Target, cmd exec.Command) (exec.Result, error) {
	f.got, f.target = cmd, target
	return f.res, nil
}

func TestDispatcher(t *testing.T) {
	t.Parallel()
	d := &fakeDispatcher{res: exec.Result{ExitCode: 0, Stdout: "ok\n", StdoutBytes: 3, Duration: time.Second}}
	e := exec.New(exec.Options{Dispatcher: d})
	out, err := e.Run(t.Context(), input(&action.Target{ID: "host-1"}, map[string]any{
		"script":  "df -h /",
		"timeout": "1m",
		"user":    "ops",
		"env":     map[string]any{"LC_ALL": "C"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if d.target.ID != "host-1" || d.got.Script != "df -h /" || d.got.Timeout != time.Minute || d.got.User != "ops" || d.got.Env["LC_ALL"] != "C" || d.got.MaxOutput != 64<<10 {
		t.Errorf("dispatched %+v to %+v", d.got, d.target)
	}
	if out.Values["stdout"] != "ok\n" || out.Values["duration_ms"] != int64(1000) {
		t.Errorf("values = %v", out.Values)
	}
	if !strings.HasPrefix(out.Log, "host-1: exit 0") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestRunAs(t *testing.T) {
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this host")
	}
	out, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"command": []any{"id", "-u"}, "user": "nobody"})
	if os.Geteuid() != 0 {
		if err == nil || !strings.Contains(err.Error(), `user "nobody": running a command as another user needs the Flywheel server to run as root`) {
			t.Errorf("as non-root: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.Values["stdout"].(string)); got != nobody.Uid {
		t.Errorf("ran as uid %s, want %s", got, nobody.Uid)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	_, err := run(t, exec.Options{AllowLocal: true}, map[string]any{"command": []any{"no-such-program-flywheel"}})
	if err == nil || !strings.Contains(err.Error(), `"no-such-program-flywheel" not found on PATH`) {
		t.Errorf("err = %v", err)
	}
	_, err = run(t, exec.Options{AllowLocal: true}, map[string]any{"command": []any{"true"}, "dir": "/no/such/dir"})
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	e := exec.New(exec.Options{})
	for _, tc := range []struct {
		with map[string]any
		want string // "" for valid
	}{
		{map[string]any{"command": []any{"systemctl", "restart", "nginx"}}, ""},
		{map[string]any{"script": "journalctl --vacuum-size=200M", "timeout": "5m", "expect_exit": []any{0, 1}, "user": "root", "dir": "/var/log", "env": map[string]any{"LC_ALL": "C"}}, ""},
		{map[string]any{"command": []any{"systemctl", "restart", "${{ params.service }}"}, "timeout": "${{ params.timeout }}"}, ""},
		{map[string]any{"command": []any{"${{ params.program }}"}}, ""},
		{map[string]any{"command": "${{ params.argv }}"}, ""},
		{map[string]any{}, "set one of command, script"},
		{map[string]any{"command": []any{"ls"}, "script": "ls"}, "set only one of command, script"},
		{map[string]any{"command": "ls -l"}, "command: is a string, but command takes a list"},
		{map[string]any{"command": []any{}}, "command: needs at least the program"},
		{map[string]any{"script": "  "}, "script: is empty"},
		{map[string]any{"script": "ls", "dir": "tmp"}, `dir: "tmp" is not an absolute path`},
		{map[string]any{"script": "ls", "timeout": 30}, "timeout: 30 is not a duration"},
		{map[string]any{"script": "ls", "expect_exit": []any{0, 300}}, "expect_exit[1]: is not an exit code"},
		{map[string]any{"script": "ls", "env": map[string]any{"A=B": "c"}}, `env: "A=B" is not a variable name`},
		{map[string]any{"script": "ls", "shell": "bash"}, "shell: unknown input"},
	} {
		err := e.Validate(tc.with)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.with, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.with, err, tc.want)
		}
	}
}

// A process the command leaves in the background, holding stdout, does
// not keep the step waiting beyond the grace period, and is not killed.
func TestBackgroundProcess(t *testing.T) {
	t.Parallel()
	start := time.Now()
	out, err := run(t, exec.Options{AllowLocal: true, KillGrace: 300 * time.Millisecond}, map[string]any{
		"script": "sleep 3 & echo $!; echo done",
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the step waited %s for its background child", d)
	}
	var pid int
	if _, err := fmt.Sscan(out.Values["stdout"].(string), &pid); err != nil {
		t.Fatalf("stdout %q: %v", out.Values["stdout"], err)
	}
	if gone(pid) {
		t.Error("the background child was killed")
	}
}
