package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// serviceManager is the systemctl the agent's commands reach (its PATH
// is fixed: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).
// It is systemd's own when systemd is PID 1 and answers; otherwise Debian's
// daemonless systemctl (package systemctl, installed to /usr/local/bin as
// .ci/run does), which reads the same unit files from /etc/systemd/system
// and starts and stops their ExecStart processes without a systemd. A
// sandbox where systemd cannot run as PID 1 has no other honest way to
// stop and start a real unit.
func serviceManager(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; command -v systemctl").Output()
	path := strings.TrimSpace(string(out))
	if err != nil || path == "" {
		testenv.Absent(t, "no systemctl on the agent's PATH")
	}
	if exec.Command(path, "is-system-running").Run() == nil {
		return "systemd"
	}
	if b, _ := os.ReadFile(path); bytes.HasPrefix(b, []byte("#! /usr/bin/python3")) {
		return "daemonless systemctl (Debian package systemctl)"
	}
	testenv.Absent(t, "%s cannot manage units here: systemd is not running (not PID 1) and it is not the daemonless systemctl (apt-get download systemctl; dpkg -x; link /usr/local/bin/systemctl)", path)
	return ""
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// TestResourceScheduleStopsAndStartsSystemdUnit is the acceptance test of
// resource schedules on a host: a real unit file, a real agent process
// enrolled with env=dev, and the office-hours schedule from content. The
// server's clock is the real one shifted (an injected clock) so that it
// reaches Monday 19:00 UTC seconds after the start: the leader's tick
// stops the unit through the agent (its process ends), and after a jump
// to Tuesday 07:59:58 it starts it again (a new process runs). Each is an
// execution of schedule-host-units started by schedule:office-hours.
func TestResourceScheduleStopsAndStartsSystemdUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an agent process")
	}
	manager := serviceManager(t)
	t.Logf("service manager: %s", manager)
	bin := flywheelBinary(t)
	ctx := context.Background()

	unit := "flywheel-schedule-e2e-" + strconv.Itoa(os.Getpid()) + ".service"
	pidFile := filepath.Join(t.TempDir(), "pid")
	unitPath := filepath.Join("/etc/systemd/system", unit)
	if err := os.WriteFile(unitPath, []byte("[Unit]\nDescription=Flywheel resource schedule test\n\n[Service]\n"+
		"ExecStart=/bin/sh -c 'echo $$ > "+pidFile+"; exec sleep 86400'\n\n[Install]\nWantedBy=multi-user.target\n"), 0o644); err != nil {
		testenv.Absent(t, "write a unit file: %v", err)
	}
	t.Cleanup(func() {
		_ = exec.Command("systemctl", "stop", unit).Run()
		_ = os.Remove(unitPath)
	})
	if out, err := exec.Command("systemctl", "start", unit).CombinedOutput(); err != nil {
		t.Fatalf("systemctl start: %v\n%s", err, out)
	}
	pid := func() int {
		b, _ := os.ReadFile(pidFile)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	waitFor(t, 10*time.Second, "the unit's process", func() bool { return pid() > 0 && alive(pid()) })
	first := pid()

	contentDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(contentDir, "office-hours.yaml"), []byte(`apiVersion: flywheel/v1
kind: ResourceSchedule
metadata: {name: office-hours}
spec:
  timezone: UTC
  periods: [{begin: "08:00", end: "19:00", weekdays: [mon-fri]}]
  targets: {tags: {env: dev}}
  units: [`+unit+`]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The clock: real time shifted to 18:59:20 on Monday 7 December 2026 (UTC).
	var shift atomic.Int64
	setClock := func(at time.Time) { shift.Store(int64(time.Until(at))) }
	setClock(time.Date(2026, 12, 7, 18, 59, 20, 0, time.UTC))
	clock := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }

	dataDir := t.TempDir()
	a, err := New(ctx, Options{Config: config.Config{Addr: "127.0.0.1:0", DataDir: dataDir, ContentDir: contentDir, MaintenanceTick: 200 * time.Millisecond},
		Out: &bytes.Buffer{}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	server := "http://" + a.Addr()
	adminFile, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(adminFile))
	c := client.New(server, admin)

	tokOut, err := exec.Command(bin, "agent", "token", "create", "--server", server, "--token", admin, "--expires-in", "10m", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, tokOut)
	}
	var tok api.CreatedEnrollToken
	if err := json.Unmarshal(tokOut, &tok); err != nil {
		t.Fatalf("token create output %q: %v", tokOut, err)
	}
	startAgentProc(t, bin, "--server", server, "--enroll-token", tok.Token, "--state", t.TempDir(),
		"--hostname", "dev-box", "--heartbeat", "500ms", "--poll-wait", "5s", "--tags", "env=dev")

	// target waits for the schedule's target to be in state with a
	// finished execution, and returns it.
	target := func(state string) (api.ScheduleTargetView, api.ExecutionView) {
		t.Helper()
		var tv api.ScheduleTargetView
		var ex api.ExecutionView
		waitFor(t, 90*time.Second, "the schedule's target "+state+" with a finished execution", func() bool {
			var d api.ResourceScheduleDetail
			if c.Do(ctx, "GET", "/api/v1/resource-schedules/office-hours", nil, &d) != nil || len(d.TargetList) != 1 {
				return false
			}
			tv = d.TargetList[0]
			if tv.State != state || tv.ExecutionID == "" {
				return false
			}
			return c.Do(ctx, "GET", "/api/v1/executions/"+tv.ExecutionID, nil, &ex) == nil && !ex.EndedAt.IsZero()
		})
		return tv, ex
	}
	// Before 19:00 the host's state is unknown to the schedule: it starts
	// the (already running) unit once.
	_, ex := target(cost.Running)
	if ex.Status != "succeeded" {
		t.Fatalf("start before 19:00: execution %s %s: %s", ex.ID, ex.Status, ex.Error)
	}
	// 19:00 passes: the unit is stopped through the agent.
	tv, ex := target(cost.Stopped)
	if ex.Status != "succeeded" || ex.Runbook != cost.RunbookHost || ex.StartedBy != "schedule:office-hours" || !strings.Contains(string(ex.Parameters), `"state":"stop"`) {
		t.Fatalf("stop: target %+v, execution %s %s by %s %s: %s", tv, ex.Runbook, ex.Status, ex.StartedBy, ex.Parameters, ex.Error)
	}
	waitFor(t, 10*time.Second, "the unit's process to end", func() bool { return !alive(first) })
	t.Logf("stopped at %s by %s (process %d ended)", tv.ChangedAt.Format(time.RFC3339), ex.ID, first)

	// Tuesday 08:00: started again, a new process.
	setClock(time.Date(2026, 12, 8, 7, 59, 58, 0, time.UTC))
	tv, ex = target(cost.Running)
	if ex.Status != "succeeded" || !strings.Contains(string(ex.Parameters), `"state":"start"`) {
		t.Fatalf("start: target %+v, execution %s %s: %s", tv, ex.ID, ex.Status, ex.Error)
	}
	waitFor(t, 10*time.Second, "a new process of the unit", func() bool { return pid() != first && pid() > 0 && alive(pid()) })
	t.Logf("started at %s by %s (process %d)", tv.ChangedAt.Format(time.RFC3339), ex.ID, pid())
}
