package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// The pipeline's hot paths against SQLite (bench/intake measures the whole
// server): group commit of deliveries, and the engine on repeats (what a
// Prometheus re-sending its active alerts produces) and on new alerts.

func benchStore(b *testing.B) store.Store {
	b.Helper()
	st := sqlitetest.Open(b)
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		return tx.CreateTenant(context.Background(), store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
	})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func benchEvents(n, offset int, at time.Time) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		fp := fmt.Sprintf("%016x", offset+i)
		evs[i] = alert(fp, "firing", at, map[string]string{"alertname": "HighCPU", "instance": "host-" + fp + ":9100", "job": "node"})
		evs[i].Raw = []byte(`{"labels":{"alertname":"HighCPU"}}`)
	}
	return evs
}

func (en *Engine) benchProcess(b *testing.B, st store.Store, evs []event.Event) {
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		_, _, err := en.Process(context.Background(), tx, "acme", evs)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEngineRepeat processes batches of 100 repeats of known, open
// alerts (2,000 of them, cycled): the dedup path.
func BenchmarkEngineRepeat(b *testing.B) {
	st := benchStore(b)
	en := &Engine{Correlator: ByFingerprint{}, StoreRaw: true}
	const unique, batch = 2000, 100
	for off := 0; off < unique; off += batch {
		en.benchProcess(b, st, benchEvents(batch, off, t0))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		off := (i * batch) % unique
		en.benchProcess(b, st, benchEvents(batch, off, t0.Add(time.Duration(i+1)*time.Second)))
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*batch), "ns/event")
}

// BenchmarkEngineOpen processes batches of 100 new alerts, each opening an
// OpsItem.
func BenchmarkEngineOpen(b *testing.B) {
	st := benchStore(b)
	en := &Engine{Correlator: ByFingerprint{}, StoreRaw: true}
	const batch = 100
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.benchProcess(b, st, benchEvents(batch, i*batch, t0))
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*batch), "ns/event")
}

// BenchmarkCommitter submits deliveries from 8 concurrent senders and waits
// for each commit, as the intake handler does: batch-100 is one delivery of
// 100 alerts, batch-1 a delivery per alert.
func BenchmarkCommitter(b *testing.B) {
	for _, batch := range []int{100, 1} {
		b.Run(fmt.Sprintf("batch-%d", batch), func(b *testing.B) {
			st := benchStore(b)
			out := make(chan []Work) // nobody reads: the committer drops the hand-off
			var backlog atomic.Int64
			c := NewCommitter(st, out, &backlog, CommitterOptions{MaxBacklog: 1 << 62})
			c.Start(context.Background())
			b.Cleanup(func() { c.Stop(context.Background()) })
			body := make([]byte, 0, 400*batch)
			for i := 0; i < batch; i++ {
				body = append(body, `{"labels":{"alertname":"HighCPU","instance":"host-0001:9100","job":"node","severity":"critical"},"annotations":{"summary":"synthetic alert"},"startsAt":"2026-03-10T08:00:00Z","endsAt":"2026-03-10T08:10:00Z","generatorURL":"http://prometheus.local/graph"}`...)
			}
			evs := benchEvents(batch, 0, t0)
			b.SetParallelism(4) // 8 senders on 2 CPUs
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				mine := make([]event.Event, len(evs))
				for pb.Next() {
					copy(mine, evs)
					if err := c.Submit(context.Background(), "acme", "alertmanager-v2", body, nil, mine); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkProcessorRepeat processes what a processor that fell behind
// takes in one transaction: 200 deliveries of 100 repeats each, over 2,000
// known alerts (each repeated 10 times), as Prometheus re-sending its
// active alerts produces.
func BenchmarkProcessorRepeat(b *testing.B) {
	st := benchStore(b)
	en := &Engine{Correlator: ByFingerprint{}, StoreRaw: true}
	const unique, batch, deliveries = 2000, 100, 200
	for off := 0; off < unique; off += batch {
		en.benchProcess(b, st, benchEvents(batch, off, t0))
	}
	p := NewProcessor(st, en, nil, ProcessorOptions{})
	benchDeliveries(b, st, p, deliveries, batch, func(n, d int) []event.Event {
		return benchEvents(batch, (d*batch)%unique, t0.Add(time.Duration(n+1)*time.Second))
	})
}

// benchDeliveries stores and processes, per iteration, the given number of
// deliveries of the events evs(iteration, delivery) returns.
func benchDeliveries(b *testing.B, st store.Store, p *Processor, deliveries, batch int, evs func(n, d int) []event.Event) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		work := make([]Work, deliveries)
		bs := make([]store.IntakeBatch, deliveries)
		for d := range work {
			bs[d] = store.IntakeBatch{ID: fmt.Sprintf("ib_%08d_%04d", n, d), TenantID: "acme", Source: "alertmanager-v2", ReceivedAt: t0, Body: []byte("[]")}
			work[d] = Work{Batch: bs[d], Events: evs(n, d)}
		}
		if err := st.InTx(context.Background(), func(tx store.Tx) error { return tx.InsertIntakeBatches(context.Background(), bs) }); err != nil {
			b.Fatal(err)
		}
		if !p.process(context.Background(), work) {
			b.Fatal("processing failed")
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*deliveries*batch), "ns/event")
}

// BenchmarkProcessorOpen processes what a processor takes in one
// transaction while alerts are new (an outage starting, or bench/intake's
// latency scenario): 10 deliveries of 100 new alerts, each opening an
// OpsItem.
func BenchmarkProcessorOpen(b *testing.B) {
	st := benchStore(b)
	en := &Engine{Correlator: ByFingerprint{}, StoreRaw: true}
	const batch, deliveries = 100, 10
	p := NewProcessor(st, en, nil, ProcessorOptions{})
	benchDeliveries(b, st, p, deliveries, batch, func(n, d int) []event.Event {
		return benchEvents(batch, (n*deliveries+d)*batch, t0)
	})
}
