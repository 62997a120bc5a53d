// Command intake benchmarks Flywheel's alert intake side by side with
// Prometheus Alertmanager in one run on one machine: both servers are
// driven by the same load generator (bench/alertload) with the
// same flags, alternating AM, FW, AM, FW, and the program prints both rates,
// their ratio, both processes' memory with 100,000 distinct open alerts, and
// Flywheel's intake→OpsItem latency at 1,000 events/s.
//
//	go run ./bench/intake            # from the repository root; < 5 minutes
//	go run ./bench/intake -quick     # a smoke run (smaller totals, one round)
//
// It needs Debian's prometheus-alertmanager (apt-get install -y
// prometheus-alertmanager) and installs nothing itself. See README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

type options struct {
	quick        bool
	rounds       int
	alertloadDir string
	keep         bool
	jsonOut      string
	latencyRate  int
	latencyFor   time.Duration
	drainTimeout time.Duration
	only         string
	flywheelBin  string
	db           string // sqlite or postgres
	pgURL        string // the server -db postgres creates its databases on
	stormFor     time.Duration
	stormBase    float64
	stormFactors string
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "smaller totals and one round (a smoke test, not a measurement)")
	flag.IntVar(&o.rounds, "rounds", 2, "alternating rounds (AM, FW) of the throughput scenarios; the best of each side counts")
	flag.StringVar(&o.alertloadDir, "alertload", "./bench/alertload", "the alertload package (relative to the repository root, or absolute)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (data, logs)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the JSON result to this file")
	flag.IntVar(&o.latencyRate, "latency-rate", 1000, "events/s for the latency scenario")
	flag.DurationVar(&o.latencyFor, "latency-for", 10*time.Second, "how long the latency scenario sends")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 90*time.Second, "how long to wait for Flywheel's processor to catch up")
	flag.StringVar(&o.flywheelBin, "flywheel", "", "use this flywheel binary instead of building one (e.g. a profiling build)")
	flag.StringVar(&o.only, "only", "", "run only these scenarios (e.g. \"ab\"); default all of a, b, c, d, e, f (and s with -db postgres)")
	flag.StringVar(&o.db, "db", "sqlite", "Flywheel's store: sqlite, or postgres (a fresh database per server set, dropped at the end; adds the scaling scenario s)")
	flag.DurationVar(&o.stormFor, "storm-for", 30*time.Second, "how long each storm of scenario e sends")
	flag.Float64Var(&o.stormBase, "storm-base", 0, "new alerts/s the storms of e are multiples of (default: scenario c's processing rate in this run, or 18,500 without c)")
	flag.StringVar(&o.stormFactors, "storm-factors", "2,4,8", "the multiples of e's storms")
	flag.StringVar(&o.pgURL, "pg", defaultPG(), "PostgreSQL server for -db postgres (TEST_DATABASE_URL if set)")
	flag.Parse()
	if o.db != "sqlite" && o.db != "postgres" {
		fmt.Fprintf(os.Stderr, "bench/intake: -db %q: want sqlite or postgres\n", o.db)
		os.Exit(2)
	}
	if o.quick {
		o.rounds = 1
		o.latencyFor = 3 * time.Second
		o.stormFor = 5 * time.Second
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/intake:", err)
		os.Exit(1)
	}
}

// result is the machine-readable summary (the last line printed).
type result struct {
	DB        string             `json:"db"`
	Machine   machine            `json:"machine"`
	Scenarios []scenarioResult   `json:"scenarios"`
	Memory    *memoryResult      `json:"memory,omitempty"`
	Latency   *latencyResult     `json:"latency,omitempty"`
	Processed map[string]float64 `json:"fw_processed_per_s,omitempty"`
	Storm     *stormResult       `json:"storm,omitempty"`
	Peak      *peakResult        `json:"peak,omitempty"`
	Scaling   []scaleResult      `json:"scaling,omitempty"`
	// Acceptance are the ratios issue #23 asks for, from this run.
	Acceptance map[string]float64 `json:"acceptance,omitempty"`
}

