package app

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// BenchmarkPipelineRules is what the automation rules cost the pipeline
// when none matches — the common case: batches of 100 new Prometheus
// alerts, each opening an OpsItem, through the engine the server builds
// from the built-in library, without and with the library's rules.
func BenchmarkPipelineRules(b *testing.B) {
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	rules, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	for _, withRules := range []bool{false, true} {
		b.Run(fmt.Sprintf("rules=%v", withRules), func(b *testing.B) {
			st := sqlitetest.Open(b)
			if err := st.InTx(context.Background(), func(tx store.Tx) error {
				return tx.CreateTenant(context.Background(), store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
			}); err != nil {
				b.Fatal(err)
			}
			en, err := engineFrom(set)
			if err != nil {
				b.Fatal(err)
			}
			if withRules {
				en.Automation = ruleAutomation{en: &rule.Engine{Rules: rules}, log: slog.New(slog.DiscardHandler)}
			}
			const batch = 100
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				evs := make([]event.Event, batch)
				for j := range evs {
					host := fmt.Sprintf("host-%07d", i*batch+j)
					evs[j] = event.Event{Source: "alertmanager", Kind: event.KindAlert, Severity: event.SeverityCritical,
						Status: event.StatusFiring, Title: "HighCPU", Fingerprint: host, OccurredAt: t0, ReceivedAt: t0,
						Labels:    map[string]string{"alertname": "HighCPU", "instance": host + ":9100", "job": "node", "severity": "critical"},
						Resources: []event.ResourceRef{{Type: "host", ID: host}}}
				}
				if err := st.InTx(context.Background(), func(tx store.Tx) error {
					_, _, err := en.Process(context.Background(), tx, "acme", evs)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*batch), "ns/event")
		})
	}
}
