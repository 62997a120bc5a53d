package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// windowStep is the runbook the tests' window tasks run: on its target
// host, through the agent, it appends a timestamped start line to that
// host's own record file, works for a while, appends an end line, and
// fails when asked to. The files are the agents' records the tests read.
const windowStep = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: window-step, description: Record a task on a host}
spec:
  parameters:
    - {name: dir, type: string, required: true}
    - {name: task, type: string, required: true}
    - {name: seconds, type: string, default: "1"}
    - {name: fail, type: bool, default: false}
  steps:
    - name: work
      action: exec
      per_target: true
      idempotent: true
      timeout: 60s
      with:
        script: |
          f="${{ params.dir }}/host-${{ target.tags.index }}.log"
          echo "$(date +%s.%N) start ${{ params.task }}" >> "$f"
          sleep ${{ params.seconds }}
          echo "$(date +%s.%N) end ${{ params.task }}" >> "$f"
          if [ "${{ params.fail }}" = "true" ]; then exit 3; fi
`

// record is one line of a host's record file.
type record struct {
	at          time.Time
	event, task string
}

// readRecords returns each host's records, by host index.
func readRecords(t *testing.T, dir string) map[string][]record {
	t.Helper()
	out := map[string][]record{}
	files, _ := filepath.Glob(filepath.Join(dir, "host-*.log"))
	for _, f := range files {
		host := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "host-"), ".log")
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) != 3 {
				t.Fatalf("%s: bad line %q", f, sc.Text())
			}
			sec, err := strconv.ParseFloat(fs[0], 64)
			if err != nil {
				t.Fatalf("%s: bad time %q", f, fs[0])
			}
			out[host] = append(out[host], record{at: time.Unix(0, int64(sec*1e9)), event: fs[1], task: fs[2]})
		}
		fh.Close()
	}
	return out
}

// spans returns each host's start..end spans of task.
func spans(recs map[string][]record, task string) map[string][][2]time.Time {
	out := map[string][][2]time.Time{}
	for host, rs := range recs {
		var start time.Time
		for _, r := range rs {
			switch {
			case r.task == task && r.event == "start":
				start = r.at
			case r.task == task && r.event == "end":
				out[host] = append(out[host], [2]time.Time{start, r.at})
			}
		}
	}
	return out
}

// enrollAgents starts n real agent processes tagged fleet=<fleet> and
// index=1..n, and waits until their hosts are in the inventory. It returns
// host index → resource ID.
func enrollAgents(t *testing.T, bin, server, admin, fleet string, n int) map[string]string {
	t.Helper()
	return enrollAgentsWith(t, bin, server, admin, fleet, n, nil)
}

// enrollAgentsWith is enrollAgents with extra agent flags for host i.
func enrollAgentsWith(t *testing.T, bin, server, admin, fleet string, n int, extra func(i int) []string) map[string]string {
	t.Helper()
	c := client.New(server, admin)
	for i := 1; i <= n; i++ {
		out, err := exec.Command(bin, "agent", "token", "create", "--server", server, "--token", admin, "--expires-in", "10m",
			"--tags", fmt.Sprintf("fleet=%s,index=%d", fleet, i), "--json").CombinedOutput()
		if err != nil {
			t.Fatalf("token create: %v\n%s", err, out)
		}
		var tok api.CreatedEnrollToken
		if err := json.Unmarshal(out, &tok); err != nil {
			t.Fatalf("token create output %q: %v", out, err)
		}
		args := []string{"--server", server, "--enroll-token", tok.Token, "--state", t.TempDir(),
			"--hostname", fmt.Sprintf("%s-host-%d", fleet, i), "--heartbeat", "300ms", "--poll-wait", "2s", "--max-concurrency", "4"}
		if extra != nil {
			args = append(args, extra(i)...)
		}
		startAgentProc(t, bin, args...)
	}
	hosts := map[string]string{}
	waitFor(t, 60*time.Second, "agents' hosts in the inventory", func() bool {
		var l api.List[store.Resource]
		if err := c.Do(context.Background(), "GET", "/api/v1/resources?type=host&limit=500", nil, &l); err != nil {
			return false // a restarting server
		}
		for _, r := range l.Items {
			if r.Tags["fleet"] == fleet {
				hosts[r.Tags["index"]] = r.ID
			}
		}
		return len(hosts) == n
	})
	return hosts
}

// startWindowApp starts the app with a fast maintenance tick and returns
// its URL and the admin token of its first start.
func startWindowApp(t *testing.T, dataDir, contentDir string) (server, admin string) {
	t.Helper()
	a := startApp(t, config.Config{DataDir: dataDir, ContentDir: contentDir, MaintenanceTick: 200 * time.Millisecond}, &bytes.Buffer{})
	b, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + a.Addr(), strings.TrimSpace(string(b))
}

// windowAt is a window input that opens at start (rate, daily) for an
// hour over the hosts tagged fleet.
func windowAt(name, fleet string, start time.Time, tasks ...store.MaintenanceTask) api.MaintenanceWindowInput {
	return api.MaintenanceWindowInput{Name: name, Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Expression: "rate(1 day)"}, StartDate: &start, Duration: "1h", Cutoff: "10m",
		Targets: store.MaintenanceTargets{Tags: map[string]string{"fleet": fleet}}, Tasks: tasks}
}

func task(name string, priority int, dir string, params map[string]any) store.MaintenanceTask {
	p := map[string]any{"dir": dir, "task": name}
	for k, v := range params {
		p[k] = v
	}
	return store.MaintenanceTask{Name: name, Runbook: "window-step", Parameters: p, Priority: priority, MaxConcurrency: "2", MaxErrors: "1"}
}

func windowRunOf(t *testing.T, c *client.Client, window string) (api.WindowRunDetail, bool) {
	t.Helper()
	var l api.List[store.WindowRun]
	if err := c.Do(context.Background(), "GET", "/api/v1/maintenance-windows/"+window+"/runs", nil, &l); err != nil || len(l.Items) == 0 {
		return api.WindowRunDetail{}, false
	}
	var d api.WindowRunDetail
	if err := c.Do(context.Background(), "GET", "/api/v1/window-runs/"+l.Items[0].ID, nil, &d); err != nil {
		return api.WindowRunDetail{}, false
	}
	return d, true
}

// TestWindowOnRealAgents is the acceptance test of maintenance windows
// that run tasks: a window opening on its schedule runs two tasks of
// different priorities, then a third, over three real agents, each task
// with max_concurrency 2 and max_errors 1. From the agents' own records:
// the first task never runs on more than two hosts at once and ends
// everywhere before the second starts; the second fails on every host it
// runs on and, past one error, starts on no more; the third, after a
// failed task with on_failure stop, runs nowhere. An alert from a target
// host while the window is open is deflected as maintenance. The real CLI
// shows the next openings, a dry run and the history.
func TestWindowOnRealAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs agent processes")
	}
	bin := flywheelBinary(t)
	contentDir, records := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(contentDir, "window-step.yaml"), []byte(windowStep), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	server, admin := startWindowApp(t, dataDir, contentDir)
	c := client.New(server, admin)
	ctx := context.Background()
	hosts := enrollAgents(t, bin, server, admin, "sched", 3)

	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	in := windowAt("patch-night", "sched", start,
		task("patch", 1, records, map[string]any{"seconds": "2"}),
		task("report", 2, records, map[string]any{"fail": true}),
		task("notify", 3, records, nil))
	var w api.MaintenanceWindow
	if err := c.Do(ctx, "POST", "/api/v1/maintenance-windows", in, &w); err != nil {
		t.Fatal(err)
	}

	// The CLI: next openings, and a dry run that starts nothing.
	out, err := exec.Command(bin, "window", "next", "patch-night", "--count", "2", "--server", server, "--token", admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), start.UTC().Format("2006-01-02 15:04")) || !strings.Contains(string(out), "Europe/Berlin") {
		t.Errorf("window next: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "window", "run", "patch-night", "--now", "--dry-run", "--server", server, "--token", admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Targets (3)") || !strings.Contains(string(out), "window-step") || !strings.Contains(string(out), hosts["2"]) {
		t.Errorf("window run --dry-run: %v\n%s", err, out)
	}

	// The window opens on its schedule; while the first task runs, an
	// alert from a target host is deflected as maintenance.
	waitFor(t, 30*time.Second, "the first task running", func() bool {
		d, ok := windowRunOf(t, c, "patch-night")
		return ok && d.Status == store.WindowRunRunning && d.Trigger == store.TriggerSchedule
	})
	postHostDown(t, c, "sched-host-1:9100")
	waitFor(t, 30*time.Second, "the alert deflected as maintenance", func() bool {
		var l api.List[store.Event]
		if err := c.Do(ctx, "GET", "/api/v1/events?limit=100", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Items {
			if strings.Contains(e.Reason, "maintenance") && strings.Contains(e.Reason, "patch-night") {
				return true
			}
		}
		return false
	})

	var run api.WindowRunDetail
	waitFor(t, 120*time.Second, "the window run ended", func() bool {
		d, ok := windowRunOf(t, c, "patch-night")
		run = d
		return ok && d.EndedAt != nil
	})
	t.Logf("run %s: %s (%s)", run.ID, run.Status, run.Error)
	for _, r := range run.Targets {
		t.Logf("  %s on %s: %s %s", r.Task, r.TargetID, r.Status, r.Error)
	}
	recs := readRecords(t, records)

	// Task 1: on all three hosts, at most two at once (and two did run
	// together), from the agents' own records.
	patch := spans(recs, "patch")
	var all [][2]time.Time
	var patchEnd time.Time
	for _, h := range []string{"1", "2", "3"} {
		if len(patch[h]) != 1 {
			t.Errorf("host %s ran patch %d times, want once", h, len(patch[h]))
		}
		for _, s := range patch[h] {
			all = append(all, s)
			if s[1].After(patchEnd) {
				patchEnd = s[1]
			}
		}
	}
	if peak := peakOverlap(all); peak != 2 {
		t.Errorf("patch ran on up to %d hosts at once, want 2 (max_concurrency)", peak)
	}
	// Task 2 starts after task 1 ended everywhere.
	report := spans(recs, "report")
	reportHosts := 0
	for h, ss := range report {
		reportHosts++
		for _, s := range ss {
			if !s[0].After(patchEnd) {
				t.Errorf("report started on host %s at %s, before patch ended at %s", h, s[0], patchEnd)
			}
		}
	}
	// Past one error no more starts: the rows say which hosts it skipped,
	// and those hosts' records have no report.
	failed, skipped := 0, 0
	for _, r := range run.Targets {
		host := ""
		for idx, id := range hosts {
			if id == r.TargetID {
				host = idx
			}
		}
		switch r.Task {
		case "report":
			switch r.Status {
			case store.WindowRunFailed:
				failed++
				if len(report[host]) != 1 {
					t.Errorf("report failed on host %s but its records show %d runs", host, len(report[host]))
				}
			case store.WindowRunSkipped:
				skipped++
				if len(report[host]) != 0 || !strings.Contains(r.Error, "max_errors") {
					t.Errorf("report skipped on host %s (%s) but its records show %d runs", host, r.Error, len(report[host]))
				}
			default:
				t.Errorf("report on host %s: %s", host, r.Status)
			}
		case "notify":
			if r.Status != store.WindowRunSkipped || !strings.Contains(r.Error, "on_failure: stop") {
				t.Errorf("notify on host %s: %s %s", host, r.Status, r.Error)
			}
		case "patch":
			if r.Status != store.WindowRunSucceeded || r.ExecutionID == "" {
				t.Errorf("patch on host %s: %s %s", host, r.Status, r.Error)
			}
		}
	}
	if failed < 2 || failed+skipped != 3 || reportHosts != failed {
		t.Errorf("report: %d failed, %d skipped, ran on %d hosts; want at least 2 failures and the rest skipped", failed, skipped, reportHosts)
	}
	if n := len(spans(recs, "notify")); n != 0 {
		t.Errorf("notify ran on %d hosts after report failed (on_failure: stop)", n)
	}
	if run.Status != store.WindowRunFailed {
		t.Errorf("run status %s, want failed", run.Status)
	}

	// History through the CLI.
	out, err = exec.Command(bin, "window", "history", "patch-night", "--server", server, "--token", admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), run.ID) || !strings.Contains(string(out), "failed") {
		t.Errorf("window history: %v\n%s", err, out)
	}

	// A window closed by its schedule (1 January only), run now through
	// the CLI: its task runs on the hosts, and while it runs an alert from
	// one of them is deflected by it. (patch-night, still open, goes first.)
	if err := c.Do(ctx, "DELETE", "/api/v1/maintenance-windows/"+w.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	adhoc := windowAt("adhoc", "sched", start, task("notify", 1, records, nil))
	adhoc.Schedule, adhoc.StartDate = store.MaintenanceSchedule{Expression: "0 3 1 1 *"}, nil
	adhoc.Tasks[0].MaxConcurrency = "3"
	if err := c.Do(ctx, "POST", "/api/v1/maintenance-windows", adhoc, nil); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "window", "run", "adhoc", "--now", "--server", server, "--token", admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "started") {
		t.Fatalf("window run --now: %v\n%s", err, out)
	}
	postHostDown(t, c, "sched-host-3:9100")
	waitFor(t, 30*time.Second, "the alert deflected by the run asked for now", func() bool {
		var l api.List[store.Event]
		if err := c.Do(ctx, "GET", "/api/v1/events?limit=100", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Items {
			if strings.Contains(e.Reason, "maintenance") && strings.Contains(e.Reason, "adhoc") {
				return true
			}
		}
		return false
	})
	waitFor(t, 60*time.Second, "the manual run ended", func() bool {
		d, ok := windowRunOf(t, c, "adhoc")
		run = d
		return ok && d.EndedAt != nil
	})
	if run.Trigger != store.TriggerManual || run.Status != store.WindowRunSucceeded || run.StartedBy == "" {
		t.Errorf("manual run: %+v", run.WindowRun)
	}
	if n := len(spans(readRecords(t, records), "notify")); n != 3 {
		t.Errorf("the manual run's task ran on %d hosts, want 3", n)
	}
}

// TestWindowResumesAfterKill: a real server process is killed with
// SIGKILL in the middle of a window (one task, one host at a time, the
// first host done, the second running) and started again on the same
// data: the run goes on and ends, and the host that had finished does not
// run the task again — its own record shows one run.
func TestWindowResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs server and agent processes")
	}
	bin := flywheelBinary(t)
	contentDir, records, dataDir := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(contentDir, "window-step.yaml"), []byte(windowStep), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	server := "http://" + addr
	startServer := func() *agentProc {
		p := startProc(t, bin, []string{"FLYWHEEL_MAINTENANCE_TICK=200ms"}, "serve", "--addr", addr, "--data", dataDir, "--content", contentDir)
		waitFor(t, 30*time.Second, "server healthy", func() bool {
			return client.New(server, "").Do(context.Background(), "GET", "/healthz", nil, nil) == nil
		})
		return p
	}
	srv := startServer()
	adminB, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(adminB))
	c := client.New(server, admin)
	hosts := enrollAgents(t, bin, server, admin, "resume", 3)
	pos := []string{hosts["1"], hosts["2"], hosts["3"]}
	sort.Strings(pos) // the order the window takes its tag targets in

	t1 := task("patch", 1, records, map[string]any{"seconds": "3"})
	t1.MaxConcurrency = "1"
	in := windowAt("resume-night", "resume", time.Now().Add(2*time.Second).Truncate(time.Second), t1)
	if err := c.Do(context.Background(), "POST", "/api/v1/maintenance-windows", in, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "first host done, second running", func() bool {
		d, ok := windowRunOf(t, c, "resume-night")
		return ok && len(d.Targets) == 3 && d.Targets[0].Status == store.WindowRunSucceeded && d.Targets[1].Status == store.WindowRunRunning
	})
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	killedAt := time.Now()
	startServer()

	var run api.WindowRunDetail
	waitFor(t, 180*time.Second, "the run ended after the restart", func() bool {
		d, ok := windowRunOf(t, c, "resume-night")
		run = d
		return ok && d.EndedAt != nil
	})
	t.Logf("run %s %s %s, %s after the kill", run.ID, run.Status, run.Error, time.Since(killedAt).Round(time.Second))
	if run.Status != store.WindowRunSucceeded {
		t.Errorf("run %s: %s", run.Status, run.Error)
	}
	idx := map[string]string{}
	for i, id := range hosts {
		idx[id] = i
	}
	recs := spans(readRecords(t, records), "patch")
	if n := len(recs[idx[pos[0]]]); n != 1 {
		t.Errorf("the host that had finished before the kill ran the task %d times, want once", n)
	}
	for _, id := range pos[1:] {
		if n := len(recs[idx[id]]); n < 1 {
			t.Errorf("host %s never finished the task", idx[id])
		}
	}
	for _, r := range run.Targets {
		if r.Status != store.WindowRunSucceeded {
			t.Errorf("row %s on %s: %s %s", r.Task, r.TargetID, r.Status, r.Error)
		}
	}
}

// freeAddr returns a loopback address with a port free now, for a server
// that must come back on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// postHostDown posts an Alertmanager alert, firing now, about instance
// (one alert per instance).
func postHostDown(t *testing.T, c *client.Client, instance string) {
	t.Helper()
	labels := map[string]string{"alertname": "NodeRebooting", "instance": instance, "job": "node", "severity": "critical"}
	alert := map[string]any{"status": "firing", "labels": labels, "fingerprint": fmt.Sprintf("%x", sha256.Sum256([]byte(instance)))[:16],
		"annotations": map[string]string{"summary": "Host is rebooting."},
		"startsAt":    time.Now().UTC().Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z"}
	body := map[string]any{"version": "4", "receiver": "flywheel", "status": "firing", "groupKey": `{}:{alertname="NodeRebooting"}`,
		"groupLabels": map[string]string{"alertname": "NodeRebooting"}, "commonLabels": labels,
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093", "alerts": []any{alert}}
	if err := c.Do(context.Background(), "POST", "/api/v1/intake/alertmanager", body, nil); err != nil {
		t.Fatalf("post alert: %v", err)
	}
}
