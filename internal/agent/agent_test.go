package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestEnrollOnceThenReuseCredential(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{})
	dir := t.TempDir()
	tok := s.token(map[string]string{"env": "prod"})
	cfg := agent.Config{Server: s.url, EnrollToken: tok, StateDir: dir, Hostname: "web-1", Tags: map[string]string{"role": "web"}}
	a := startAgent(t, cfg)
	id := a.ID()

	fi, err := os.Stat(filepath.Join(dir, agent.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	st, err := agent.LoadState(dir)
	if err != nil || st.AgentID != id || !strings.HasPrefix(st.Secret, "fwa_") || st.Server != s.url || st.TenantID != tenant {
		t.Fatalf("state = %+v, %v", st, err)
	}
	eventually(t, 5*time.Second, "heartbeat recorded", func() bool {
		ag, err := s.st.GetAgent(context.Background(), tenant, id)
		return err == nil && ag.LastSeenAt != nil
	})
	ag, _ := s.st.GetAgent(context.Background(), tenant, id)
	if ag.Tags["env"] != "prod" || ag.Tags["role"] != "web" || ag.Hostname != "web-1" || ag.Interval != 100*time.Millisecond {
		t.Errorf("agent = %+v", ag)
	}
	if err := a.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}

	// A restart reuses the credential: the token is spent, and no new
	// agent appears.
	b := startAgent(t, cfg)
	if b.ID() != id {
		t.Errorf("restarted agent is %s, want %s", b.ID(), id)
	}
	agents, _, _ := s.st.ListAgents(context.Background(), tenant, store.Page{})
	if len(agents) != 1 {
		t.Errorf("%d agents after a restart", len(agents))
	}
	// Another server URL is refused: the agent talks only to the server
	// it enrolled with.
	cfg.Server = "http://127.0.0.1:1"
	if _, err := agent.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "enrolled with") {
		t.Errorf("New with another server: %v", err)
	}
	// A spent token cannot enroll a second agent.
	if _, err := agent.New(context.Background(), agent.Config{Server: s.url, EnrollToken: tok, StateDir: t.TempDir(), Hostname: "web-2"}); err == nil ||
		!isRejected(err) {
		t.Errorf("second enrollment with one token: %v", err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{OutputLimit: 4096})
	a := startAgent(t, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "db-1",
		MaxConcurrency: 2, OutputCap: 2048, KillGrace: 500 * time.Millisecond})
	id := a.ID()
	dir := t.TempDir()

	t.Run("argv", func(t *testing.T) {
		c := s.wait(s.command(id, store.CommandSpec{Argv: []string{"echo", "hello", "world"}}), 10*time.Second)
		if c.Status != store.CommandSucceeded || *c.ExitCode != 0 || c.Output != "hello world\n" || c.OutputBytes != 12 {
			t.Errorf("command = %+v", c)
		}
	})
	t.Run("script_env_dir_exit", func(t *testing.T) {
		c := s.wait(s.command(id, store.CommandSpec{Script: "echo \"$GREETING from $(pwd)\"; echo oops >&2; exit 7",
			Env: map[string]string{"GREETING": "hi"}, Dir: dir}), 10*time.Second)
		if c.Status != store.CommandFailed || c.ExitCode == nil || *c.ExitCode != 7 || c.Output != "hi from "+dir+"\noops\n" {
			t.Errorf("command = %+v", c)
		}
	})
	t.Run("minimal_environment", func(t *testing.T) {
		// The agent's own environment is not passed on.
		c := s.wait(s.command(id, store.CommandSpec{Argv: []string{"env"}, Env: map[string]string{"EXTRA": "1"}}), 10*time.Second)
		for _, line := range strings.Split(strings.TrimSpace(c.Output), "\n") {
			k, _, _ := strings.Cut(line, "=")
			switch k {
			case "PATH", "LANG", "HOME", "USER", "LOGNAME", "EXTRA":
			default:
				t.Errorf("unexpected variable %q in %q", k, c.Output)
			}
		}
		if !strings.Contains(c.Output, "EXTRA=1") {
			t.Errorf("environment = %q", c.Output)
		}
	})
	t.Run("not_found", func(t *testing.T) {
		c := s.wait(s.command(id, store.CommandSpec{Argv: []string{"/no/such/program"}}), 10*time.Second)
		if c.Status != store.CommandFailed || c.ExitCode != nil || !strings.Contains(c.Error, "no such file") {
			t.Errorf("command = %+v", c)
		}
	})
	t.Run("output_capped_and_counted", func(t *testing.T) {
		c := s.wait(s.command(id, store.CommandSpec{Script: "head -c 100000 /dev/zero | tr '\\0' x"}), 10*time.Second)
		if c.Status != store.CommandSucceeded || len(c.Output) != 2048 || c.OutputBytes != 100000 || !c.Truncated {
			t.Errorf("status %s, %d bytes kept of %d, truncated %v", c.Status, len(c.Output), c.OutputBytes, c.Truncated)
		}
	})
	t.Run("output_streams_while_running", func(t *testing.T) {
		cid := s.command(id, store.CommandSpec{Script: "echo first; sleep 3; echo second"})
		eventually(t, 2500*time.Millisecond, "first line streamed", func() bool {
			c, _ := s.st.GetAgentCommand(context.Background(), tenant, cid)
			return c.Output == "first\n" && c.Status == store.CommandRunning
		})
		if c := s.wait(cid, 10*time.Second); c.Output != "first\nsecond\n" {
			t.Errorf("output = %q", c.Output)
		}
	})
	t.Run("timeout_kills_the_group", func(t *testing.T) {
		pidFile := filepath.Join(dir, "child.pid")
		c := s.wait(s.command(id, store.CommandSpec{Script: "sleep 300 & echo $! > " + pidFile + "; wait", Timeout: time.Second}), 15*time.Second)
		if c.Status != store.CommandTimedOut || !strings.Contains(c.Error, "timed out") {
			t.Errorf("command = %+v", c)
		}
		assertDead(t, pidFile)
	})
	t.Run("cancel_kills_the_group", func(t *testing.T) {
		pidFile := filepath.Join(dir, "cancel.pid")
		cid := s.command(id, store.CommandSpec{Script: "trap '' TERM; sleep 300 & echo $! > " + pidFile + "; wait"})
		eventually(t, 5*time.Second, "command started", func() bool { _, err := os.Stat(pidFile); return err == nil })
		err := s.st.InTx(context.Background(), func(tx store.Tx) error {
			_, err := s.svc.CancelCommand(context.Background(), tx, tenant, cid)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s.svc.Queued(id)
		c := s.wait(cid, 15*time.Second)
		if c.Status != store.CommandCancelled {
			t.Errorf("command = %+v", c)
		}
		assertDead(t, pidFile)
	})
	t.Run("background_child_left_running", func(t *testing.T) {
		// As with the exec action run locally: a process the command
		// leaves in the background is not killed when the command exits,
		// and one holding the output open does not hold the result longer
		// than the grace period.
		pidFile := filepath.Join(dir, "daemon.pid")
		start := time.Now()
		c := s.wait(s.command(id, store.CommandSpec{Script: "sleep 300 & echo $! > " + pidFile + "; echo started"}), 10*time.Second)
		if c.Status != store.CommandSucceeded || c.Output != "started\n" {
			t.Errorf("command = %+v", c)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the result took %s", d)
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid <= 0 || syscall.Kill(pid, 0) != nil {
			t.Errorf("the background child %d was killed", pid)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	})
	t.Run("concurrency_limit", func(t *testing.T) {
		// Four commands each record when they run; with two slots no more
		// than two overlap.
		log := filepath.Join(dir, "overlap.log")
		var ids []string
		for i := range 4 {
			ids = append(ids, s.command(id, store.CommandSpec{Script: "echo start " + strconv.Itoa(i) + " >> " + log + "; sleep 0.4; echo end " + strconv.Itoa(i) + " >> " + log}))
		}
		for _, cid := range ids {
			if c := s.wait(cid, 20*time.Second); c.Status != store.CommandSucceeded {
				t.Errorf("command = %+v", c)
			}
		}
		b, _ := os.ReadFile(log)
		running, peak := 0, 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.HasPrefix(line, "start") {
				running++
			} else {
				running--
			}
			peak = max(peak, running)
		}
		if peak != 2 {
			t.Errorf("peak concurrency %d, want 2:\n%s", peak, b)
		}
	})
}

// assertDead checks the process whose PID is in file is gone.
func assertDead(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "child process killed", func() bool {
		err := syscall.Kill(pid, 0)
		if err != nil {
			return true
		}
		// A zombie waiting for init to reap it is dead too.
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return strings.Contains(string(stat), ") Z ")
	})
}

func TestSurvivesServerRestart(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{})
	a := startAgent(t, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "app-1"})
	if c := s.wait(s.command(a.ID(), store.CommandSpec{Argv: []string{"true"}}), 10*time.Second); c.Status != store.CommandSucceeded {
		t.Fatalf("before restart: %+v", c)
	}
	s.stop()
	time.Sleep(500 * time.Millisecond) // the agent fails and backs off
	cid := s.command(a.ID(), store.CommandSpec{Argv: []string{"echo", "after restart"}})
	s.start()
	c := s.wait(cid, 15*time.Second)
	if c.Status != store.CommandSucceeded || c.Output != "after restart\n" {
		t.Errorf("after restart: %+v", c)
	}
	if err := s.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, _ := s.st.GetAgent(context.Background(), tenant, a.ID())
	eventually(t, 5*time.Second, "heartbeats resume", func() bool {
		_ = s.svc.Flush(context.Background())
		ag, _ := s.st.GetAgent(context.Background(), tenant, a.ID())
		return ag.LastSeenAt != nil && ag.LastSeenAt.After(*before.LastSeenAt)
	})
}

