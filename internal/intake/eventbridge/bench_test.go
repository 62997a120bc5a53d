package eventbridge

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// BenchmarkParse measures one Parse per fixture body.
func BenchmarkParse(b *testing.B) {
	fx := fixtures(b)
	a := New()
	ctx := context.Background()
	for _, name := range sortedKeys(fx) {
		body := fx[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Parse(ctx, intake.Request{Body: body}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
