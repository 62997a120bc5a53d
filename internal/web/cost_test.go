package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

type noStarter struct{}

func (noStarter) Start(context.Context, store.Tx, runbook.StartRequest) (string, error) {
	return "", runbook.ErrNoTarget // the pages start nothing
}

// The cost and capacity pages of acme, on Monday 4 May 2026 (CEST): May
// has 21 weekdays, so office hours run 231 of its 744 hours and save 513,
// at $0.0416 an hour 21.34; the schedule's week strip has 55 running hours
// of 168; the filling disk of web-03 is charted with its forecast.
func TestCostPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{"s.yaml": {Data: []byte(`apiVersion: flywheel/v1
kind: ResourceSchedule
metadata: {name: office-hours, tenant: acme}
spec:
  timezone: Europe/Berlin
  periods: [{begin: "08:00", end: "19:00", weekdays: [mon-fri]}]
  targets: {tags: {env: dev}}
`)}}})
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cost.CompileSet(set)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return e.now }
	costs, err := cost.New(cost.Options{Store: e.st, Starter: noStarter{}, Schedules: scheds, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := forecast.NewEngine(forecast.EngineOptions{Store: e.st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.InTx(ctx, func(tx store.Tx) error {
		for _, r := range []store.Resource{
			{ID: "res_dev", Type: "ec2-instance", Name: "dev-web", Tags: map[string]string{"env": "dev"},
				Config: json.RawMessage(`{"InstanceId": "i-0abc12345678def01", "InstanceType": "t3.medium", "Placement": {"AvailabilityZone": "us-east-1a"}}`)},
			{ID: "res_web03", Type: "host", Name: "web-03"},
		} {
			r.TenantID, r.CreatedAt, r.UpdatedAt = "acme", e.now, e.now
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		var ss []store.MetricSample
		for i := 0; i < 72; i++ {
			ss = append(ss, store.MetricSample{TenantID: "acme", ResourceID: "res_web03", Metric: forecast.DiskPrefix + "/",
				At: e.now.Add(time.Duration(i-72) * time.Hour), Value: 40 + 0.5*float64(i)})
		}
		return tx.AddMetricSamples(ctx, ss)
	}); err != nil {
		t.Fatal(err)
	}
	if e.h, err = New(Options{Store: e.st, Clock: clock, Costs: costs, Forecasts: fc}); err != nil {
		t.Fatal(err)
	}

	page := e.get("/cost", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, `id="fig-saved-hours" value="513"`, `id="fig-saved-money" value="21.34"`, `<rect class="saved"`,
		`<a href="/cost/schedules/office-hours">office-hours</a>`, "513 of 744")
	wantContains(t, e.get("/cost", e.globex), "No resource schedule has targets this month.")
	wantStatus(t, e.get("/cost?month=May", e.acme), http.StatusBadRequest)

	week := e.get("/cost/schedules/office-hours", e.acme)
	wantStatus(t, week, http.StatusOK)
	if run, stop := strings.Count(week.body, `<rect class="running"`), strings.Count(week.body, `<rect class="saved"`); run != 55 || stop != 113 {
		t.Errorf("the week strip has %d running and %d stopped hours, want 55 and 113", run, stop)
	}
	wantContains(t, week, "dev-web <code>res_dev</code>")
	wantStatus(t, e.get("/cost/schedules/office-hours", e.globex), http.StatusNotFound)

	csv := e.get("/cost/savings.csv?month=2026-05", e.acme)
	wantStatus(t, csv, http.StatusOK)
	wantContains(t, csv, "acme,office-hours,2026-05,res_dev,dev-web,ec2,t3.medium,us-east-1,744,231,513,68.95,0.0416,true,21.34,USD")

	// The dashboard's flywheel figures carry the month's savings.
	wantContains(t, e.get("/dashboard", e.acme), `id="fig-schedule-savings" value="21.34"`, `id="fig-schedule-hours" value="513"`)

	capacity := e.get("/capacity", e.acme)
	wantStatus(t, capacity, http.StatusOK)
	wantContains(t, capacity, `<a href="/capacity/res_web03">web-03</a>`, "disk_used_percent:/", "75.5 %", "&#43;12.00", "2026-05-05 13:29 UTC") // 75.5 % at 08:30, +0.5 an hour: 90 % 29 h later
	series := e.get("/capacity/res_web03", e.acme)
	wantStatus(t, series, http.StatusOK)
	wantContains(t, series, `<polyline class="samples"`, `<polyline class="model"`, `<line class="threshold"`, `<line class="crossing"`)
	wantStatus(t, e.get("/capacity/res_web03", e.globex), http.StatusNotFound)
}
