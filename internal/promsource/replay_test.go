package promsource_test

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/promsource"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// epoch is where the replays put the recording's first sample; one
// recorded second is one hour (the recording's rhythm has a 24 s "day").
var epoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// loadRecorded parses the recorded query_range response (a tmpfs filled
// under a real Prometheus and node-exporter by
// TestRealPrometheusAndNodeExporter -record) with ParseQueryRange.
func loadRecorded(t *testing.T) (mount string, s []forecast.Sample) {
	t.Helper()
	body, err := os.ReadFile(recordingFile)
	if err != nil {
		t.Fatal(err)
	}
	series, err := promsource.ParseQueryRange(body)
	if err != nil || len(series) != 1 {
		t.Fatalf("%d series, %v", len(series), err)
	}
	first := series[0].Points[0].At
	for _, p := range series[0].Points {
		s = append(s, forecast.Sample{At: epoch.Add(p.At.Sub(first) * 3600), Value: p.Value})
	}
	return series[0].Labels["mountpoint"], s
}

func crossing(t *testing.T, s []forecast.Sample, threshold float64) time.Time {
	t.Helper()
	for _, p := range s {
		if p.Value >= threshold {
			return p.At
		}
	}
	t.Fatalf("the recording never reaches %v %%", threshold)
	return time.Time{}
}

// Fitted on what Prometheus held when the tmpfs was 40 to 75 % full, the
// predicted time of reaching 90 % is within 10 % of the lead time (from
// the last known sample to when the recording did reach 90 %).
func TestRecordedPrometheusCrossingWithinTenPercent(t *testing.T) {
	t.Parallel()
	_, rec := loadRecorded(t)
	actual := crossing(t, rec, 90)
	for _, cut := range []float64{40, 50, 60, 75} {
		var known []forecast.Sample
		for _, p := range rec {
			if p.Value >= cut {
				break
			}
			known = append(known, p)
		}
		m, err := forecast.Fit(known, forecast.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := m.Crossing(90, 30*24*time.Hour)
		if !ok {
			t.Fatalf("cut at %v %%: no crossing predicted", cut)
		}
		lead := actual.Sub(m.Last)
		errPct := 100 * math.Abs(got.Sub(actual).Hours()) / lead.Hours()
		t.Logf("cut at %v %%: predicted %s, recorded %s, lead %.0f h, error %.1f %%", cut, got.Format(time.DateTime), actual.Format(time.DateTime), lead.Hours(), errPct)
		if errPct > 10 {
			t.Errorf("cut at %v %%: error %.1f %% of the lead time, more than 10 %%", cut, errPct)
		}
	}
}

// replay is a series source serving the recorded points up to the tick.
type replay struct {
	resourceID, metric string
	points             []forecast.Sample
}

func (r replay) Samples(_ context.Context, tenant string, since, now time.Time) ([]store.MetricSample, error) {
	var out []store.MetricSample
	for _, p := range r.points {
		if p.At.After(since) && !p.At.After(now) {
			out = append(out, store.MetricSample{TenantID: tenant, ResourceID: r.resourceID, Metric: r.metric, At: p.At, Value: p.Value})
		}
	}
	return out, nil
}

// A replay of the recorded Prometheus series through the engine's source
// hook, the tick every recorded hour: the OpsItem opens while the disk is
// below 90 %, at least a day ahead, and only once.
func TestReplayOfPrometheusSeriesOpensOpsItemBeforeThreshold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mount, rec := loadRecorded(t)
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: epoch}); err != nil {
			return err
		}
		return tx.PutResource(ctx, store.Resource{ID: "res_web03", TenantID: "acme", Type: "host", Name: "web-03", CreatedAt: epoch, UpdatedAt: epoch})
	}); err != nil {
		t.Fatal(err)
	}
	var now time.Time
	e, err := forecast.NewEngine(forecast.EngineOptions{Store: st, Clock: func() time.Time { return now }, TickEvery: time.Hour,
		Sources: []forecast.Source{replay{resourceID: "res_web03", metric: promsource.DiskPrefix + mount, points: rec}}})
	if err != nil {
		t.Fatal(err)
	}
	var opened *store.OpsItem
	var openedAt forecast.Sample
	for _, s := range rec {
		now = s.At
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		items, _, err := st.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 1 {
			t.Fatalf("%d OpsItems at %s", len(items), now)
		}
		if len(items) == 1 && opened == nil {
			opened, openedAt = &items[0], s
		}
	}
	if opened == nil {
		t.Fatal("no OpsItem opened")
	}
	lead := crossing(t, rec, 90).Sub(openedAt.At)
	t.Logf("opened at %.1f %%, %.0f h before the crossing: %q", openedAt.Value, lead.Hours(), opened.Title)
	if openedAt.Value >= 90 || lead < 24*time.Hour {
		t.Errorf("opened at %.1f %%, %s before the crossing", openedAt.Value, lead)
	}
	if !strings.HasPrefix(opened.Title, "disk "+mount+" on web-03 90 % full in ~") || !strings.Contains(opened.Description, "disk-cleanup") {
		t.Errorf("OpsItem %q: %s", opened.Title, opened.Description)
	}
}
