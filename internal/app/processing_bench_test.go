package app

import (
	"context"
	"fmt"
	"io"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// BenchmarkProcessNew is the processing CPU per new alert that opens an
// OpsItem, as bench/intake's scenario d produces them: distinct critical
// Prometheus alerts, one per delivery, processed in transactions of tx
// deliveries by the processor over the engine the server builds (built-in
// correlation, inhibition and dedup rules, the store deflector with a
// silence and the content's maintenance windows, the automation rules,
// metrics, audit), on SQLite. Only the processing is timed — from handing
// the committed deliveries to the processor to its transaction's commit —
// and cpu-ns/alert is the process's CPU time over that span (user and
// system, every goroutine: GC included), allocs/alert the heap
// allocations.
func BenchmarkProcessNew(b *testing.B) {
	for _, tx := range []int{15, 50} {
		b.Run(fmt.Sprintf("tx-%d", tx), func(b *testing.B) { benchProcessNew(b, tx, 1, latencyProbe) })
	}
}

// BenchmarkProcessStorm is the same for what bench/intake's scenarios c
// and e send: deliveries of 100 distinct alerts in bench/alertload's
// pattern (six alert names over hosts, a third each critical, warning and
// info), 10 deliveries a transaction, as the processor takes them when a
// storm of new alerts has put it behind. A third of the alerts open an
// OpsItem or join one, the rest are held (the built-in Prometheus rule
// holds warnings and info alerts for two minutes) or inhibited.
func BenchmarkProcessStorm(b *testing.B) {
	benchProcessNew(b, 10, 100, stormAlerts)
}

// latencyProbe is the body of bench/intake's scenario d: one distinct
// critical alert.
func latencyProbe(k, _ int, at time.Time) []byte {
	return fmt.Appendf(nil, `[{"labels":{"alertname":"BenchNew%d","instance":"lat-%d:9100","job":"bench","severity":"critical"},"annotations":{"summary":"latency probe"},"startsAt":%q}]`,
		k, k, at.Format(time.RFC3339Nano))
}

// stormAlerts is a body of n distinct alerts numbered from k*n, labelled as
// bench/alertload labels its alerts.
func stormAlerts(k, n int, at time.Time) []byte {
	names := []string{"HighCPU", "DiskFull", "InstanceDown", "HighLatency", "OOMKilled", "Error5xx"}
	body := []byte{'['}
	for j := range n {
		i := k*n + j
		if j > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"status":"firing","labels":{"alertname":%q,"instance":"host-%04d:9100","job":"node","severity":%q,"env":%q},"annotations":{"summary":"synthetic alert %d"},"startsAt":%q,"generatorURL":"http://prometheus.local/graph"}`,
			names[i%len(names)], i/len(names), []string{"critical", "warning", "info"}[i%3], []string{"prod", "stage", "dev"}[i%3], i, at.Add(-time.Minute).Format(time.RFC3339Nano))
	}
	return append(body, ']')
}

func benchProcessNew(b *testing.B, perTx, perDelivery int, mkBody func(k, n int, at time.Time) []byte) {
	ctx := context.Background()
	a, err := New(ctx, Options{Config: config.Config{DataDir: b.TempDir(), AdminToken: testAdminToken, Addr: "127.0.0.1:0"}, Out: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.st.Close() })
	now := time.Now().UTC()
	if err := a.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateSilence(ctx, store.Silence{ID: "sil_bench", TenantID: DefaultTenant, Matchers: []string{`job="batch-nightly"`},
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), Comment: "matches nothing here", CreatedBy: "bench", CreatedAt: now})
	}); err != nil {
		b.Fatal(err)
	}
	ad, ok := a.intake.Adapter("alertmanager-v2")
	if !ok {
		b.Fatal("no alertmanager-v2 adapter")
	}
	done := make(chan []pipeline.Outcome, 1)
	// The processor's clock stands at 1970, so its scans find none of the
	// deliveries: they reach it only through Input.
	p := pipeline.NewProcessor(a.st, a.engine, nil, pipeline.ProcessorOptions{TickEvery: time.Hour, ScanEvery: time.Hour,
		Clock: func() time.Time { return time.Unix(0, 0) }, OnProcessed: func(outs []pipeline.Outcome) { done <- outs }})
	p.Start(ctx)
	b.Cleanup(func() { p.Stop(ctx) })
	appender, _ := a.st.(store.IntakeAppender)

	// One delivery per alert, as the committer makes them.
	deliveries := func(n int) []pipeline.Work {
		at := time.Now().UTC()
		work := make([]pipeline.Work, perTx)
		for i := range work {
			k := n*perTx + i
			body := mkBody(k, perDelivery, at)
			res, err := ad.Parse(ctx, intake.Request{Body: body, Header: api.HeaderFromJSON(nil)})
			if err != nil || len(res.Events) != perDelivery {
				b.Fatalf("parse: %v (%d events)", err, len(res.Events))
			}
			for j := range res.Events {
				res.Events[j].ReceivedAt = at
			}
			work[i] = pipeline.Work{Batch: store.IntakeBatch{ID: fmt.Sprintf("ib_bench_%08d_%04d", n, i), TenantID: DefaultTenant,
				Source: "alertmanager-v2", ReceivedAt: at, Body: body}, Events: res.Events}
		}
		bs := make([]store.IntakeBatch, len(work))
		for i := range work {
			bs[i] = work[i].Batch
		}
		if appender != nil {
			err = appender.AppendIntake(ctx, bs)
		} else {
			err = a.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
		}
		if err != nil {
			b.Fatal(err)
		}
		return work
	}

	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	var cpu time.Duration
	var objects uint64
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		work := deliveries(n)
		metrics.Read(allocs)
		obj0, cpu0 := allocs[0].Value.Uint64(), cpuTime()
		b.StartTimer()
		p.Input() <- work
		got := 0
		for got < perTx*perDelivery {
			outs := <-done
			for _, o := range outs {
				// A storm's alerts also join OpsItems, are held, or are
				// inhibited (InstanceDown on their host).
				storm := perDelivery > 1 && (o.Decision == pipeline.DecisionAttached || o.Decision == pipeline.DecisionHeld ||
					o.Decision == pipeline.DecisionSuppressed)
				if o.Decision != pipeline.DecisionOpened && !storm {
					b.Fatalf("alert %s: %s (%s), want opened", o.Fingerprint, o.Decision, o.Reason)
				}
			}
			got += len(outs)
		}
		b.StopTimer()
		cpu += cpuTime() - cpu0
		metrics.Read(allocs)
		objects += allocs[0].Value.Uint64() - obj0
		b.StartTimer()
	}
	alerts := float64(b.N * perTx * perDelivery)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/alerts, "ns/alert")
	b.ReportMetric(float64(cpu.Nanoseconds())/alerts, "cpu-ns/alert")
	b.ReportMetric(float64(objects)/alerts, "allocs/alert")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
