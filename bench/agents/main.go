// Command agents measures one Flywheel server holding many connected host
// agents: it starts `flywheel serve` (SQLite, fresh data directory), enrolls
// N simulated agents over real HTTP, keeps each one long-polling for
// commands and heartbeating every interval, and reports the server's CPU
// and memory and the heartbeat latency while it does. It also queues
// commands to random agents and measures how long dispatch takes.
//
//	go run ./bench/agents               # 5,000 agents, heartbeat 10s, 60s measured
//	go run ./bench/agents -agents 20000 # issue #23's figure
//	go run ./bench/agents -n 1000 -measure 20s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

func main() {
	n := flag.Int("n", 5000, "simulated agents")
	flag.IntVar(n, "agents", 5000, "simulated agents (the same as -n)")
	interval := flag.Duration("interval", 10*time.Second, "heartbeat interval of each agent")
	wait := flag.Duration("wait", 30*time.Second, "long-poll wait")
	measure := flag.Duration("measure", 60*time.Second, "how long to measure once every agent is connected")
	commands := flag.Int("commands", 200, "commands queued during the measurement, to random agents")
	enrollC := flag.Int("enroll-concurrency", 16, "concurrent enrollments")
	keep := flag.Bool("keep", false, "keep the temporary directory (server data and log)")
	jsonOut := flag.String("json", "", "also write the result to this file")
	prebuilt := flag.String("flywheel", "", "use this flywheel binary instead of building one")
	flag.Parse()
	if err := run(*n, *interval, *wait, *measure, *commands, *enrollC, *keep, *jsonOut, *prebuilt); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// result is the whole run, printed as JSON at the end.
type result struct {
	Agents         int     `json:"agents"`
	IntervalS      float64 `json:"heartbeat_interval_s"`
	MeasuredS      float64 `json:"measured_s"`
	EnrollS        float64 `json:"enroll_s"`
	Heartbeats     int64   `json:"heartbeats"`
	HeartbeatRate  float64 `json:"heartbeats_per_s"`
	HeartbeatErrs  int64   `json:"heartbeat_errors"`
	PollErrs       int64   `json:"poll_errors"`
	HBp50ms        float64 `json:"heartbeat_p50_ms"`
	HBp90ms        float64 `json:"heartbeat_p90_ms"`
	HBp99ms        float64 `json:"heartbeat_p99_ms"`
	HBmaxms        float64 `json:"heartbeat_max_ms"`
	CPUPercent     float64 `json:"server_cpu_percent"`
	RSSMiB         float64 `json:"server_rss_mib"`
	PeakRSSMiB     float64 `json:"server_peak_rss_mib"`
	Commands       int     `json:"commands"`
	Dispatchp50ms  float64 `json:"dispatch_p50_ms"`
	Dispatchp99ms  float64 `json:"dispatch_p99_ms"`
	Reporting      int     `json:"agents_reporting"`
	ServerThreads  int     `json:"server_threads"`
	ServerOpenFDs  int     `json:"server_open_fds"`
	GoroutinesNote string  `json:"note,omitempty"`
}

func run(n int, interval, wait, measure time.Duration, commands, enrollC int, keep bool, jsonOut, prebuilt string) error {
	if lim, want := raiseFDLimit(uint64(3*n+4096)), uint64(2*n+1024); lim < want {
		fmt.Fprintf(os.Stderr, "warning: open files limited to %d, %d agents need about %d (2 connections each): raise ulimit -n\n", lim, n, want)
	}
	dir, err := os.MkdirTemp("", "flywheel-bench-agents")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := prebuilt
	if bin == "" {
		bin = filepath.Join(dir, "flywheel")
		fmt.Println("building flywheel…")
		build := exec.Command("go", "build", "-o", bin, "./cmd/flywheel")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build (run from the repository root): %v\n%s", err, out)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	token := "bench-admin-token-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	srv := exec.Command(bin, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"), "--log-level", "warn")
	srv.Env = append(os.Environ(), "FLYWHEEL_ADMIN_TOKEN="+token)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			srv.Process.Kill()
		}
	}()
	base := "http://" + addr
	if err := waitHealthy(base); err != nil {
		return err
	}
	transport := &http.Transport{MaxIdleConns: 0, MaxIdleConnsPerHost: n * 2, IdleConnTimeout: 5 * time.Minute,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext}
	hc := &http.Client{Transport: transport, Timeout: wait + 30*time.Second}
	res := result{Agents: n, IntervalS: interval.Seconds(), MeasuredS: measure.Seconds(), Commands: commands}

	// Enroll: one token each, through the API.
	fmt.Printf("enrolling %d agents…\n", n)
	start := time.Now()
	creds := make([]string, n)
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var enrollErr atomic.Value
	for range enrollC {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var tok struct {
					Token string `json:"token"`
				}
				if err := call(hc, base, "POST", "/api/v1/enrollment-tokens", "Bearer "+token, map[string]any{}, &tok); err != nil {
					enrollErr.Store(err)
					return
				}
				var er wire.EnrollResponse
				req := wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: fmt.Sprintf("sim-%05d", i), Version: "bench", OS: "linux", Arch: "amd64"}}
				if err := call(hc, base, "POST", wire.PathEnroll, "", req, &er); err != nil {
					enrollErr.Store(err)
					return
				}
				ids[i], creds[i] = er.AgentID, wire.AuthScheme+" "+er.AgentID+":"+er.Secret
			}
		}()
	}
	wg.Wait()
	if err, _ := enrollErr.Load().(error); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	res.EnrollS = time.Since(start).Seconds()
	fmt.Printf("enrolled in %.1fs\n", res.EnrollS)

	// Connect: each agent long-polls continuously and heartbeats every
	// interval, starting at a random point of its first interval.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		measuring atomic.Bool
		hbCount   atomic.Int64
		hbErrs    atomic.Int64
		pollErrs  atomic.Int64
		latMu     sync.Mutex
		lats      []time.Duration
		// queuedAt[i] is when a command was queued for agent i (0: none).
		queuedAt = make([]atomic.Int64, n)
		dispMu   sync.Mutex
		dispLats []time.Duration
	)
	var agents sync.WaitGroup
	for i := range n {
		agents.Add(2)
		auth := creds[i]
		go func() { // heartbeats
			defer agents.Done()
			if !sleepCtx(ctx, time.Duration(rand.Int64N(int64(interval)))) {
				return
			}
			hb := wire.Heartbeat{Host: wire.Host{Hostname: fmt.Sprintf("sim-%05d", i), Version: "bench", OS: "linux", Arch: "amd64"},
				StartedAt: time.Now(), Interval: interval}
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				t0 := time.Now()
				err := call(hc, base, "POST", wire.PathHeartbeat, auth, hb, nil)
				d := time.Since(t0)
				if measuring.Load() {
					if err != nil {
						hbErrs.Add(1)
					} else {
						hbCount.Add(1)
						latMu.Lock()
						lats = append(lats, d)
						latMu.Unlock()
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
		go func() { // long-poll; commands are answered at once
			defer agents.Done()
			q := "?wait=" + wait.String() + "&slots=4&first=1"
			for ctx.Err() == nil {
				var p wire.Poll
				err := call(hc, base, "GET", wire.PathCommands+q, auth, nil, &p)
				q = "?wait=" + wait.String() + "&slots=4"
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					if measuring.Load() {
						pollErrs.Add(1)
					}
					sleepCtx(ctx, time.Second)
					continue
				}
				for _, c := range p.Commands {
					if q := queuedAt[i].Swap(0); q != 0 {
						dispMu.Lock()
						dispLats = append(dispLats, time.Since(time.Unix(0, q)))
						dispMu.Unlock()
					}
					zero := 0
					_ = call(hc, base, "POST", wire.CommandResultPath(c.ID), auth, wire.Result{Status: "succeeded", ExitCode: &zero}, nil)
				}
			}
		}()
	}
	// Ramp: one full interval so every agent has connected and beaten once.
	ramp := interval + 2*time.Second
	fmt.Printf("connecting; ramp %s…\n", ramp)
	sleepCtx(ctx, ramp)

	pid := srv.Process.Pid
	cpu0, wall0 := cpuTicks(pid), time.Now()
	measuring.Store(true)
	fmt.Printf("measuring %s…\n", measure)
	// Commands to random agents, spread over the measurement.
	go func() {
		if commands == 0 {
			return
		}
		every := measure / time.Duration(commands+1)
		for range commands {
			if !sleepCtx(ctx, every) {
				return
			}
			i := rand.IntN(n)
			queuedAt[i].Store(time.Now().UnixNano())
			if err := call(hc, base, "POST", "/api/v1/agents/"+ids[i]+"/commands", "Bearer "+token, map[string]any{"argv": []string{"true"}}, nil); err != nil {
				queuedAt[i].Store(0)
			}
		}
	}()
	var peak float64
	end := time.Now().Add(measure)
	tick := 0
	for time.Now().Before(end) {
		sleepCtx(ctx, time.Second)
		if r := rssMiB(pid, "VmRSS"); r > peak {
			peak = r
		}
		if tick++; tick%10 == 0 {
			latMu.Lock()
			p99 := pct(lats, 99)
			latMu.Unlock()
			fmt.Printf("  %2ds: %d heartbeats, p99 so far %.1f ms, server RSS %.0f MiB, %d errors\n", tick, hbCount.Load(), p99, rssMiB(pid, "VmRSS"), hbErrs.Load()+pollErrs.Load())
		}
	}
	measuring.Store(false)
	cpu1, wall1 := cpuTicks(pid), time.Now()
	res.CPUPercent = float64(cpu1-cpu0) / 100 / wall1.Sub(wall0).Seconds() * 100
	res.RSSMiB = rssMiB(pid, "VmRSS")
	res.PeakRSSMiB = rssMiB(pid, "VmHWM")
	res.ServerThreads = int(rssMiB(pid, "Threads"))
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		res.ServerOpenFDs = len(ents)
	}
	res.Heartbeats, res.HeartbeatErrs, res.PollErrs = hbCount.Load(), hbErrs.Load(), pollErrs.Load()
	res.HeartbeatRate = float64(res.Heartbeats) / measure.Seconds()
	latMu.Lock()
	res.HBp50ms, res.HBp90ms, res.HBp99ms, res.HBmaxms = pct(lats, 50), pct(lats, 90), pct(lats, 99), pct(lats, 100)
	latMu.Unlock()
	dispMu.Lock()
	res.Dispatchp50ms, res.Dispatchp99ms = pct(dispLats, 50), pct(dispLats, 99)
	res.Commands = len(dispLats)
	dispMu.Unlock()
	// Stop the simulated agents, then count who the server holds as
	// reporting (their heartbeats are still fresh).
	cancel()
	transport.CloseIdleConnections()
	hc = &http.Client{Timeout: 30 * time.Second}
	var l struct {
		Items []struct {
			State string `json:"state"`
		} `json:"items"`
		Next string `json:"next_cursor"`
	}
	cursor := ""
	for {
		l.Items, l.Next = nil, ""
		if err := call(hc, base, "GET", "/api/v1/agents?limit=500&cursor="+cursor, "Bearer "+token, nil, &l); err != nil {
			break
		}
		for _, it := range l.Items {
			if it.State == "reporting" {
				res.Reporting++
			}
		}
		if l.Next == "" {
			break
		}
		cursor = l.Next
	}

	fmt.Printf("\n%d agents, heartbeat every %s, measured %s\n", n, interval, measure)
	fmt.Printf("  enrollment        %.1f s (%.0f agents/s)\n", res.EnrollS, float64(n)/res.EnrollS)
	fmt.Printf("  heartbeats        %d (%.0f/s), errors %d; poll errors %d\n", res.Heartbeats, res.HeartbeatRate, res.HeartbeatErrs, res.PollErrs)
	fmt.Printf("  heartbeat latency p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", res.HBp50ms, res.HBp90ms, res.HBp99ms, res.HBmaxms)
	fmt.Printf("  command dispatch  %d commands, p50 %.1f ms  p99 %.1f ms (queued → in the agent's poll answer)\n", res.Commands, res.Dispatchp50ms, res.Dispatchp99ms)
	fmt.Printf("  server            CPU %.1f%% of one core, RSS %.0f MiB (peak %.0f MiB), %d threads, %d open fds\n",
		res.CPUPercent, res.RSSMiB, res.PeakRSSMiB, res.ServerThreads, res.ServerOpenFDs)
	fmt.Printf("  agents reporting  %d of %d\n", res.Reporting, n)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("  targets           heartbeat p99 < 100 ms: %s; dispatch p99 < 250 ms: %s\n",
		verdict(res.HBp99ms < 100 && res.HeartbeatErrs == 0), verdict(res.Dispatchp99ms < 250 && res.Commands > 0))
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if jsonOut != "" {
		return os.WriteFile(jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

func call(hc *http.Client, base, method, path, auth string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return float64(s[i].Microseconds()) / 1000
}

// cpuTicks is the process's user+system time in clock ticks (1/100 s).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

// rssMiB reads a /proc/PID/status field: kB fields in MiB, others as is.
func rssMiB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			n, _ := strconv.ParseFloat(f[0], 64)
			if len(f) > 1 && f[1] == "kB" {
				return n / 1024
			}
			return n
		}
	}
	return 0
}

// raiseFDLimit lets this process and the server it starts hold want open
// files: each agent is two connections (its long poll and its heartbeats),
// an fd at each end. The soft limit goes up to the hard one, and the hard
// one up to want where the process may raise it (root); it returns the
// limit in effect.
func raiseFDLimit(want uint64) uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	if r.Max < want {
		up := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return want
		}
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	return r.Cur
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server not ready within 30s")
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
