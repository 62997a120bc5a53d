// Command soak runs Flywheel under a steady alert load for a bounded time
// with retention on, and prints the size of its data directory (database,
// write-ahead log, intake journal) and the row counts of the tables that
// grow, at every sample: with retention the size levels off instead of
// growing with the load.
//
//	go run ./bench/soak                        # 30 minutes, retention of minutes
//	go run ./bench/soak -duration 5m -sample 15s
//
// The load is Prometheus-style: -alerts distinct alerts, firing, re-sent
// to POST /api/v2/alerts in batches at -rate alerts per second; every
// -flip one of them resolves and fires again, which opens a new OpsItem.
// Each delivery is stored (intake journal), becomes an event with its raw
// payload, and updates the alert's OpsItem. The retention is aggressive
// (-events, -raw) so that its effect shows within the run; the server's
// defaults are days (docs/retention.md). The program builds flywheel,
// starts it on a loopback port in a temporary directory, and stops it.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/flywheel-ops/flywheel/internal/store/sqlite" // registers the "sqlite" database/sql driver
)

type options struct {
	duration, sample, every time.Duration
	events, raw             string
	alerts, rate, batch     int
	flip                    time.Duration
	keep                    bool
	bin                     string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long the load runs")
	flag.DurationVar(&o.sample, "sample", time.Minute, "how often the size is sampled")
	flag.StringVar(&o.events, "events", "5m", "retention of events (retention.events)")
	flag.StringVar(&o.raw, "raw", "1m", "retention of raw payloads and processed deliveries (retention.raw_bodies, retention.intake)")
	flag.DurationVar(&o.every, "every", 15*time.Second, "how often retention runs (retention.every)")
	flag.IntVar(&o.alerts, "alerts", 2000, "distinct alerts kept firing")
	flag.IntVar(&o.rate, "rate", 200, "alerts sent per second")
	flag.IntVar(&o.batch, "batch", 20, "alerts per request")
	flag.DurationVar(&o.flip, "flip", 100*time.Millisecond, "how often one alert resolves and fires again (0: never)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	flag.StringVar(&o.bin, "flywheel", "", "use this flywheel binary instead of building one")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "flywheel-soak-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(tmp, "flywheel")
		build := exec.Command("go", "build", "-o", bin, "./cmd/flywheel")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w (run from the repository root)", err)
		}
	}
	data := filepath.Join(tmp, "data")
	cfg := filepath.Join(tmp, "flywheel.yaml")
	conf := fmt.Sprintf("retention:\n  every: %s\n  events: %s\n  raw_bodies: %s\n  intake: %s\n  timeline: %s\n",
		o.every, o.events, o.raw, o.raw, o.events)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	token := "soak-admin-token-0123456789abcdef"
	logf, err := os.Create(filepath.Join(tmp, "flywheel.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	srv := exec.Command(bin, "serve", "--addr", addr, "--data", data, "--config", cfg)
	srv.Env = append(os.Environ(), "FLYWHEEL_ADMIN_TOKEN="+token)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	}()
	url := "http://" + addr
	if err := waitReady(ctx, url); err != nil {
		return err
	}
	fmt.Printf("flywheel %s, retention: events %s, raw payloads and deliveries %s, every %s\n", addr, o.events, o.raw, o.every)
	fmt.Printf("load: %d alerts firing, %d alerts/s in requests of %d, one flips every %s, for %s\n\n", o.alerts, o.rate, o.batch, o.flip, o.duration)

	var sent, failed atomic.Int64
	loadCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		load(loadCtx, o, url+"/api/v2/alerts", token, &sent, &failed)
	}()

	const row = "%6s %9s %9s %7s %8s %12s %8s %9s %9s %7s\n"
	fmt.Printf(row, "minute", "sent", "data MiB", "db MiB", "wal MiB", "journal MiB", "events", "with raw", "opsitems", "audit")
	start := time.Now()
	tick := time.NewTicker(o.sample)
	defer tick.Stop()
	var last time.Time
	sampleRow := func() {
		if time.Since(last) < time.Second {
			return // the load ended on a sample
		}
		last = time.Now()
		s := measure(data)
		f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
		d := func(n int64) string { return fmt.Sprint(n) }
		fmt.Printf(row, f(time.Since(start).Minutes()), d(sent.Load()), f(mib(s.total)), f(mib(s.db)), f(mib(s.wal)), f(mib(s.journal)),
			d(s.events), d(s.raw), d(s.opsitems), d(s.audit))
	}
	sampleRow()
	for {
		select {
		case <-tick.C:
			sampleRow()
			continue
		case <-done:
		}
		break
	}
	sampleRow()
	fmt.Printf("\nsent %d alerts (%d requests failed) in %s\n", sent.Load(), failed.Load(), time.Since(start).Round(time.Second))
	if failed.Load() > 0 {
		return fmt.Errorf("%d requests failed; see %s", failed.Load(), logf.Name())
	}
	return nil
}