// peakResult is scenario f: fresh servers absorbing 100,000 distinct
// alerts, their peak resident set beside the one they settle at.
type peakResult struct {
	Alerts int `json:"distinct_alerts"`
	// AMRate is Alertmanager's accept rate; FWRate Flywheel's, FWProcessed
	// its processing rate from load start to drained.
	AMRate        float64 `json:"am_alerts_per_s"`
	FWRate        float64 `json:"fw_alerts_per_s"`
	FWProcessed   float64 `json:"fw_processed_per_s"`
	AMPeakMB      float64 `json:"am_peak_rss_mb"`
	FWPeakMB      float64 `json:"fw_peak_rss_mb"`
	AMSteadyMB    float64 `json:"am_steady_rss_mb"`
	FWSteadyMB    float64 `json:"fw_steady_rss_mb"`
	AMStartMB     float64 `json:"am_start_rss_mb"`
	FWStartMB     float64 `json:"fw_start_rss_mb"`
	PeakRatio     float64 `json:"peak_fw_over_am"`
	SteadyRatio   float64 `json:"steady_fw_over_am"`
	ProcessedOver float64 `json:"fw_processed_over_am_accepted"`
}

type machine struct {
	CPUs    int    `json:"cpus"`
	LoadAvg string `json:"loadavg_at_start"`
	// At the end too: the machine is shared, and a load average well
	// above its CPUs means both servers were starved some of the time.
	LoadAvgEnd string `json:"loadavg_at_end"`
	AM         string `json:"alertmanager"`
}

type scenarioResult struct {
	Name  string    `json:"name"`
	Flags string    `json:"flags"`
	AM    []float64 `json:"am_alerts_per_s"`
	FW    []float64 `json:"fw_alerts_per_s"`
	AMMax float64   `json:"am_best"`
	FWMax float64   `json:"fw_best"`
	Ratio float64   `json:"ratio"`
}

type memoryResult struct {
	Alerts int     `json:"distinct_alerts"`
	AMMB   float64 `json:"am_rss_mb"`
	FWMB   float64 `json:"fw_rss_mb"`
	Ratio  float64 `json:"fw_over_am"`
	AMRate float64 `json:"am_alerts_per_s"`
	FWRate float64 `json:"fw_alerts_per_s"`
	// Peak resident set over the process's life so far (VmHWM).
	AMPeakMB float64 `json:"am_peak_rss_mb"`
	FWPeakMB float64 `json:"fw_peak_rss_mb"`
}

type latencyResult struct {
	Rate    int     `json:"events_per_s"`
	Sent    int     `json:"sent"`
	Errors  int     `json:"send_errors"`
	Missing int     `json:"missing"`
	P50ms   float64 `json:"p50_ms"`
	P90ms   float64 `json:"p90_ms"`
	P99ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
}

