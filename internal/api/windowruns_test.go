package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestWindowSchedules: a window on an SSM cron schedule with tasks is
// created through the API, lists its next openings in UTC and its zone
// across the spring change, finds itself by name, and refuses bad
// schedules and tasks naming the field. Running it needs the admin role
// and a server that runs windows (503 here; the app tests run them).
func TestWindowSchedules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op, viewer, admin := h.secret("acme/operator"), h.secret("acme/viewer"), h.secret("acme/admin")
	in := api.MaintenanceWindowInput{Name: "patching", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Expression: "cron(0 2 ? * SAT *)"}, Duration: "4h", Cutoff: "1h",
		Targets: store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web"}},
		Tasks:   []store.MaintenanceTask{{Runbook: "check-host", Priority: 1, MaxConcurrency: "2", MaxErrors: "1"}}}
	var w api.MaintenanceWindow
	h.call("POST", "/api/v1/maintenance-windows", op, in).ok(t, http.StatusCreated, &w)
	// epoch is Friday 14 March 2025: the next opening is Saturday 02:00 CET.
	if w.Schedule.Expression != in.Schedule.Expression || w.Duration != "4h" || len(w.Tasks) != 1 || w.NextStart == nil ||
		!w.NextStart.Equal(time.Date(2025, 3, 15, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("created %+v", w)
	}
	var next api.WindowOpenings
	h.call("GET", "/api/v1/maintenance-windows/patching/next?count=4", viewer, nil).ok(t, http.StatusOK, &next)
	if len(next.Openings) != 4 || next.Timezone != "Europe/Berlin" {
		t.Fatalf("next = %+v", next)
	}
	// 5 April is after the change (30 March): 02:00 CEST is 00:00 UTC.
	if o := next.Openings[3]; !o.Start.Equal(time.Date(2025, 4, 5, 0, 0, 0, 0, time.UTC)) || o.StartLocal != "2025-04-05 02:00 CEST" ||
		!o.CutoffAt.Equal(o.Start.Add(3*time.Hour)) || o.EndLocal != "2025-04-05 06:00 CEST" {
		t.Errorf("fourth opening %+v", o)
	}
	if o := next.Openings[0]; o.StartLocal != "2025-03-15 02:00 CET" {
		t.Errorf("first opening %+v", o)
	}
	h.call("GET", "/api/v1/maintenance-windows/"+w.ID+"/next?count=0", viewer, nil).fail(t, http.StatusBadRequest, "bad_request", "count")
	h.call("GET", "/api/v1/maintenance-windows/nope/next", viewer, nil).fail(t, http.StatusNotFound, "not_found", `"nope"`)
	var runs api.List[store.WindowRun]
	h.call("GET", "/api/v1/maintenance-windows/patching/runs", viewer, nil).ok(t, http.StatusOK, &runs)
	if len(runs.Items) != 0 {
		t.Errorf("runs %+v", runs)
	}
	h.call("POST", "/api/v1/maintenance-windows/patching/runs", op, nil).fail(t, http.StatusForbidden, "forbidden")
	h.call("POST", "/api/v1/maintenance-windows/patching/runs", admin, api.WindowRunInput{DryRun: true}).fail(t, http.StatusServiceUnavailable, "unavailable")
	h.call("GET", "/api/v1/window-runs/wr_nope", viewer, nil).fail(t, http.StatusNotFound, "not_found")
	h.call("GET", "/api/v1/maintenance-windows/patching/runs", h.secret("globex/viewer"), nil).fail(t, http.StatusNotFound, "not_found")

	for _, tc := range []struct {
		edit func(*api.MaintenanceWindowInput)
		want string
	}{
		{func(i *api.MaintenanceWindowInput) { i.Schedule.Expression = "cron(0 2 3W * ? *)" }, "day-of-month field"},
		{func(i *api.MaintenanceWindowInput) { i.Duration = "" }, "duration: is required"},
		{func(i *api.MaintenanceWindowInput) { i.Cutoff = "5h" }, "cutoff:"},
		{func(i *api.MaintenanceWindowInput) { i.Tasks[0].OnFailure = "retry" }, "tasks[0].on_failure"},
		{func(i *api.MaintenanceWindowInput) { i.Tasks[0].Runbook = "patch-linux" }, `tasks[0].runbook: no runbook \"patch-linux\"`},
		{func(i *api.MaintenanceWindowInput) {
			i.Targets = store.MaintenanceTargets{Matchers: []string{`env="prod"`}}
		}, "needs resource_ids, tags or a group"},
	} {
		bad := in
		bad.Name = "bad"
		bad.Tasks = append([]store.MaintenanceTask(nil), in.Tasks...)
		tc.edit(&bad)
		r := h.call("POST", "/api/v1/maintenance-windows", op, bad)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("%s: %d %s", tc.want, r.Status, r.Body)
		}
	}
	// A bare string is an expression.
	r := h.call("POST", "/api/v1/maintenance-windows", op, map[string]any{"name": "nightly", "schedule": "30 2 * * *", "duration": "1h",
		"targets": map[string]any{"resource_ids": []string{"i-1"}}})
	var n api.MaintenanceWindow
	r.ok(t, http.StatusCreated, &n)
	if n.Schedule.Expression != "30 2 * * *" {
		t.Errorf("bare string schedule: %+v", n.Schedule)
	}
}