// load sends the alerts round-robin at o.rate until ctx ends.
func load(ctx context.Context, o options, url, token string, sent, failed *atomic.Int64) {
	client := &http.Client{Timeout: 30 * time.Second}
	interval := time.Duration(float64(time.Second) * float64(o.batch) / float64(o.rate))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	started := time.Now()
	next, flips := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var batch []map[string]any
		for range o.batch {
			batch = append(batch, alert(next%o.alerts, started, false))
			next++
		}
		// The flips due since the last request: each alert resolves now
		// and fires again when the round-robin sends it next.
		if o.flip > 0 {
			for due := int(time.Since(started) / o.flip); flips < due; flips++ {
				batch = append(batch, alert(flips*7919%o.alerts, started, true))
			}
		}
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				failed.Add(1)
			}
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			failed.Add(1)
			continue
		}
		sent.Add(int64(len(batch)))
	}
}

// alert is alert i as Prometheus sends it, resolved or firing.
func alert(i int, started time.Time, resolved bool) map[string]any {
	a := map[string]any{
		"labels": map[string]string{"alertname": "DiskFilling", "instance": fmt.Sprintf("web-%04d:9100", i), "severity": "warning",
			"job": "node", "mountpoint": "/var"},
		"annotations": map[string]string{"summary": fmt.Sprintf("/var on web-%04d is filling up", i),
			"description": strings.Repeat("Disk usage grew by more than 5% in the last hour. ", 8)},
		"startsAt":     started.UTC().Format(time.RFC3339),
		"generatorURL": "http://prometheus:9090/graph?g0.expr=node_filesystem_avail_bytes",
	}
	if resolved {
		a["endsAt"] = time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	}
	return a
}

type sample struct {
	total, db, wal, journal      int64
	events, raw, opsitems, audit int64
}

func measure(data string) sample {
	var s sample
	_ = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		s.total += fi.Size()
		switch {
		case strings.HasSuffix(p, "flywheel.db"):
			s.db += fi.Size()
		case strings.HasSuffix(p, "flywheel.db-wal"):
			s.wal += fi.Size()
		case strings.Contains(p, "flywheel-intake"):
			s.journal += fi.Size()
		}
		return nil
	})
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "flywheel.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return s
	}
	defer db.Close()
	for _, q := range []struct {
		sql string
		n   *int64
	}{
		{"SELECT COUNT(*) FROM events", &s.events},
		{"SELECT COUNT(*) FROM events WHERE raw <> ''", &s.raw},
		{"SELECT COUNT(*) FROM opsitems", &s.opsitems},
		{"SELECT COUNT(*) FROM audit_records", &s.audit},
	} {
		_ = db.QueryRow(q.sql).Scan(q.n)
	}
	return s
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("flywheel did not become ready at %s within 60s", url)
}
