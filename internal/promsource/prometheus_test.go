package promsource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	nethttp "net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/promsource"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

var record = flag.Bool("record", false, "record testdata/filling-tmpfs.query_range.json: fill a tmpfs for about 150 s under a real Prometheus and node-exporter")

// recordingFile is the recorded query_range response the forecast tests
// replay.
const recordingFile = "testdata/filling-tmpfs.query_range.json"

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs bin until the test ends and waits until GET url answers 200.
func start(t *testing.T, url, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := nethttp.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited: %s", bin, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s: %s", bin, url, out.String())
		}
	}
}

func dfPercent(t *testing.T, dir string) float64 {
	t.Helper()
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		t.Fatal(err)
	}
	used, avail := (s.Blocks-s.Bfree)*uint64(s.Bsize), s.Bavail*uint64(s.Bsize)
	return float64(used) / float64(used+avail) * 100
}

// fill writes into dir at a rate with a daily rhythm (period long) until
// it has written target bytes or the volume is full.
func fill(t *testing.T, dir string, target int, total, period time.Duration) {
	t.Helper()
	chunk := bytes.Repeat([]byte("flywheel"), 512)
	written := func(el time.Duration) float64 {
		w := 2 * math.Pi / period.Seconds()
		return float64(target) / total.Seconds() * (el.Seconds() + 0.9*(1-math.Cos(w*el.Seconds()))/w)
	}
	f, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	begin, done := time.Now(), 0
	for el := time.Duration(0); el < total+time.Second && done < target; el = time.Since(begin) {
		for float64(done+len(chunk)) <= written(el) && done < target {
			if _, err := f.Write(chunk); err != nil {
				return // full
			}
			done += len(chunk)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealPrometheusAndNodeExporter runs node-exporter and a Prometheus
// scraping it every second (its instance labelled web-03, the name the
// agent host goes by), fills a tmpfs, and reads the series back through
// the outbound guard: the tmpfs' used percentage matches statfs (df's
// definition), memory and CPU series are there, all on web-03's host
// resource, and the forecast engine keeps them with the inventory's.
func TestRealPrometheusAndNodeExporter(t *testing.T) {
	promBin := testenv.Program(t, "prometheus", "prometheus")
	neBin := testenv.Program(t, "prometheus-node-exporter", "prometheus-node-exporter", "node_exporter")
	dir := testenv.Volume(t, 16)
	ctx := context.Background()

	ne := freeAddr(t)
	start(t, "http://"+ne+"/metrics", neBin, "--web.listen-address="+ne, "--collector.disable-defaults",
		"--collector.filesystem", "--collector.meminfo", "--collector.cpu")
	tmp := t.TempDir()
	cfg := fmt.Sprintf(`{"global": {"scrape_interval": "1s"}, "scrape_configs": [{"job_name": "node",
		"static_configs": [{"targets": [%q], "labels": {"instance": "web-03"}}]}]}`, ne)
	if err := os.WriteFile(filepath.Join(tmp, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := freeAddr(t)
	start(t, "http://"+prom+"/-/ready", promBin, "--config.file="+filepath.Join(tmp, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(tmp, "data"), "--web.listen-address="+prom)

	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.PutResource(ctx, store.Resource{ID: "res_web03", TenantID: "acme", Type: "host", Name: "web-03", AgentID: "agt_web03",
			Config: json.RawMessage(`{}`), CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}

	// Prometheus applies a new target a few seconds after it starts, and
	// CPU's rate needs two scrapes: wait for them.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		resp, err := nethttp.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(promsource.Queries[2].Expr))
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			if strings.Contains(b.String(), `"web-03"`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus has not scraped node-exporter twice within a minute")
		}
	}
	begin := time.Now().Truncate(time.Second)
	if *record {
		fill(t, dir, 16<<20, 150*time.Second, 24*time.Second)
	} else {
		fill(t, dir, 6<<20, 3*time.Second, 3*time.Second)
	}
	want := dfPercent(t, dir)
	time.Sleep(3 * time.Second) // two scrapes after the last write
	end := time.Now()

	// The guard refuses Prometheus on loopback until it is allowed.
	c := &promsource.Client{URL: "http://" + prom, HTTP: (&outbound.Guard{}).Client()}
	if _, err := c.QueryRange(ctx, "up", begin, end, time.Second); !outbound.Refused(err) {
		t.Fatalf("loopback Prometheus not refused by the outbound guard: %v", err)
	}
	g, err := outbound.New([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP = g.Client()
	if _, err := c.QueryRange(ctx, "rate(", begin, end, time.Second); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("a bad query: %v, want Prometheus's bad_data error", err)
	}

	r, err := promsource.Samples(ctx, c, st, "acme", begin, end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unresolved) > 0 {
		t.Errorf("unresolved instances %v", r.Unresolved)
	}
	last := map[string]store.MetricSample{}
	for _, s := range r.Samples {
		if s.ResourceID != "res_web03" || s.TenantID != "acme" {
			t.Fatalf("sample %+v not on web-03", s)
		}
		last[s.Metric] = s
	}
	disk, ok := last[promsource.DiskPrefix+dir]
	if !ok {
		t.Fatalf("no series for the tmpfs %s among %d samples", dir, len(r.Samples))
	}
	if math.Abs(disk.Value-want) > 0.5 {
		t.Errorf("Prometheus says %s is %.2f %% used, statfs %.2f %%", dir, disk.Value, want)
	}
	if m, ok := last[promsource.MetricMemory]; !ok || m.Value <= 0 || m.Value >= 100 {
		t.Errorf("memory sample %+v", m)
	}
	if c, ok := last[promsource.MetricCPU]; !ok || c.Value < 0 || c.Value > 100 {
		t.Errorf("CPU sample %+v", c)
	}
	t.Logf("%d samples; %s at %.2f %% (statfs %.2f %%), memory %.1f %%, CPU %.1f %%", len(r.Samples), dir, disk.Value, want,
		last[promsource.MetricMemory].Value, last[promsource.MetricCPU].Value)

	// The engine's tick keeps the Prometheus series with the inventory's.
	e, err := forecast.NewEngine(forecast.EngineOptions{Store: st, Clock: func() time.Time { return end }, TickEvery: end.Sub(begin),
		Sources: []forecast.Source{&promsource.Source{Hosts: st, Step: time.Second,
			Connect: func(context.Context, string) (*promsource.Client, error) { return c, nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	kept, err := st.ListMetricSamples(ctx, "acme", "res_web03", promsource.DiskPrefix+dir, begin, 100000)
	if err != nil || len(kept) < 3 || math.Abs(kept[len(kept)-1].Value-want) > 0.5 {
		t.Errorf("engine kept %d samples of the tmpfs (%v)", len(kept), err)
	}

	// The waste checks read the same samples: with the idle threshold
	// above 100 % and as few samples as Prometheus gave, web-03 is judged
	// idle on exactly its Prometheus CPU series.
	r2, err := cost.New(cost.Options{Store: st, Starter: noStarts{t}, Clock: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	cpu, err := st.ListMetricSamples(ctx, "acme", "res_web03", promsource.MetricCPU, begin.Add(-time.Hour), 100000)
	if err != nil || len(cpu) < 3 {
		t.Fatalf("%d CPU samples kept (%v)", len(cpu), err)
	}
	fs, err := r2.Waste(ctx, "acme", end, cost.WasteOptions{IdleCPU: 101, MinSamples: len(cpu)})
	if err != nil || len(fs) != 1 || fs[0].Kind != "idle-instance" || fs[0].Resource.ID != "res_web03" || fs[0].Data["samples"] != len(cpu) {
		t.Errorf("waste findings %+v (%v), want web-03 idle on its %d Prometheus CPU samples", fs, err, len(cpu))
	}

	if *record {
		recordResponse(t, c, dir, begin, end)
	}
}

// noStarts is the runbook starter of a cost runner that must start
// nothing: the waste check reads, it never acts.
type noStarts struct{ t *testing.T }

func (n noStarts) Start(context.Context, store.Tx, runbook.StartRequest) (string, error) {
	n.t.Error("the waste check started a runbook")
	return "", errors.New("no runbook may start here")
}

// recordResponse saves the disk query's query_range response over the
// fill, its tmpfs series only, as Prometheus sent it.
func recordResponse(t *testing.T, c *promsource.Client, dir string, begin, end time.Time) {
	t.Helper()
	form := fmt.Sprintf("query=%s&start=%d&end=%d&step=1", url.QueryEscape(promsource.Queries[0].Expr), begin.Unix(), end.Unix())
	resp, err := c.HTTP.Post(c.URL+"/api/v1/query_range", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	d := json.NewDecoder(resp.Body)
	d.UseNumber()
	if err := d.Decode(&body); err != nil {
		t.Fatal(err)
	}
	data := body["data"].(map[string]any)
	var keep []any
	for _, r := range data["result"].([]any) {
		if r.(map[string]any)["metric"].(map[string]any)["mountpoint"] == dir {
			keep = append(keep, r)
		}
	}
	data["result"] = keep
	out, _ := json.Marshal(body)
	if err := os.WriteFile(recordingFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