func TestRevokedAgentStops(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{})
	a := startAgent(t, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "old-1", PollWait: 30 * time.Second})
	time.Sleep(200 * time.Millisecond) // a long-poll is waiting
	err := s.st.InTx(context.Background(), func(tx store.Tx) error { return s.svc.Revoke(context.Background(), tx, tenant, a.ID()) })
	if err != nil {
		t.Fatal(err)
	}
	s.svc.Revoked(a.ID())
	select {
	case <-a.done:
		if !isRejected(a.err) {
			t.Errorf("Run = %v, want ErrRejected", a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a revoked agent kept running")
	}
}

func TestInventoryFullThenDiffs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{})
	var n atomic.Int32
	collect := func(context.Context) map[string]any {
		i := n.Add(1)
		inv := map[string]any{"host": map[string]string{"hostname": "inv-1"}, "packages": map[string]string{"bash": "5.2"}, "uptime": i}
		if i >= 3 {
			inv["packages"] = map[string]string{"bash": "5.2", "curl": "8.5"}
			delete(inv, "uptime")
		}
		return inv
	}
	a := startAgent(t, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "inv-1",
		InventoryInterval: 100 * time.Millisecond, Collect: collect})
	var cfg map[string]json.RawMessage
	eventually(t, 5*time.Second, "the diff arrives", func() bool {
		r, err := s.st.GetResource(context.Background(), tenant, a.State().ResourceID)
		if err != nil || len(r.Config) == 0 {
			return false
		}
		cfg = nil
		_ = json.Unmarshal(r.Config, &cfg)
		return strings.Contains(string(cfg["packages"]), "curl")
	})
	if _, ok := cfg["uptime"]; ok {
		t.Errorf("removed section still stored: %s", cfg)
	}
	if string(cfg["host"]) != `{"hostname":"inv-1"}` {
		t.Errorf("host = %s", cfg["host"])
	}
}

