package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testCost(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	st := store.ScheduleState{TenantID: "acme", Schedule: "office-hours", ResourceID: "res_1", State: "stopped", Reason: "outside the periods",
		ExecutionID: "ex_1", ChangedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutScheduleState(ctx, st) })
	st.State, st.Retained, st.ChangedAt = "running", true, t0.Add(time.Hour)
	mustTx(t, s, func(tx store.Tx) error { return tx.PutScheduleState(ctx, st) })
	got, err := s.ListScheduleStates(ctx, "acme", "office-hours")
	if err != nil || len(got) != 1 || got[0].State != "running" || !got[0].Retained || !got[0].ChangedAt.Equal(st.ChangedAt) || got[0].ExecutionID != "ex_1" {
		t.Fatalf("states = %+v, %v", got, err)
	}
	if other, _ := s.ListScheduleStates(ctx, "globex", ""); len(other) != 0 {
		t.Errorf("globex sees %+v", other)
	}

	var samples []store.MetricSample
	for i := 0; i < 5; i++ {
		samples = append(samples, store.MetricSample{TenantID: "acme", ResourceID: "res_1", Metric: "disk_used_percent:/", At: t0.Add(time.Duration(i) * time.Hour), Value: 40.5 + float64(i)})
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.AddMetricSamples(ctx, samples) })
	// The same instants again are ignored.
	mustTx(t, s, func(tx store.Tx) error { return tx.AddMetricSamples(ctx, samples[:2]) })
	ms, err := s.ListMetricSamples(ctx, "acme", "res_1", "disk_used_percent:/", t0.Add(time.Hour), 10)
	if err != nil || len(ms) != 4 || ms[0].Value != 41.5 || !ms[3].At.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("samples = %+v, %v", ms, err)
	}
	series, err := s.ListMetricSeries(ctx, "acme")
	if err != nil || len(series) != 1 || series[0].Metric != "disk_used_percent:/" {
		t.Errorf("series = %+v, %v", series, err)
	}
	var pruned int64
	mustTx(t, s, func(tx store.Tx) error {
		pruned, err = tx.PruneMetricSamples(ctx, t0.Add(2*time.Hour))
		return err
	})
	if pruned != 2 {
		t.Errorf("pruned %d, want 2", pruned)
	}

	f := store.CostFinding{TenantID: "acme", Key: "unattached-volume/vol-1", Kind: "unattached-volume", ResourceID: "res_v", OpsItemID: "oi_1", MonthlySavings: 8.5, CreatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutCostFinding(ctx, f) })
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.PutCostFinding(ctx, f) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the same finding again: %v, want ErrConflict", err)
	}
	fs, err := s.ListCostFindings(ctx, "acme")
	if err != nil || len(fs) != 1 || fs[0].MonthlySavings != 8.5 || fs[0].OpsItemID != "oi_1" {
		t.Errorf("findings = %+v, %v", fs, err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteCostFinding(ctx, "acme", f.Key) })
	if fs, _ := s.ListCostFindings(ctx, "acme"); len(fs) != 0 {
		t.Errorf("after delete: %+v", fs)
	}
}
