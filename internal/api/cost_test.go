package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// harnessSchedules: office hours for every tenant's dev resources.
const harnessSchedules = `apiVersion: flywheel/v1
kind: ResourceSchedule
metadata: {name: office-hours}
spec:
  timezone: Europe/Berlin
  periods: [{begin: "08:00", end: "19:00", weekdays: [mon-fri]}]
  holidays: {dates: ["2025-12-25"]}
  targets: {tags: {env: dev}}
`

// harnessCost builds the resource schedule runner and forecast engine of
// the harness's server.
func harnessCost(t *testing.T, st store.Store, starter runbook.Starter, now func() time.Time) (*cost.Runner, *forecast.Engine) {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{"s.yaml": {Data: []byte(harnessSchedules)}}})
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cost.CompileSet(set)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cost.New(cost.Options{Store: st, Starter: starter, Schedules: scheds, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	f, err := forecast.NewEngine(forecast.EngineOptions{Store: st, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

// seedCost gives each customer a dev instance under the schedule, an
// unattached volume (waste) and a filling disk (forecast); only the cost
// tests seed them, so other tests' inventories stay as they were.
func seedCost(t *testing.T, h *harness) {
	t.Helper()
	st, now := h.st, h.clock.Now
	ctx := context.Background()
	at := now()
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, tenant := range customers {
			for _, res := range []store.Resource{
				{ID: tenant + "-dev", Type: "ec2-instance", Name: tenant + "-dev", Tags: map[string]string{"env": "dev"},
					Config: json.RawMessage(`{"InstanceId": "i-0123456789abcdef0", "InstanceType": "t3.medium", "Placement": {"AvailabilityZone": "us-east-1a"}}`)},
				{ID: tenant + "-vol", Type: "ebs-volume", Name: tenant + "-vol", Config: json.RawMessage(`{"VolumeId": "vol-` + tenant + `", "Size": 10, "VolumeType": "gp3", "State": "available", "AvailabilityZone": "us-east-1a"}`)},
				{ID: tenant + "-web", Type: "host", Name: tenant + "-web"},
			} {
				res.TenantID, res.CreatedAt, res.UpdatedAt = tenant, at, at
				if err := tx.PutResource(ctx, res); err != nil {
					return err
				}
			}
			var ss []store.MetricSample
			for i := 0; i < 48; i++ {
				ss = append(ss, store.MetricSample{TenantID: tenant, ResourceID: tenant + "-web", Metric: "disk_used_percent:/",
					At: at.Add(time.Duration(i-48) * time.Hour), Value: 40 + float64(i)})
			}
			if err := tx.AddMetricSamples(ctx, ss); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Each customer sees its own targets, savings, waste and forecasts only;
// another tenant's are 403.
var costIsolation = map[string]isoCase{
	"GET /api/v1/resource-schedules": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		for _, role := range roles {
			var out struct{ Items []api.ResourceScheduleView }
			h.call("GET", "/api/v1/resource-schedules", h.secret(self+"/"+string(role)), nil).ok(t, 200, &out)
			if len(out.Items) != 1 || out.Items[0].Targets != 1 {
				t.Errorf("%s %s: %+v, want one schedule with its one target", self, role, out.Items)
			}
			h.call("GET", "/api/v1/resource-schedules?tenant="+other, h.secret(self+"/"+string(role)), nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/resource-schedules/{id}": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		var out api.ResourceScheduleDetail
		h.call("GET", "/api/v1/resource-schedules/office-hours", h.secret(self+"/viewer"), nil).ok(t, 200, &out)
		if len(out.TargetList) != 1 || out.TargetList[0].ResourceID != self+"-dev" {
			t.Errorf("%s: targets %+v", self, out.TargetList)
		}
		h.call("GET", "/api/v1/resource-schedules/office-hours?tenant="+other, h.secret(self+"/viewer"), nil).fail(t, 403, "forbidden")
		h.call("GET", "/api/v1/resource-schedules/nope", h.secret(self+"/viewer"), nil).fail(t, 404, "not_found")
	}},
	"POST /api/v1/cost/reconcile": {body: api.ReconcileInput{DryRun: true}, check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		var out struct{ Steps []cost.Step }
		h.call("POST", "/api/v1/cost/reconcile", h.secret(self+"/admin"), api.ReconcileInput{DryRun: true}).ok(t, 200, &out)
		if len(out.Steps) != 1 || out.Steps[0].ResourceID != self+"-dev" {
			t.Errorf("%s: dry run %+v", self, out.Steps)
		}
		h.call("POST", "/api/v1/cost/reconcile?tenant="+other, h.secret(self+"/admin"), api.ReconcileInput{DryRun: true}).fail(t, 403, "forbidden")
		h.call("POST", "/api/v1/cost/reconcile", h.secret(self+"/operator"), api.ReconcileInput{DryRun: true}).fail(t, 403, "forbidden")
	}},
	"GET /api/v1/cost/savings": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		var out api.SavingsReport
		h.call("GET", "/api/v1/cost/savings?month=2025-03", h.secret(self+"/viewer"), nil).ok(t, 200, &out)
		if len(out.Rows) != 1 || out.Rows[0].Tenant != self || out.Rows[0].ResourceID != self+"-dev" {
			t.Errorf("%s: savings %+v", self, out.Rows)
		}
		h.call("GET", "/api/v1/cost/savings?tenant="+other, h.secret(self+"/viewer"), nil).fail(t, 403, "forbidden")
	}},
	"GET /api/v1/cost/prices": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		h.call("GET", "/api/v1/cost/prices", h.secret(self+"/viewer"), nil).ok(t, 200, nil)
	}},
	"GET /api/v1/cost/waste": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		var out struct{ Items []api.WasteView }
		h.call("GET", "/api/v1/cost/waste", h.secret(self+"/viewer"), nil).ok(t, 200, &out)
		if len(out.Items) != 1 || out.Items[0].ResourceID != self+"-vol" {
			t.Errorf("%s: waste %+v", self, out.Items)
		}
		h.call("GET", "/api/v1/cost/waste?tenant="+other, h.secret(self+"/viewer"), nil).fail(t, 403, "forbidden")
	}},
	"GET /api/v1/forecasts": {check: func(t *testing.T, h *harness, self, other string) {
		seedCost(t, h)
		var out struct{ Items []forecast.Forecast }
		h.call("GET", "/api/v1/forecasts", h.secret(self+"/viewer"), nil).ok(t, 200, &out)
		if len(out.Items) != 1 || out.Items[0].ResourceID != self+"-web" {
			t.Errorf("%s: forecasts %+v", self, out.Items)
		}
		h.call("GET", "/api/v1/forecasts?tenant="+other, h.secret(self+"/viewer"), nil).fail(t, 403, "forbidden")
	}},
}