func init() {
	// Another tenant's window, by ID or by name, is not found; ?tenant= is
	// forbidden.
	for _, route := range []struct{ method, suffix string }{{"GET", "/next"}, {"GET", "/runs"}, {"POST", "/runs"}} {
		isolationCases[route.method+" /api/v1/maintenance-windows/{id}"+route.suffix] = isoCase{body: api.WindowRunInput{DryRun: true},
			check: func(t *testing.T, h *harness, self, other string) {
				id := canaryWindow(t, h, other)
				for _, role := range roles {
					sec := h.secret(self + "/" + string(role))
					want := 404
					if route.method == "POST" && role != store.RoleAdmin {
						want = 403
					}
					for _, ref := range []string{id, "canary-window-" + other} {
						r := h.call(route.method, "/api/v1/maintenance-windows/"+ref+route.suffix, sec, api.WindowRunInput{DryRun: true})
						if r.Status != want || strings.Contains(string(r.Body), "Canary") {
							t.Errorf("%s %s %s as %s/%s: %d %s", route.method, ref, route.suffix, self, role, r.Status, r.Body)
						}
					}
					h.call(route.method, "/api/v1/maintenance-windows/"+id+route.suffix+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
				}
				if l, _, _ := h.st.ListWindowRuns(context.Background(), other, "", store.Page{}); len(l) != 0 {
					t.Errorf("%s's window runs after %s's attempts: %+v", other, self, l)
				}
			}}
	}
	isolationCases["GET /api/v1/window-runs/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		id := "wr_canary" + other
		ctx := context.Background()
		if _, err := h.st.GetWindowRun(ctx, other, id); err != nil {
			if err := h.st.InTx(ctx, func(tx store.Tx) error {
				return tx.CreateWindowRun(ctx, store.WindowRun{ID: id, TenantID: other, WindowID: "mw_canary", WindowName: "canary-run-" + other,
					Trigger: store.TriggerManual, ScheduledAt: epoch, CutoffAt: epoch, EndsAt: epoch, Status: store.WindowRunSucceeded,
					CreatedAt: epoch, UpdatedAt: epoch}, []store.WindowRunTarget{{TenantID: other, RunID: id, Task: "t", TargetID: "i-canary", Status: "succeeded"}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/window-runs/"+id, sec, nil)
			r.fail(t, 404, "not_found")
			if strings.Contains(string(r.Body), "canary-run") || strings.Contains(string(r.Body), "i-canary") {
				t.Errorf("404 leaks the run: %s", r.Body)
			}
			h.call("GET", "/api/v1/window-runs/"+id+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
}
