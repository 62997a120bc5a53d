package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// These tests run real agent processes: the flywheel binary built from
// cmd/flywheel, against a whole server started in-process.

// buildFlywheel builds cmd/flywheel into dir with version v ("" for the
// default "dev").
func buildFlywheel(t *testing.T, dir, v string) string {
	t.Helper()
	bin := filepath.Join(dir, "flywheel")
	args := []string{"build", "-o", bin}
	if v != "" {
		args = append(args, "-ldflags", "-X github.com/flywheel-ops/flywheel/internal/version.Version="+v)
	}
	cmd := exec.Command("go", append(args, "../../cmd/flywheel")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build flywheel %s: %v\n%s", v, err, out)
	}
	return bin
}

var (
	devBinaryOnce sync.Once
	devBinary     string
	devBinaryErr  string
)

// flywheelBinary is the default build, shared by the tests of this file.
func flywheelBinary(t *testing.T) string {
	t.Helper()
	devBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flywheel-agent-test")
		if err != nil {
			devBinaryErr = err.Error()
			return
		}
		bin := filepath.Join(dir, "flywheel")
		cmd := exec.Command("go", "build", "-o", bin, "../../cmd/flywheel")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			devBinaryErr = fmt.Sprintf("%v\n%s", err, out)
			return
		}
		devBinary = bin
	})
	if devBinaryErr != "" {
		t.Fatalf("build flywheel: %s", devBinaryErr)
	}
	return devBinary
}

// fleetApp starts a server in-process with a fast drift check, loading
// content from contentDir ("" for none).
func fleetApp(t *testing.T, fo FleetOptions, contentDir ...string) (*App, *client.Client, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Config{DataDir: dir, Addr: "127.0.0.1:0"}
	if len(contentDir) > 0 {
		cfg.ContentDir = contentDir[0]
	}
	if fo.CheckEvery == 0 {
		fo.CheckEvery = 250 * time.Millisecond
	}
	if fo.FlushEvery == 0 {
		fo.FlushEvery = 100 * time.Millisecond
	}
	a, err := New(context.Background(), Options{Config: cfg, Out: &bytes.Buffer{}, Fleet: fo})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	b, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(b))
	return a, client.New("http://"+a.Addr(), admin), admin
}

// agentProc is one real agent process.
type agentProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startAgentProc(t *testing.T, bin string, args ...string) *agentProc {
	t.Helper()
	return startProc(t, bin, []string{"FLYWHEEL_TOKEN=", "FLYWHEEL_SERVER="}, append([]string{"agent", "run"}, args...)...)
}

// startProc starts bin with args and env added to the test's environment;
// it is killed at cleanup, and its output logged if the test failed.
func startProc(t *testing.T, bin string, env []string, args ...string) *agentProc {
	t.Helper()
	p := &agentProc{cmd: exec.Command(bin, args...), out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%v output:\n%s", args, p.out)
		}
	})
	return p
}

