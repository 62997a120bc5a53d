package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/config"
)

// BenchmarkIntakeAPIv2 is the durable intake hot path of a whole server:
// POST /api/v2/alerts through the HTTP handler — token check, parse, group
// commit to SQLite, 200 — from 8 concurrent senders, with the pipeline
// processing behind it as in production. bench/intake measures the same
// over real connections, side by side with Alertmanager.
func BenchmarkIntakeAPIv2(b *testing.B) {
	// One server for all runs of a sub-benchmark (the framework calls it
	// with growing b.N), warmed with every alert, so a run measures the
	// steady state: Prometheus re-sending alerts the server knows.
	servers := map[int]http.Handler{}
	parent := b
	server := func(b *testing.B, batch int, bodies [][]byte) http.Handler {
		if h, ok := servers[batch]; ok {
			return h
		}
		a, err := New(context.Background(), Options{Config: config.Config{DataDir: parent.TempDir(), AdminToken: testAdminToken, Addr: "127.0.0.1:0"},
			Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		parent.Cleanup(func() { a.Stop(context.Background()) })
		h := a.Handler()
		for _, body := range bodies {
			postBench(b, h, body)
		}
		servers[batch] = h
		return h
	}
	for _, batch := range []int{100, 1} {
		// 2,000 distinct alerts, re-sent, as alertload sends them.
		bodies := make([][]byte, 2000/batch)
		now := time.Now().UTC()
		for i := range bodies {
			var buf bytes.Buffer
			buf.WriteByte('[')
			for j := range batch {
				n := i*batch + j
				if j > 0 {
					buf.WriteByte(',')
				}
				fmt.Fprintf(&buf, `{"labels":{"alertname":"%s","instance":"host-%04d:9100","job":"node","severity":"critical","env":"prod"},`+
					`"annotations":{"summary":"synthetic alert %d"},"startsAt":%q,"endsAt":%q,"generatorURL":"http://prometheus.local/graph"}`,
					[]string{"HighCPU", "DiskFull", "InstanceDown", "HighLatency"}[n%4], n/4, n,
					now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
			}
			buf.WriteByte(']')
			bodies[i] = buf.Bytes()
		}
		b.Run(fmt.Sprintf("batch-%d", batch), func(b *testing.B) {
			h := server(b, batch, bodies)
			b.ResetTimer()
			b.SetParallelism(4) // 8 senders on 2 CPUs
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					postBench(b, h, bodies[int(next.Add(1))%len(bodies)])
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

func postBench(b *testing.B, h http.Handler, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}