func init() {
	for k, v := range costIsolation {
		isolationCases[k] = v
	}
}

// The savings report over the API: March 2025 in Berlin (CET, then CEST
// from Sunday 30 March) has 21 weekdays and 743 hours; office hours run
// 231 of them, and the CSV export carries the same row.
func TestCostSavingsAndBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedCost(t, h)
	var out api.SavingsReport
	h.call("GET", "/api/v1/cost/savings?month=2025-03", h.secret("acme/viewer"), nil).ok(t, 200, &out)
	if len(out.Rows) != 1 {
		t.Fatalf("rows %+v", out.Rows)
	}
	r := out.Rows[0]
	if r.Hours != 743 || r.RunningHours != 21*11 || r.HourlyPrice != 0.0416 || out.Totals.Saved != r.Saved || out.Totals.Currency != "USD" {
		t.Errorf("row %+v, totals %+v", r, out.Totals)
	}
	csv := h.call("GET", "/api/v1/cost/savings?month=2025-03&format=csv", h.secret("acme/viewer"), nil)
	if csv.Status != 200 || !strings.Contains(string(csv.Body), fmt.Sprintf("acme,office-hours,2025-03,acme-dev,acme-dev,ec2,t3.medium,us-east-1,743,231,512,")) {
		t.Errorf("csv %d:\n%s", csv.Status, csv.Body)
	}
	h.call("GET", "/api/v1/cost/savings?month=March", h.secret("acme/viewer"), nil).fail(t, 400, "bad_request")
	h.call("GET", "/api/v1/cost/savings?format=xml", h.secret("acme/viewer"), nil).fail(t, 400, "bad_request")
	h.call("POST", "/api/v1/cost/reconcile", h.secret("acme/admin"), map[string]any{"dry": true}).fail(t, 400, "bad_request")
}