func run(o options) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	amBin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		return errors.New("prometheus-alertmanager is not installed (apt-get install -y prometheus-alertmanager)")
	}
	tmp, err := os.MkdirTemp("", "flywheel-bench-intake-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	step("building flywheel and alertload")
	fwBin, loadBin := filepath.Join(tmp, "flywheel"), filepath.Join(tmp, "alertload")
	if o.flywheelBin != "" {
		fwBin = o.flywheelBin
	} else if err := command(root, "go", "build", "-o", fwBin, "./cmd/flywheel").Run(); err != nil {
		return fmt.Errorf("building flywheel: %w", err)
	}
	if err := command(root, "go", "build", "-o", loadBin, o.alertloadDir).Run(); err != nil {
		return fmt.Errorf("building alertload: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	am, err := startAlertmanager(ctx, amBin, tmp)
	if err != nil {
		return err
	}
	defer am.stop()
	db := ""
	if o.db == "postgres" {
		pg := pgServer{url: o.pgURL}
		if db, err = pg.create(ctx); err != nil {
			return err
		}
		defer pg.dropAll(context.Background())
	}
	fw, err := startFlywheel(ctx, fwBin, tmp, "flywheel", db, newToken())
	if err != nil {
		return err
	}
	defer fw.stop()
	step(fmt.Sprintf("Alertmanager %s (pid %d), Flywheel %s (pid %d)", am.url, am.cmd.Process.Pid, fw.url, fw.cmd.Process.Pid))

	res := result{DB: o.db, Machine: machine{CPUs: runtime.NumCPU(), LoadAvg: loadavg(), AM: amVersion(amBin)}, Processed: map[string]float64{}}
	load := loader{bin: loadBin}
	has := func(s string) bool { return o.only == "" || strings.Contains(o.only, s) }

	type scen struct {
		key, name string
		args      []string
	}
	total := func(n int) string {
		if o.quick {
			n /= 5
		}
		return strconv.Itoa(n)
	}
	scens := []scen{
		{"a", "a  batch 100, 2k alerts re-sent", []string{"-format", "am2", "-batch", "100", "-c", "8", "-total", total(200000), "-unique", "2000"}},
		{"b", "b  batch 1, 2k alerts re-sent", []string{"-format", "am2", "-batch", "1", "-c", "8", "-total", total(50000), "-unique", "2000"}},
	}
	for _, s := range scens {
		if !has(s.key) {
			continue
		}
		sr := scenarioResult{Name: s.name, Flags: strings.Join(s.args, " ")}
		for r := 0; r < o.rounds; r++ {
			step(fmt.Sprintf("scenario %s, round %d: Alertmanager", s.key, r+1))
			a, err := load.run(am.url+"/api/v2/alerts", "", s.args)
			if err != nil {
				return fmt.Errorf("alertmanager, scenario %s: %w", s.key, err)
			}
			sr.AM = append(sr.AM, a.rate)
			step(fmt.Sprintf("scenario %s, round %d: Flywheel", s.key, r+1))
			before, _ := fw.processed()
			start := time.Now()
			f, err := load.run(fw.url+"/api/v2/alerts", fw.token, s.args)
			if err != nil {
				return fmt.Errorf("flywheel, scenario %s: %w", s.key, err)
			}
			sr.FW = append(sr.FW, f.rate)
			n, err := fw.drain(before+f.ok, o.drainTimeout)
			if err != nil {
				return err
			}
			res.Processed[fmt.Sprintf("%s%d", s.key, r+1)] = round(float64(n-before) / time.Since(start).Seconds())
		}
		sr.AMMax, sr.FWMax = slices.Max(sr.AM), slices.Max(sr.FW)
		sr.Ratio = round2(sr.FWMax / sr.AMMax)
		res.Scenarios = append(res.Scenarios, sr)
	}

	if has("c") {
		n := 100000
		if o.quick {
			n = 20000
		}
		args := []string{"-format", "am2", "-batch", "100", "-c", "8", "-total", strconv.Itoa(n), "-unique", strconv.Itoa(n)}
		step("scenario c: Alertmanager, distinct alerts")
		a, err := load.run(am.url+"/api/v2/alerts", "", args)
		if err != nil {
			return fmt.Errorf("alertmanager, scenario c: %w", err)
		}
		step("scenario c: Flywheel, distinct alerts")
		before, _ := fw.processed()
		start := time.Now()
		f, err := load.run(fw.url+"/api/v2/alerts", fw.token, args)
		if err != nil {
			return fmt.Errorf("flywheel, scenario c: %w", err)
		}
		got, err := fw.drain(before+f.ok, o.drainTimeout)
		if err != nil {
			return err
		}
		res.Processed["c"] = round(float64(got-before) / time.Since(start).Seconds())
		time.Sleep(2 * time.Second) // let both settle (GC, page cache) before sampling
		amRSS, amPeak, err := rssMB(am.cmd.Process.Pid)
		if err != nil {
			return err
		}
		fwRSS, fwPeak, err := rssMB(fw.cmd.Process.Pid)
		if err != nil {
			return err
		}
		res.Memory = &memoryResult{Alerts: n, AMMB: round1(amRSS), FWMB: round1(fwRSS), Ratio: round2(fwRSS / amRSS), AMRate: a.rate, FWRate: f.rate,
			AMPeakMB: round1(amPeak), FWPeakMB: round1(fwPeak)}
	}

	if has("d") {
		step(fmt.Sprintf("scenario d: intake→OpsItem latency at %d events/s for %s", o.latencyRate, o.latencyFor))
		lat, err := measureLatency(fw, o.latencyRate, o.latencyFor)
		if err != nil {
			return err
		}
		res.Latency = lat
	}

	if has("e") {
		base := o.stormBase
		if base <= 0 {
			base = 18500
			if c, ok := res.Processed["c"]; ok && c > 0 {
				base = c
			}
		}
		sr := &stormResult{Base: base, ForS: o.stormFor.Seconds()}
		for i, fs := range strings.Split(o.stormFactors, ",") {
			factor, err := strconv.ParseFloat(strings.TrimSpace(fs), 64)
			if err != nil || factor <= 0 {
				return fmt.Errorf("-storm-factors %q: %q is not a positive number", o.stormFactors, fs)
			}
			step(fmt.Sprintf("scenario e: a storm of new alerts at %gx %s/s for %s", factor, thousands(base), o.stormFor))
			lv, err := runStorm(fw, factor, base, o.stormFor, 10_000_000*(i+1), max(o.drainTimeout, 3*time.Minute))
			if err != nil {
				return fmt.Errorf("scenario e at %gx: %w", factor, err)
			}
			fmt.Fprintf(os.Stderr, "    accepted %d, refused %d, backlog max %d, drained %.1fs after, probe p99 %.1f ms\n",
				lv.Accepted, lv.Refused, lv.BacklogMax, lv.DrainS, lv.P99ms)
			sr.Levels = append(sr.Levels, lv)
		}
		res.Storm = sr
	}

	if has("f") || (o.db == "postgres" && has("s")) {
		fw.stop() // f and s start their own servers
		am.stop()
	}
	if has("f") {
		pk, err := runPeak(ctx, o, amBin, fwBin, tmp, load)
		if err != nil {
			return err
		}
		res.Peak = pk
	}

	if o.db == "postgres" && has("s") {
		sc, err := runScaling(ctx, o, fwBin, tmp, load)
		if err != nil {
			return err
		}
		res.Scaling = sc
	}
	res.Acceptance = acceptance(res)

	res.Machine.LoadAvgEnd = loadavg()
	report(os.Stdout, res)
	line, _ := json.Marshal(res)
	if o.jsonOut != "" {
		if err := os.WriteFile(o.jsonOut, append(line, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Println(string(line))
	return nil
}

func report(w io.Writer, r result) {
	fmt.Fprintf(w, "\nmachine: %d CPUs, load average at start %s, at end %s, %s\n\n", r.Machine.CPUs, r.Machine.LoadAvg, r.Machine.LoadAvgEnd, r.Machine.AM)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tAM alerts/s\tFW alerts/s\tFW/AM\tFW runs\tAM runs\t")
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t%s\t%s\t\n", s.Name, thousands(s.AMMax), thousands(s.FWMax), s.Ratio, joinRates(s.FW), joinRates(s.AM))
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(tw, "c  batch 100, %d distinct alerts\t%s\t%s\t%.2fx\t\t\t\n", m.Alerts, thousands(m.AMRate), thousands(m.FWRate), m.FWRate/m.AMRate)
	}
	tw.Flush()
	if m := r.Memory; m != nil {
		fmt.Fprintf(w, "\nRSS holding %d distinct open alerts: Alertmanager %.1f MB, Flywheel %.1f MB (FW/AM %.2f); peak so far: AM %.1f MB, FW %.1f MB\n",
			m.Alerts, m.AMMB, m.FWMB, m.Ratio, m.AMPeakMB, m.FWPeakMB)
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "intake→OpsItem at %d events/s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d sent, %d send errors, %d never seen)\n",
			l.Rate, l.P50ms, l.P90ms, l.P99ms, l.MaxMs, l.Sent, l.Errors, l.Missing)
	}
	if r.Storm != nil {
		reportStorm(w, r.Storm)
	}
	if p := r.Peak; p != nil {
		fmt.Fprintf(w, "\nf: fresh servers absorbing %d distinct alerts: Alertmanager accepted %s/s, Flywheel accepted %s/s and processed %s/s\n",
			p.Alerts, thousands(p.AMRate), thousands(p.FWRate), thousands(p.FWProcessed))
		fmt.Fprintf(w, "   RSS at start: AM %.1f MB, FW %.1f MB; peak: AM %.1f MB, FW %.1f MB (FW/AM %.2f); steady after: AM %.1f MB, FW %.1f MB (FW/AM %.2f)\n",
			p.AMStartMB, p.FWStartMB, p.AMPeakMB, p.FWPeakMB, p.PeakRatio, p.AMSteadyMB, p.FWSteadyMB, p.SteadyRatio)
	}
	if len(r.Scaling) > 0 {
		reportScaling(w, r.Scaling)
	}
	if len(r.Processed) > 0 {
		keys := make([]string, 0, len(r.Processed))
		for k := range r.Processed {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %s/s", k, thousands(r.Processed[k])))
		}
		fmt.Fprintf(w, "Flywheel processed (deduplicated/correlated) events, from load start to drained: %s\n", strings.Join(parts, ", "))
	}
	reportAcceptance(w, r.Acceptance)
	fmt.Fprintln(w)
}

// The acceptance figures of issue #23, each a ratio from this run with
// its target: at least (≥) or at most (≤).
var acceptanceTargets = []struct {
	key, what string
	target    float64
	atLeast   bool
}{
	{"a_accept", "a: accepted alerts/s, FW/AM (batch 100)", 1.5, true},
	{"b_accept", "b: accepted alerts/s, FW/AM (batch 1)", 1.5, true},
	{"c_processed_new", "c: FW new alerts processed/s over AM distinct alerts accepted/s", 1.0, true},
	{"f_processed_new", "f: the same, fresh servers", 1.0, true},
	{"c_steady_rss", "c: RSS with 100k distinct alerts, FW/AM", 0.5, false},
	{"f_peak_rss", "f: peak RSS absorbing 100k distinct alerts, FW/AM", 1.0, false},
	{"f_steady_rss", "f: steady RSS after, FW/AM", 0.5, false},
}

// acceptance computes the ratios the run has the figures for.
func acceptance(r result) map[string]float64 {
	m := map[string]float64{}
	for _, s := range r.Scenarios {
		if s.AMMax > 0 {
			m[s.Name[:1]+"_accept"] = round2(s.FWMax / s.AMMax)
		}
	}
	if c := r.Memory; c != nil && c.AMRate > 0 {
		m["c_processed_new"] = round2(r.Processed["c"] / c.AMRate)
		m["c_steady_rss"] = c.Ratio
	}
	if p := r.Peak; p != nil {
		m["f_processed_new"], m["f_peak_rss"], m["f_steady_rss"] = p.ProcessedOver, p.PeakRatio, p.SteadyRatio
	}
	return m
}

func reportAcceptance(w io.Writer, m map[string]float64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintln(w, "\nacceptance (issue #23), ratios from this run:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range acceptanceTargets {
		v, ok := m[t.key]
		if !ok {
			continue
		}
		op, met := "≤", v <= t.target
		if t.atLeast {
			op, met = "≥", v >= t.target
		}
		verdict := "met"
		if !met {
			verdict = "NOT met"
		}
		fmt.Fprintf(tw, "  %s\t%.2f\ttarget %s %.1f\t%s\n", t.what, v, op, t.target, verdict)
	}
	tw.Flush()
}

// runPeak is scenario f: a fresh Alertmanager and a fresh Flywheel each
// absorb 100,000 distinct alerts (as c sends them); their peak resident
// set (VmHWM: a fresh process's is this load's) beside what they hold once
// Flywheel has processed everything and both settled.
func runPeak(ctx context.Context, o options, amBin, fwBin, tmp string, load loader) (*peakResult, error) {
	n := 100000
	if o.quick {
		n = 20000
	}
	args := []string{"-format", "am2", "-batch", "100", "-c", "8", "-total", strconv.Itoa(n), "-unique", strconv.Itoa(n)}
	am, err := startAlertmanager(ctx, amBin, filepath.Join(tmp, "f"))
	if err != nil {
		return nil, err
	}
	defer am.stop()
	db := ""
	if o.db == "postgres" {
		pg := pgServer{url: o.pgURL}
		if db, err = pg.create(ctx); err != nil {
			return nil, err
		}
		defer pg.dropAll(context.Background())
	}
	fw, err := startFlywheel(ctx, fwBin, tmp, "flywheel-f", db, newToken())
	if err != nil {
		return nil, err
	}
	defer fw.stop()
	time.Sleep(time.Second) // both past their start
	p := &peakResult{Alerts: n}
	var errStart error
	p.AMStartMB, _, errStart = rssMB(am.cmd.Process.Pid)
	if errStart == nil {
		p.FWStartMB, _, errStart = rssMB(fw.cmd.Process.Pid)
	}
	if errStart != nil {
		return nil, errStart
	}
	step("scenario f: fresh Alertmanager, distinct alerts")
	a, err := load.run(am.url+"/api/v2/alerts", "", args)
	if err != nil {
		return nil, fmt.Errorf("alertmanager, scenario f: %w", err)
	}
	step("scenario f: fresh Flywheel, distinct alerts")
	before, _ := fw.processed()
	start := time.Now()
	f, err := load.run(fw.url+"/api/v2/alerts", fw.token, args)
	if err != nil {
		return nil, fmt.Errorf("flywheel, scenario f: %w", err)
	}
	got, err := fw.drain(before+f.ok, o.drainTimeout)
	if err != nil {
		return nil, err
	}
	p.AMRate, p.FWRate = a.rate, f.rate
	p.FWProcessed = round(float64(got-before) / time.Since(start).Seconds())
	time.Sleep(2 * time.Second) // as c: let both settle before sampling
	amRSS, amPeak, err := rssMB(am.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	fwRSS, fwPeak, err := rssMB(fw.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	p.AMPeakMB, p.FWPeakMB, p.AMSteadyMB, p.FWSteadyMB = round1(amPeak), round1(fwPeak), round1(amRSS), round1(fwRSS)
	p.PeakRatio, p.SteadyRatio = round2(fwPeak/amPeak), round2(fwRSS/amRSS)
	p.ProcessedOver = round2(p.FWProcessed / a.rate)
	return p, nil
}

// ---- servers ----

type server struct {
	name  string
	cmd   *exec.Cmd
	url   string
	token string
	log   *os.File
	done  chan struct{}
}

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

func startServer(ctx context.Context, name, dir string, env []string, bin string, args ...string) (*server, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	return s, nil
}

func (s *server) waitReady(path string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited during start; see %s", s.name, s.log.Name())
		default:
		}
		resp, err := http.Get(s.url + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become ready in 30s; see %s", s.name, s.log.Name())
}

func startAlertmanager(ctx context.Context, bin, tmp string) (*server, error) {
	dir := filepath.Join(tmp, "alertmanager")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"), 0o600); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := startServer(ctx, "alertmanager", tmp, nil, bin, "--config.file="+cfg, "--storage.path="+dir,
		"--cluster.listen-address=", "--web.listen-address="+addr, "--log.level=warn")
	if err != nil {
		return nil, err
	}
	s.url = "http://" + addr
	if err := s.waitReady("/-/ready"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

type flywheel struct {
	*server
	client *http.Client
}

// newToken is a random admin token for the servers of a run.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "fw_bench_" + hex.EncodeToString(b[:])
}

// startFlywheel starts `flywheel serve` named name (its data directory
// and log), on db ("" for SQLite in its data directory), with admin token
// token (replicas on one database share it).
func startFlywheel(ctx context.Context, bin, tmp, name, db, token string) (*flywheel, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--data", filepath.Join(tmp, name+"-data")}
	if db != "" {
		args = append(args, "--db", db)
	}
	s, err := startServer(ctx, name, tmp, []string{"FLYWHEEL_ADMIN_TOKEN=" + token}, bin, args...)
	if err != nil {
		return nil, err
	}
	s.url, s.token = "http://"+addr, token
	if err := s.waitReady("/readyz"); err != nil {
		s.stop()
		return nil, err
	}
	return &flywheel{server: s, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

func (f *flywheel) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	return f.client.Do(req)
}

// processed reads flywheel_events_received_total: events the pipeline has
// deduplicated and correlated.
func (f *flywheel) processed() (int64, error) {
	resp, err := f.get("/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "flywheel_events_received_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			return int64(n), err
		}
	}
	return 0, errors.New("flywheel_events_received_total not in /metrics")
}

// drain waits until the processor has handled want events in total.
func (f *flywheel) drain(want int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := f.processed()
		if err != nil {
			return n, err
		}
		if n >= want {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("flywheel's processor did not catch up within %s (%d of %d events processed)", timeout, n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- load ----

type loader struct{ bin string }

type loadResult struct {
	rate float64
	ok   int64
}

func (l loader) run(url, token string, args []string) (loadResult, error) {
	full := append([]string{"-url", url}, args...)
	if token != "" {
		full = append(full, "-token", token)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(l.bin, full...)
	cmd.Env = append(os.Environ(), "ALERTLOAD_TOKEN=")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("alertload: %w: %s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	var r loadResult
	var errs int64
	if _, err := fmt.Sscanf(last, "alerts_per_s=%f ok_alerts=%d errors=%d", &r.rate, &r.ok, &errs); err != nil {
		return r, fmt.Errorf("alertload printed %q: %w", last, err)
	}
	if errs > 0 {
		return r, fmt.Errorf("alertload: %d requests failed (%s)", errs, strings.TrimSpace(errb.String()))
	}
	fmt.Fprintf(os.Stderr, "    %s\n", last)
	return r, nil
}

// ---- latency ----

// measureLatency sends rate distinct critical alerts per second for d, each
// in its own request, and polls every 10 ms to see when each alert's OpsItem
// first appears (see pollOpsItems). Latency is from just before the request
// is sent to the poll response that first shows it.
func measureLatency(f *flywheel, rate int, d time.Duration) (*latencyResult, error) {
	n := int(float64(rate) * d.Seconds())
	prefix := "BenchLatency" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "_"
	sent := make([]int64, n) // unix nanos
	seen := make([]int64, n)
	var nseen, errs atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}

	stopPoll := make(chan struct{})
	pollDone := make(chan error, 1)
	go func() { pollDone <- pollOpsItems(f, prefix, sent, seen, &nseen, stopPoll) }()

	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				// One instant for the alert's startsAt and its send time: the
				// poller looks for it by event time from the send time (a
				// sender descheduled between taking two clocks on a loaded
				// machine put startsAt before the window, and the poller then
				// waited for that alert forever).
				now := time.Now()
				body := fmt.Sprintf(`[{"labels":{"alertname":"%s%d","instance":"lat-%d:9100","job":"bench","severity":"critical"},"annotations":{"summary":"latency probe"},"startsAt":%q}]`,
					prefix, i, i, now.UTC().Format(time.RFC3339Nano))
				req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v2/alerts", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+f.token)
				atomic.StoreInt64(&sent[i], now.UnixNano())
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; i < n; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for nseen.Load() < int64(n)-errs.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopPoll)
	if err := <-pollDone; err != nil {
		return nil, err
	}
	var lats []float64
	missing := 0
	for i := range n {
		s, t := atomic.LoadInt64(&sent[i]), atomic.LoadInt64(&seen[i])
		if t == 0 {
			missing++
			continue
		}
		lats = append(lats, float64(t-s)/1e6)
	}
	slices.Sort(lats)
	res := &latencyResult{Rate: rate, Sent: n, Errors: int(errs.Load()), Missing: missing - int(errs.Load())}
	if len(lats) > 0 {
		res.P50ms, res.P90ms, res.P99ms, res.MaxMs = round1(pct(lats, 50)), round1(pct(lats, 90)), round1(pct(lats, 99)), round1(lats[len(lats)-1])
	}
	if res.Missing > 0 {
		// An OpsItem that never appeared is worse than any latency.
		res.P99ms = round1(max(res.P99ms, 10_000))
	}
	return res, nil
}

// pollOpsItems records when each alert's OpsItem first shows. It polls the
// events the pipeline decided "opened" (stored in the transaction that
// creates the OpsItem, so visible at the same instant), every 10 ms, in a
// window of event times (an alert's is when it was sent) at the oldest
// alert still unseen.
func pollOpsItems(f *flywheel, prefix string, sent, seen []int64, nseen *atomic.Int64, stop <-chan struct{}) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	lo := 0 // every alert before lo has been seen
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		for lo < len(seen) && atomic.LoadInt64(&seen[lo]) != 0 {
			lo++
		}
		oldest := int64(0)
		for i := lo; i < len(sent); i++ {
			if t := atomic.LoadInt64(&sent[i]); t != 0 && atomic.LoadInt64(&seen[i]) == 0 {
				oldest = t
				break
			}
		}
		if oldest == 0 {
			continue // nothing outstanding
		}
		// The pipeline works in order of arrival, so what it finishes next
		// is mostly just after the oldest alert not seen: a window from
		// there to now (at most 2s, at least 100ms) keeps each poll small
		// while the pipeline keeps up, and when it falls behind still shows
		// every alert it finished (a window of 100ms past the oldest only
		// let the poller catch up a tenth of a second of alerts per poll,
		// adding its own delay to the pipeline's).
		lag := min(max(time.Since(time.Unix(0, oldest)), 100*time.Millisecond), 2*time.Second)
		from := time.Unix(0, oldest).Add(-20 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		to := time.Unix(0, oldest).Add(lag).UTC().Format(time.RFC3339Nano)
		cursor := ""
		for {
			path := "/api/v1/events?decision=opened&limit=500&from=" + from + "&to=" + to
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			resp, err := f.get(path)
			if err != nil {
				return err
			}
			var page struct {
				Items []struct {
					Title string `json:"title"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("polling events: %w", err)
			}
			now := time.Now().UnixNano()
			for _, it := range page.Items {
				rest, ok := strings.CutPrefix(it.Title, prefix)
				if !ok {
					continue
				}
				i, err := strconv.Atoi(rest)
				if err != nil || i < 0 || i >= len(seen) {
					continue
				}
				if atomic.CompareAndSwapInt64(&seen[i], 0, now) {
					nseen.Add(1)
				}
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
}

// ---- helpers ----

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the flywheel module (go run ./bench/intake)")
	}
	return filepath.Dir(mod), nil
}

func command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	return cmd
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// rssMB reads a process's resident set (VmRSS) and its peak (VmHWM).
func rssMB(pid int) (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	field := func(name string) (float64, error) {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				f := strings.Fields(v)
				kb, err := strconv.ParseFloat(f[0], 64)
				return kb / 1024, err
			}
		}
		return 0, fmt.Errorf("no %s for pid %d", name, pid)
	}
	if rss, err = field("VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = field("VmHWM")
	return rss, peak, err
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func amVersion(bin string) string {
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if i := strings.Index(line, "version "); i >= 0 {
		v, _, _ := strings.Cut(line[i+len("version "):], " ")
		return "alertmanager " + v
	}
	return "alertmanager"
}

func step(s string) { fmt.Fprintf(os.Stderr, "==> %s\n", s) }

func pct(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func round(f float64) float64  { return float64(int64(f + 0.5)) }
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func joinRates(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = thousands(r)
	}
	return strings.Join(parts, " / ")
}
