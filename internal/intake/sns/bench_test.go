package sns

import (
	"context"
	"net/http"
	"sort"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// BenchmarkParse measures one Parse per fixture without verification, and
// one signed notification with verification against a cached certificate
// (the steady state: SNS reuses a certificate for months).
func BenchmarkParse(b *testing.B) {
	fx := fixtures(b)
	names := make([]string, 0, len(fx))
	for n := range fx {
		names = append(names, n)
	}
	sort.Strings(names)
	a := unverified(b, nil)
	ctx := context.Background()
	for _, name := range names {
		body := fx[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Parse(ctx, intake.Request{Body: body, Header: http.Header{}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, version := range []string{"1", "2"} {
		b.Run("verified-v"+version, func(b *testing.B) {
			srv := newCertServer(b)
			va := srv.verifying(b, nil)
			body := sign(b, fx["sns-alarm-notification.json"], version, srv.certURL(), nil)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := va.Parse(ctx, intake.Request{Body: body, Header: http.Header{}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
