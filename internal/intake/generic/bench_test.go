package generic

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

func BenchmarkParseGeneric(b *testing.B) {
	a := newAdapter(b, grafanaMapping)
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"documented", fixture(b, "generic/webhook.json")},
		{"mapping-grafana", readFile(b, "testdata/grafana-webhook.json")},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := intake.Request{Body: c.body}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Parse(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