// waitFor polls cond until it holds, failing after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func agentsOf(t *testing.T, c *client.Client) []api.AgentView {
	t.Helper()
	var l api.List[api.AgentView]
	if err := c.Do(context.Background(), "GET", "/api/v1/agents?limit=500", nil, &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// TestThreeRealAgents is the fleet's acceptance test: three agent
// processes with their own state directories enroll, report inventory, run
// one command each, and one of them is killed and started again.
func TestThreeRealAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs agent processes")
	}
	bin := flywheelBinary(t)
	content := t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "fleet-hello.yaml"), []byte(fleetHello), 0o600); err != nil {
		t.Fatal(err)
	}
	a, c, admin := fleetApp(t, FleetOptions{Misses: 3}, content)
	server := "http://" + a.Addr()
	ctx := context.Background()

	// Enrollment tokens from the real CLI.
	const interval = 200 * time.Millisecond
	procs := map[string]*agentProc{}
	states := map[string]string{}
	for i := 1; i <= 3; i++ {
		out, err := exec.Command(bin, "agent", "token", "create", "--server", server, "--token", admin, "--expires-in", "10m",
			"--tags", fmt.Sprintf("fleet=test,index=%d", i), "--json").CombinedOutput()
		if err != nil {
			t.Fatalf("token create: %v\n%s", err, out)
		}
		var tok api.CreatedEnrollToken
		if err := json.Unmarshal(out, &tok); err != nil {
			t.Fatalf("token create output %q: %v", out, err)
		}
		host := fmt.Sprintf("agent-host-%d", i)
		states[host] = t.TempDir()
		procs[host] = startAgentProc(t, bin, "--server", server, "--enroll-token", tok.Token, "--state", states[host],
			"--hostname", host, "--heartbeat", interval.String(), "--poll-wait", "5s", "--max-concurrency", "2")
	}

	// Enrolled, reporting, and their hosts in the inventory with OS facts.
	byHost := map[string]api.AgentView{}
	waitFor(t, 30*time.Second, "three agents reporting", func() bool {
		n := 0
		for _, ag := range agentsOf(t, c) {
			byHost[ag.Hostname] = ag
			if ag.State == "reporting" {
				n++
			}
		}
		return n == 3
	})
	waitFor(t, 60*time.Second, "inventory of three hosts", func() bool {
		var l api.List[store.Resource]
		if err := c.Do(ctx, "GET", "/api/v1/resources?type=host", nil, &l); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range l.Items {
			var cfg map[string]json.RawMessage
			_ = json.Unmarshal(r.Config, &cfg)
			if strings.HasPrefix(r.Name, "agent-host-") && cfg["host"] != nil && cfg["cpu"] != nil && r.Tags["fleet"] == "test" {
				if _, err := os.Stat("/etc/os-release"); err == nil && !strings.Contains(string(cfg["host"]), `"os"`) {
					continue
				}
				n++
			}
		}
		return n == 3
	})

	// One command on all three: outputs and exit codes come back.
	cmds := map[string]string{}
	for host, ag := range byHost {
		var cv api.CommandView
		err := c.Do(ctx, "POST", "/api/v1/agents/"+ag.ID+"/commands", api.CommandInput{
			Script: `echo "hello from $HOST_NAME"; exit $CODE`, Env: map[string]string{"HOST_NAME": host, "CODE": host[len(host)-1:]}, Timeout: "30s"}, &cv)
		if err != nil {
			t.Fatal(err)
		}
		cmds[host] = cv.ID
	}
	for host, id := range cmds {
		var cv api.CommandView
		waitFor(t, 30*time.Second, "command on "+host, func() bool {
			if err := c.Do(ctx, "GET", "/api/v1/commands/"+id, nil, &cv); err != nil {
				t.Fatal(err)
			}
			return store.CommandFinal(cv.Status)
		})
		want := int(host[len(host)-1] - '0')
		if cv.Output != "hello from "+host+"\n" || cv.ExitCode == nil || *cv.ExitCode != want {
			t.Errorf("%s: output %q, exit %v, status %s, want exit %d", host, cv.Output, cv.ExitCode, cv.Status, want)
		}
	}

	// A runbook exec step on all three through the agents, two at a time:
	// outputs and exit codes are collected on the execution.
	var ex struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Steps  []struct {
			Name    string          `json:"name"`
			Target  string          `json:"target"`
			Status  string          `json:"status"`
			Outputs json.RawMessage `json:"outputs"`
		} `json:"steps"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/runbooks/fleet-hello/executions", map[string]any{}, &ex); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "runbook execution", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+ex.ID, nil, &ex); err != nil {
			t.Fatal(err)
		}
		return ex.Status != "pending" && ex.Status != "running"
	})
	if ex.Status != "succeeded" {
		t.Fatalf("execution %s: %s %s %+v", ex.ID, ex.Status, ex.Error, ex.Steps)
	}
	perTarget := map[string]struct {
		ExitCode int    `json:"exit_code"`
		Stdout   string `json:"stdout"`
	}{}
	for _, st := range ex.Steps {
		if st.Name != "hello" || st.Target == "" {
			continue
		}
		var out struct {
			ExitCode int    `json:"exit_code"`
			Stdout   string `json:"stdout"`
		}
		_ = json.Unmarshal(st.Outputs, &out)
		perTarget[st.Target] = out
	}
	for host, ag := range byHost {
		want := host[len(host)-1:]
		got, ok := perTarget[ag.ResourceID]
		if !ok || got.Stdout != "hello from "+want+"\n" || fmt.Sprint(got.ExitCode) != want {
			t.Errorf("%s on the execution: %+v (found %v)", host, got, ok)
		}
	}
	var runbookCmds api.List[api.CommandView]
	if err := c.Do(ctx, "GET", "/api/v1/commands?limit=500", nil, &runbookCmds); err != nil {
		t.Fatal(err)
	}
	var spans [][2]time.Time
	for _, cv := range runbookCmds.Items {
		if cv.CreatedBy != "token:" && strings.HasPrefix(cv.Spec.Script, "echo hello from") && cv.StartedAt != nil && cv.EndedAt != nil {
			spans = append(spans, [2]time.Time{*cv.StartedAt, *cv.EndedAt})
		}
	}
	if len(spans) != 3 {
		t.Fatalf("%d runbook commands on the agents, want 3", len(spans))
	}
	switch peak := peakOverlap(spans); {
	case peak > 2:
		t.Errorf("%d commands of the execution ran at once, beyond max_concurrency 2", peak)
	case peak < 2:
		t.Logf("the commands did not overlap (a loaded machine); max_concurrency held")
	}

	// SIGKILL one: after the allowed misses its "not reporting" OpsItem
	// opens; started again, the OpsItem resolves by itself.
	victim := "agent-host-2"
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[victim].exited
	var item store.OpsItem
	took := waitFor(t, 20*time.Second, "not-reporting OpsItem", func() bool {
		var l api.List[store.OpsItem]
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?status=open&limit=500", nil, &l); err != nil {
			t.Fatal(err)
		}
		// Only the victim's: on a loaded machine another agent's 200 ms
		// heartbeat may be late for a moment too.
		for _, o := range l.Items {
			if strings.Contains(o.Title, "not reporting") && strings.Contains(o.Title, victim) {
				item = o
				return true
			}
		}
		return false
	})
	if !strings.Contains(item.Title, victim) {
		t.Errorf("OpsItem %q does not name %s", item.Title, victim)
	}
	t.Logf("not-reporting OpsItem %s opened %s after SIGKILL (misses 3 × %s)", item.ID, took.Round(time.Millisecond), interval)
	// The last heartbeat before the kill was up to one interval earlier.
	if took < 2*interval {
		t.Errorf("opened after %s, before three missed heartbeats", took)
	}
	// The check submits the event before it marks the agent, so the mark
	// may follow the OpsItem by a moment.
	waitFor(t, 5*time.Second, "victim marked not reporting", func() bool {
		ag := agentByID(t, c, byHost[victim].ID)
		return ag.State == "not-reporting" && ag.NotReportingSince != nil
	})
	for host, ag := range byHost {
		if host != victim {
			if v := agentByID(t, c, ag.ID); v.State != "reporting" {
				t.Errorf("%s is %s", host, v.State)
			}
		}
	}

	procs[victim] = startAgentProc(t, bin, "--state", states[victim], "--server", server, "--hostname", victim,
		"--heartbeat", interval.String(), "--poll-wait", "5s")
	took = waitFor(t, 20*time.Second, "OpsItem resolved", func() bool {
		var o store.OpsItem
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID, nil, &o); err != nil {
			t.Fatal(err)
		}
		return o.Status == "resolved"
	})
	t.Logf("resolved %s after the restart", took.Round(time.Millisecond))
	if ag := agentByID(t, c, byHost[victim].ID); ag.State != "reporting" || len(agentsOf(t, c)) != 3 {
		t.Errorf("after restart: %+v (%d agents)", ag, len(agentsOf(t, c)))
	}

	// The fleet's metrics are on /metrics.
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"flywheel_fleet_heartbeats_total", "flywheel_fleet_polls_waiting", "flywheel_fleet_commands_dispatched_total",
		`flywheel_fleet_events_total{kind="agent-not-reporting",status="firing"}`, "flywheel_fleet_heartbeat_flush_seconds_count"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Revoked from the CLI, an agent stops with the "credential rejected"
	// exit code (which its systemd unit does not restart).
	revoked := "agent-host-3"
	if out, err := exec.Command(bin, "agent", "revoke", byHost[revoked].ID, "--server", server, "--token", admin).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	select {
	case <-procs[revoked].exited:
		if code := procs[revoked].cmd.ProcessState.ExitCode(); code != 3 {
			t.Errorf("revoked agent exited %d, want 3", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("revoked agent still running")
	}
}

func agentByID(t *testing.T, c *client.Client, id string) api.AgentView {
	t.Helper()
	var v api.AgentView
	if err := c.Do(context.Background(), "GET", "/api/v1/agents/"+id, nil, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAgentSelfUpdate builds an old agent and a new one: the server
// offers the new build, and the old process replaces itself (same PID,
// re-executed) and comes back reporting the new version.
func TestAgentSelfUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	const oldV, newV = "v0.0.1-old", "v0.0.2-fleet-test"
	binDir := t.TempDir()
	newBin := buildFlywheel(t, t.TempDir(), newV)
	agentDir := t.TempDir()
	oldBin := buildFlywheel(t, agentDir, oldV)
	// The server offers the new build for this platform.
	raw, err := os.ReadFile(newBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(binDir, "flywheel-"+runtime.GOOS+"-"+runtime.GOARCH), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	a, c, _ := fleetApp(t, FleetOptions{DesiredVersion: newV, AgentBinaries: binDir})
	server := "http://" + a.Addr()
	var tok api.CreatedEnrollToken
	if err := c.Do(context.Background(), "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	p := startAgentProc(t, oldBin, "--server", server, "--enroll-token", tok.Token, "--state", t.TempDir(),
		"--hostname", "updating-host", "--heartbeat", "200ms", "--poll-wait", "5s", "--no-inventory")
	pid := p.cmd.Process.Pid
	var ag api.AgentView
	// The restart may miss a heartbeat or two (the drift check can mark it
	// not reporting meanwhile); it must come back reporting the new version.
	waitFor(t, 60*time.Second, "agent reports the new version", func() bool {
		l := agentsOf(t, c)
		if len(l) == 1 {
			ag = l[0]
		}
		return ag.Version == newV && strings.HasPrefix(ag.Update, "updated from "+oldV) && ag.State == "reporting"
	})
	if ag.Outdated || ag.State != "reporting" {
		t.Errorf("after update: %+v", ag)
	}
	if p.cmd.Process.Pid != pid {
		t.Errorf("pid changed")
	}
	select {
	case <-p.exited:
		t.Fatalf("the agent process exited instead of re-executing: %v", p.err)
	default:
	}
	out, err := exec.Command(oldBin, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "flywheel "+newV {
		t.Errorf("the binary on disk reports %q, %v", out, err)
	}
	if _, err := os.Stat(oldBin + ".old"); err != nil {
		t.Errorf("no backup of the previous binary: %v", err)
	}
}

// fleetHello runs one command on every test agent, two at a time.
const fleetHello = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: fleet-hello, description: Say hello from every test host}
spec:
  targets: {tags: {fleet: test}}
  max_concurrency: "2"
  steps:
    - name: hello
      action: exec
      with:
        script: "echo hello from ${{ target.tags.index }}; sleep 1; exit ${{ target.tags.index }}"
        expect_exit: [1, 2, 3]
      timeout: 30s
      idempotent: true
`

// peakOverlap is the most spans that overlap at one moment.
func peakOverlap(spans [][2]time.Time) int {
	peak := 0
	for _, s := range spans {
		n := 0
		for _, o := range spans {
			if !o[0].After(s[0]) && o[1].After(s[0]) {
				n++
			}
		}
		peak = max(peak, n)
	}
	return peak
}