func TestCollectInventoryOnThisHost(t *testing.T) {
	t.Parallel()
	inv := agent.CollectInventory(context.Background())
	host, _ := inv["host"].(map[string]any)
	name, _ := os.Hostname()
	if host["hostname"] != name || host["arch"] == "" {
		t.Errorf("host = %v", host)
	}
	if _, err := os.Stat("/etc/os-release"); err == nil && host["os"] == nil {
		t.Error("no OS from /etc/os-release")
	}
	if c, _ := inv["cpu"].(map[string]any); c["count"].(int) < 1 {
		t.Errorf("cpu = %v", c)
	}
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		if m, _ := inv["memory"].(map[string]any); m["total_bytes"].(int64) <= 0 {
			t.Errorf("memory = %v", m)
		}
	}
	if _, err := os.Stat("/proc/loadavg"); err == nil {
		if l, _ := inv["load"].(map[string]any); l["cpus"].(int) < 1 || l["load1"] == nil {
			t.Errorf("load = %v", l)
		}
	}
	if _, err := os.Stat("/var/lib/dpkg/status"); err == nil {
		p, _ := inv["packages"].(map[string]any)
		if p == nil || p["manager"] != "dpkg" || p["count"].(int) < 10 {
			t.Errorf("packages = %v", p)
		}
	}
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inventory: %d bytes, sections %d", len(b), len(inv))
}
