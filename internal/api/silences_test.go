package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestSilences(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, d.open(t))
			op, viewer := h.secret("acme/operator"), h.secret("acme/viewer")

			var created api.Silence
			r := h.call("POST", "/api/v1/silences", op, api.SilenceInput{
				Matchers: []string{`alertname=DiskFull`, `instance=~"db-.*"`}, Duration: "2h", Comment: "resizing volumes"})
			r.ok(t, http.StatusCreated, &created)
			if created.State != "active" || created.TenantID != acme || !created.StartsAt.Equal(epoch) || !created.EndsAt.Equal(epoch.Add(2*time.Hour)) ||
				created.CreatedBy != h.cred("acme/operator").Actor() || strings.Join(created.Matchers, " ") != `alertname="DiskFull" instance=~"db-.*"` {
				t.Errorf("created = %+v", created)
			}
			if loc := r.Header.Get("Location"); loc != "/api/v1/silences/"+created.ID || !strings.HasPrefix(created.ID, "sil_") {
				t.Errorf("Location %q, id %q", loc, created.ID)
			}
			// A pending, recurring one.
			start := epoch.Add(24 * time.Hour)
			end := start.Add(30 * 24 * time.Hour)
			var weekly api.Silence
			h.call("POST", "/api/v1/silences", op, api.SilenceInput{
				Matchers: []string{`job="backup"`}, StartsAt: &start, EndsAt: &end, Comment: "weekend backups",
				Recurrence: &store.Recurrence{Days: []string{"sat", "sun"}, Start: "02:00", Duration: "4h", Timezone: "Europe/Berlin"},
			}).ok(t, http.StatusCreated, &weekly)
			if weekly.State != "pending" || weekly.Recurrence == nil || strings.Join(weekly.Recurrence.Days, ",") != "sun,sat" {
				t.Errorf("weekly = %+v", weekly)
			}

			var got api.Silence
			h.call("GET", "/api/v1/silences/"+created.ID, viewer, nil).ok(t, http.StatusOK, &got)
			if got.ID != created.ID || got.Comment != "resizing volumes" {
				t.Errorf("GET = %+v", got)
			}
			var list api.List[api.Silence]
			h.call("GET", "/api/v1/silences", viewer, nil).ok(t, http.StatusOK, &list)
			if len(list.Items) != 2 || list.Items[0].ID != weekly.ID || list.Items[1].ID != created.ID {
				t.Errorf("list = %+v", list.Items)
			}

			// Expire: viewers may not; operators may, once.
			h.call("DELETE", "/api/v1/silences/"+created.ID, viewer, nil).fail(t, http.StatusForbidden, "forbidden", "operator")
			h.clock.Advance(time.Minute)
			h.call("DELETE", "/api/v1/silences/"+created.ID, op, nil).ok(t, http.StatusNoContent, nil)
			h.call("DELETE", "/api/v1/silences/"+created.ID, op, nil).fail(t, http.StatusNotFound, "not_found", "already expired")
			h.call("GET", "/api/v1/silences/"+created.ID, viewer, nil).ok(t, http.StatusOK, &got)
			if got.State != "expired" || got.ExpiredAt == nil || !got.ExpiredAt.Equal(epoch.Add(time.Minute)) || got.ExpiredBy != h.cred("acme/operator").Actor() {
				t.Errorf("after expire = %+v", got)
			}
			h.call("GET", "/api/v1/silences", viewer, nil).ok(t, http.StatusOK, &list)
			if len(list.Items) != 1 || list.Items[0].ID != weekly.ID {
				t.Errorf("unexpired list = %+v", list.Items)
			}
			h.call("GET", "/api/v1/silences?expired=true&limit=1", viewer, nil).ok(t, http.StatusOK, &list)
			if len(list.Items) != 1 || list.NextCursor == "" {
				t.Errorf("expired=true page 1 = %+v", list)
			}
			h.call("GET", "/api/v1/silences?expired=maybe", viewer, nil).fail(t, http.StatusBadRequest, "bad_request", "expired")

			// Both changes are in the audit chain.
			var actions []string
			for _, rec := range h.auditOf(acme) {
				if strings.HasPrefix(rec.Action, "silence.") {
					actions = append(actions, rec.Action+" "+rec.Target)
				}
			}
			want := []string{"silence.create silence/" + created.ID, "silence.create silence/" + weekly.ID, "silence.expire silence/" + created.ID}
			if strings.Join(actions, "|") != strings.Join(want, "|") {
				t.Errorf("audit = %q, want %q", actions, want)
			}

			// Another tenant sees none of it.
			other := h.secret("globex/operator")
			h.call("GET", "/api/v1/silences/"+weekly.ID, other, nil).fail(t, http.StatusNotFound, "not_found")
			h.call("DELETE", "/api/v1/silences/"+weekly.ID, other, nil).fail(t, http.StatusNotFound, "not_found")
			h.call("GET", "/api/v1/silences?expired=true", other, nil).ok(t, http.StatusOK, &list)
			if len(list.Items) != 0 {
				t.Errorf("globex lists %+v", list.Items)
			}
			if s, _ := h.st.GetSilence(context.Background(), acme, weekly.ID); s.ExpiredAt != nil {
				t.Error("globex expired acme's silence")
			}
		})
	}
}

func TestSilenceValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.secret("acme/operator")
	past, future := epoch.Add(-time.Hour), epoch.Add(time.Hour)
	long := make([]string, 65)
	for i := range long {
		long[i] = `a="b"`
	}
	for _, tc := range []struct {
		name string
		in   any
		msg  []string
	}{
		{"no matchers", api.SilenceInput{Duration: "1h", Comment: "x"}, []string{"matchers: at least one matcher is required"}},
		{"bad matcher", api.SilenceInput{Matchers: []string{`alertname="X"`, `instance=~"db-(.*"`}, Duration: "1h", Comment: "x"},
			[]string{"matchers[1]: bad matcher", "instance=~\"db-(.*\"", "missing closing )"}},
		{"matcher syntax", api.SilenceInput{Matchers: []string{`alertname`}, Duration: "1h", Comment: "x"},
			[]string{"matchers[0]: bad matcher `alertname` at column 10: expected an operator"}},
		{"matches everything", api.SilenceInput{Matchers: []string{`env!="prod"`}, Duration: "1h", Comment: "x"},
			[]string{"matchers:", "would mute every event"}},
		{"too many matchers", api.SilenceInput{Matchers: long, Duration: "1h", Comment: "x"}, []string{"matchers: at most 64"}},
		{"no comment", api.SilenceInput{Matchers: []string{`a="b"`}, Duration: "1h"}, []string{"comment is required"}},
		{"no end", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x"}, []string{"ends_at or duration is required"}},
		{"end and duration", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", Duration: "1h", EndsAt: &future}, []string{"not both"}},
		{"bad duration", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", Duration: "-1h"}, []string{`duration "-1h"`}},
		{"ends in the past", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", EndsAt: &past}, []string{"ends_at: 2025-03-14T08:26:53Z is in the past"}},
		{"ends before it starts", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", StartsAt: &future, EndsAt: &future},
			[]string{"ends_at: 2025-03-14T10:26:53Z is not after starts_at"}},
		{"unknown timezone", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", Duration: "1h",
			Recurrence: &store.Recurrence{Days: []string{"sat"}, Start: "02:00", Duration: "1h", Timezone: "Mars/Base"}},
			[]string{`recurrence.timezone: unknown time zone "Mars/Base"`}},
		{"bad recurrence day", api.SilenceInput{Matchers: []string{`a="b"`}, Comment: "x", Duration: "1h",
			Recurrence: &store.Recurrence{Days: []string{"caturday"}, Start: "02:00", Duration: "1h"}},
			[]string{`recurrence.days: "caturday" is not a day of the week`}},
		{"unknown field", `{"matchers":["a=b"],"duration":"1h","comment":"x","end":"2030-01-01T00:00:00Z"}`, []string{`unknown field "end"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.call("POST", "/api/v1/silences", op, tc.in).fail(t, http.StatusBadRequest, "bad_request", tc.msg...)
		})
	}
	if n, _, _ := h.st.ListSilences(context.Background(), acme, store.SilenceFilter{Expired: true}, store.Page{}); len(n) != 0 {
		t.Errorf("refused requests stored %d silences", len(n))
	}
	h.call("POST", "/api/v1/silences", h.secret("acme/viewer"), api.SilenceInput{Matchers: []string{`a="b"`}, Duration: "1h", Comment: "x"}).
		fail(t, http.StatusForbidden, "forbidden", "needs the operator role")
}

func TestMaintenanceWindows(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, d.open(t))
			op, viewer := h.secret("acme/operator"), h.secret("acme/viewer")
			in := api.MaintenanceWindowInput{
				Name: "db-patching", Timezone: "Europe/Berlin",
				Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sat", "sun"}, Start: "02:00", Duration: "4h"}},
				Targets:  store.MaintenanceTargets{Matchers: []string{`alertname=~"Disk.*|Postgres.*"`}, ResourceIDs: []string{"i-123"}, Tags: map[string]string{"tier": "db"}},
				Comment:  "monthly patching",
			}
			var w api.MaintenanceWindow
			r := h.call("POST", "/api/v1/maintenance-windows", op, in)
			r.ok(t, http.StatusCreated, &w)
			// epoch is Friday 14 March 2025, 10:26 in Berlin: the next slot
			// is Saturday 02:00 CET = 01:00 UTC.
			next := time.Date(2025, 3, 15, 1, 0, 0, 0, time.UTC)
			if w.Name != "db-patching" || w.Timezone != "Europe/Berlin" || w.Open || w.NextStart == nil || !w.NextStart.Equal(next) ||
				!w.NextEnd.Equal(next.Add(4*time.Hour)) || !strings.HasPrefix(w.ID, "mw_") || r.Header.Get("Location") != "/api/v1/maintenance-windows/"+w.ID {
				t.Errorf("created = %+v", w)
			}
			h.call("POST", "/api/v1/maintenance-windows", op, in).fail(t, http.StatusConflict, "conflict", `"db-patching" already exists`)

			// A one-off window, open now.
			start, end := epoch.Add(-time.Hour), epoch.Add(time.Hour)
			var now api.MaintenanceWindow
			h.call("POST", "/api/v1/maintenance-windows", op, api.MaintenanceWindowInput{
				Name: "web-deploy", Schedule: store.MaintenanceSchedule{Start: &start, End: &end},
				Targets: store.MaintenanceTargets{ResourceIDs: []string{"web-1", "web-2"}},
			}).ok(t, http.StatusCreated, &now)
			if !now.Open || now.Timezone != "UTC" {
				t.Errorf("one-off = %+v", now)
			}

			var got api.MaintenanceWindow
			h.call("GET", "/api/v1/maintenance-windows/"+w.ID, viewer, nil).ok(t, http.StatusOK, &got)
			if got.Targets.Tags["tier"] != "db" || got.Schedule.Weekly == nil || got.Schedule.Weekly.Start != "02:00" {
				t.Errorf("GET = %+v", got)
			}
			var list api.List[api.MaintenanceWindow]
			h.call("GET", "/api/v1/maintenance-windows", viewer, nil).ok(t, http.StatusOK, &list)
			if len(list.Items) != 2 || list.Items[0].ID != now.ID {
				t.Errorf("list = %+v", list.Items)
			}

			other := h.secret("globex/operator")
			h.call("GET", "/api/v1/maintenance-windows/"+w.ID, other, nil).fail(t, http.StatusNotFound, "not_found")
			h.call("DELETE", "/api/v1/maintenance-windows/"+w.ID, other, nil).fail(t, http.StatusNotFound, "not_found")
			h.call("DELETE", "/api/v1/maintenance-windows/"+w.ID, viewer, nil).fail(t, http.StatusForbidden, "forbidden")
			h.call("DELETE", "/api/v1/maintenance-windows/"+w.ID, op, nil).ok(t, http.StatusNoContent, nil)
			h.call("DELETE", "/api/v1/maintenance-windows/"+w.ID, op, nil).fail(t, http.StatusNotFound, "not_found")
			if _, err := h.st.GetMaintenanceWindow(context.Background(), acme, w.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after delete: %v", err)
			}
			var actions []string
			for _, rec := range h.auditOf(acme) {
				if strings.HasPrefix(rec.Action, "maintenance.") {
					actions = append(actions, rec.Action)
				}
			}
			if strings.Join(actions, " ") != "maintenance.create maintenance.create maintenance.delete" {
				t.Errorf("audit = %v", actions)
			}
		})
	}
}

func TestMaintenanceWindowValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.secret("acme/operator")
	start, end := epoch.Add(time.Hour), epoch.Add(2*time.Hour)
	weekly := store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sat"}, Start: "02:00", Duration: "4h"}}
	targets := store.MaintenanceTargets{ResourceIDs: []string{"i-1"}}
	for _, tc := range []struct {
		name string
		in   api.MaintenanceWindowInput
		msg  string
	}{
		{"no name", api.MaintenanceWindowInput{Schedule: weekly, Targets: targets}, "name: is required"},
		{"unknown timezone", api.MaintenanceWindowInput{Name: "x", Timezone: "Europe/Gondor", Schedule: weekly, Targets: targets}, `timezone: unknown time zone "Europe/Gondor"`},
		{"no schedule", api.MaintenanceWindowInput{Name: "x", Targets: targets}, "schedule: give start and end"},
		{"end before start", api.MaintenanceWindowInput{Name: "x", Targets: targets, Schedule: store.MaintenanceSchedule{Start: &end, End: &start}}, "schedule.end:"},
		{"in the past", api.MaintenanceWindowInput{Name: "x", Targets: targets, Schedule: store.MaintenanceSchedule{Start: ptr(epoch.Add(-2 * time.Hour)), End: ptr(epoch.Add(-time.Hour))}}, "schedule.end: 2025-03-14T08:26:53Z is in the past"},
		{"bad weekly", api.MaintenanceWindowInput{Name: "x", Targets: targets, Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sat"}, Start: "2am", Duration: "4h"}}}, `schedule.weekly.start: time of day "2am"`},
		{"no targets", api.MaintenanceWindowInput{Name: "x", Schedule: weekly}, "targets: set at least one of matchers, resource_ids, tags or group"},
		{"bad matcher", api.MaintenanceWindowInput{Name: "x", Schedule: weekly, Targets: store.MaintenanceTargets{Matchers: []string{`env=~"(prod"`}}}, "targets.matchers[0]: bad matcher `env=~\"(prod\"`"},
		{"matches everything", api.MaintenanceWindowInput{Name: "x", Schedule: weekly, Targets: store.MaintenanceTargets{Matchers: []string{`env!="dev"`}}}, "would cover every event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.call("POST", "/api/v1/maintenance-windows", op, tc.in).fail(t, http.StatusBadRequest, "bad_request", tc.msg)
		})
	}
}

// Isolation cases for the deflection routes, registered with the
// acceptance suite's table (isolation_test.go), which fails for a route
// without one. Each tenant gets a canary silence and window straight in
// the store (no audit record, so the suite's snapshot of the other tenant
// is not disturbed); the checks aim self's tokens at other's.
func init() {
	isolationCases["GET /api/v1/silences"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		canarySilence(t, h, other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/silences?expired=true&limit=500", sec, nil)
			var l api.List[api.Silence]
			r.ok(t, 200, &l)
			for _, s := range l.Items {
				if s.TenantID != self {
					t.Errorf("%s %s lists silence %s of %s", self, role, s.ID, s.TenantID)
				}
			}
			if strings.Contains(string(r.Body), "canary-silence-"+other) {
				t.Errorf("%s's silence list leaks %s's canary", self, other)
			}
			h.call("GET", "/api/v1/silences?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/silences"] = isoCase{
		body: api.SilenceInput{Matchers: []string{`alertname="Sweep"`}, Duration: "1h", Comment: "sweep"},
		check: func(t *testing.T, h *harness, self, other string) {
			before := silencesOf(t, h, other)
			for _, key := range []string{"/operator", "/admin"} {
				h.call("POST", "/api/v1/silences?tenant="+other, h.secret(self+key),
					api.SilenceInput{Matchers: []string{`alertname=~".+"`}, Duration: "1h", Comment: "planted"}).fail(t, 403, "forbidden")
			}
			if after := silencesOf(t, h, other); mustJSON(t, after) != mustJSON(t, before) {
				t.Errorf("%s's silences changed", other)
			}
		}}
	isolationCases["GET /api/v1/silences/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		id := canarySilence(t, h, other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/silences/"+id, sec, nil)
			r.fail(t, 404, "not_found")
			if strings.Contains(string(r.Body), "canary-silence-") {
				t.Errorf("404 leaks the comment: %s", r.Body)
			}
			h.call("GET", "/api/v1/silences/"+id+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["DELETE /api/v1/silences/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		id := canarySilence(t, h, other)
		for _, key := range []string{"/operator", "/admin"} {
			h.call("DELETE", "/api/v1/silences/"+id, h.secret(self+key), nil).fail(t, 404, "not_found")
			h.call("DELETE", "/api/v1/silences/"+id+"?tenant="+other, h.secret(self+key), nil).fail(t, 403, "forbidden")
		}
		if s, err := h.st.GetSilence(context.Background(), other, id); err != nil || s.ExpiredAt != nil {
			t.Errorf("%s's silence after %s's attempts: %+v, %v", other, self, s, err)
		}
	}}
	isolationCases["GET /api/v1/maintenance-windows"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		canaryWindow(t, h, other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/maintenance-windows?limit=500", sec, nil)
			var l api.List[api.MaintenanceWindow]
			r.ok(t, 200, &l)
			for _, w := range l.Items {
				if w.TenantID != self {
					t.Errorf("%s %s lists window %s of %s", self, role, w.ID, w.TenantID)
				}
			}
			if strings.Contains(string(r.Body), "canary-window-"+other) {
				t.Errorf("%s's window list leaks %s's canary", self, other)
			}
			h.call("GET", "/api/v1/maintenance-windows?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/maintenance-windows"] = isoCase{
		body: api.MaintenanceWindowInput{Name: "sweep", Targets: store.MaintenanceTargets{ResourceIDs: []string{"i-sweep"}},
			Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sun"}, Start: "03:00", Duration: "1h"}}},
		check: func(t *testing.T, h *harness, self, other string) {
			before := windowsOf(t, h, other)
			for _, key := range []string{"/operator", "/admin"} {
				h.call("POST", "/api/v1/maintenance-windows?tenant="+other, h.secret(self+key), api.MaintenanceWindowInput{
					Name: "planted", Targets: store.MaintenanceTargets{Matchers: []string{`alertname=~".+"`}},
					Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"daily"}, Start: "00:00", Duration: "24h"}}}).fail(t, 403, "forbidden")
			}
			if after := windowsOf(t, h, other); mustJSON(t, after) != mustJSON(t, before) {
				t.Errorf("%s's windows changed", other)
			}
		}}
	isolationCases["GET /api/v1/maintenance-windows/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		id := canaryWindow(t, h, other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/maintenance-windows/"+id, sec, nil)
			r.fail(t, 404, "not_found")
			if strings.Contains(string(r.Body), "canary-window-") {
				t.Errorf("404 leaks the window's name: %s", r.Body)
			}
			h.call("GET", "/api/v1/maintenance-windows/"+id+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["DELETE /api/v1/maintenance-windows/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		id := canaryWindow(t, h, other)
		for _, key := range []string{"/operator", "/admin"} {
			h.call("DELETE", "/api/v1/maintenance-windows/"+id, h.secret(self+key), nil).fail(t, 404, "not_found")
			h.call("DELETE", "/api/v1/maintenance-windows/"+id+"?tenant="+other, h.secret(self+key), nil).fail(t, 403, "forbidden")
		}
		if _, err := h.st.GetMaintenanceWindow(context.Background(), other, id); err != nil {
			t.Errorf("%s's window after %s's attempts: %v", other, self, err)
		}
	}}
}

// canarySilence puts a silence into tenant straight through the store,
// once, and returns its ID.
func canarySilence(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	id := "sil_canary" + tenant
	ctx := context.Background()
	if _, err := h.st.GetSilence(ctx, tenant, id); err == nil {
		return id
	}
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateSilence(ctx, store.Silence{ID: id, TenantID: tenant, Matchers: []string{`alertname="Canary"`},
			StartsAt: epoch, EndsAt: epoch.Add(24 * time.Hour), Comment: "canary-silence-" + tenant, CreatedBy: "test", CreatedAt: epoch})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// canaryWindow is canarySilence for a maintenance window.
func canaryWindow(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	id := "mw_canary" + tenant
	ctx := context.Background()
	if _, err := h.st.GetMaintenanceWindow(ctx, tenant, id); err == nil {
		return id
	}
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateMaintenanceWindow(ctx, store.MaintenanceWindow{ID: id, TenantID: tenant, Name: "canary-window-" + tenant, Timezone: "UTC",
			Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sun"}, Start: "03:00", Duration: "1h"}},
			Targets:  store.MaintenanceTargets{ResourceIDs: []string{"i-canary"}}, CreatedBy: "test", CreatedAt: epoch})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func silencesOf(t *testing.T, h *harness, tenant string) []store.Silence {
	t.Helper()
	l, _, err := h.st.ListSilences(context.Background(), tenant, store.SilenceFilter{Expired: true}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func windowsOf(t *testing.T, h *harness, tenant string) []store.MaintenanceWindow {
	t.Helper()
	l, _, err := h.st.ListMaintenanceWindows(context.Background(), tenant, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDeflectionDocExamples posts every JSON example of docs/deflection.md
// to the endpoint it belongs to: a silence has "matchers", a maintenance
// window a "name". Each must be accepted as it stands.
func TestDeflectionDocExamples(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/deflection.md")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	n := 0
	for _, block := range strings.Split(string(data), "```json\n")[1:] {
		body, _, ok := strings.Cut(block, "\n```")
		if !ok {
			t.Fatal("unterminated json block")
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &probe); err != nil {
			t.Fatalf("json example does not parse: %v\n%s", err, body)
		}
		path := "/api/v1/silences"
		if _, ok := probe["name"]; ok {
			path = "/api/v1/maintenance-windows"
		}
		n++
		h.call("POST", path, h.secret("acme/operator"), body).ok(t, http.StatusCreated, nil)
	}
	if n < 3 {
		t.Errorf("found %d json examples; has the page's format changed?", n)
	}
}
