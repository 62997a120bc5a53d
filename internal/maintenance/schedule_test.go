package maintenance

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestCronWindow: a window on an SSM cron schedule with an offset, a
// duration, a cutoff and dates is open when its openings are, across the
// spring change in Berlin, and keeps its record through a round trip.
func TestCronWindow(t *testing.T) {
	t.Parallel()
	start, end := rfc(t, "2026-01-01T00:00:00+01:00"), rfc(t, "2026-12-31T00:00:00+01:00")
	rec := store.MaintenanceWindow{Name: "patching", Timezone: "Europe/Berlin", Targets: store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web"}},
		// The last Saturday of the month, 02:30, one day later: Sunday
		// 29 March 2026, the night the clocks skip 02:30.
		Schedule:       store.MaintenanceSchedule{Expression: "cron(30 2 ? * 7L *)"},
		ScheduleOffset: 1, Duration: "3h", Cutoff: "1h", StartDate: &start, EndDate: &end,
		Tasks: []store.MaintenanceTask{{Runbook: "patch-linux", Priority: 1, MaxConcurrency: "50%", MaxErrors: "1", CutoffBehavior: "cancel"}}}
	w := mustWindow(t, rec)
	for probe, want := range map[string]bool{
		"2026-03-29T03:29:00+02:00": false,
		"2026-03-29T03:30:00+02:00": true, // 02:30 does not exist: 03:30 CEST
		"2026-03-29T06:29:00+02:00": true,
		"2026-03-29T06:30:00+02:00": false,
		"2026-03-28T03:30:00+01:00": false, // the Saturday itself: offset by a day
	} {
		if got := w.ActiveAt(rfc(t, probe)); got != want {
			t.Errorf("ActiveAt(%s) = %v, want %v", probe, got, want)
		}
	}
	o, ok := w.Plan().NextOpening(rfc(t, "2026-03-02T00:00:00Z")) // (1 March is the day after 28 February, a last Saturday)
	if !ok || !o.Start.Equal(rfc(t, "2026-03-29T03:30:00+02:00")) || !o.CutoffAt.Equal(rfc(t, "2026-03-29T05:30:00+02:00")) {
		t.Errorf("next opening %+v", o)
	}
	if tk := w.Tasks[0]; tk.Name != "patch-linux" || tk.OnFailure != FailureStop || tk.MaxConcurrency.N != 50 || !tk.MaxConcurrency.Percent || tk.MaxErrors.N != 1 {
		t.Errorf("task with defaults: %+v", tk)
	}
	back := w.Record()
	if back.Schedule.Expression != rec.Schedule.Expression || back.ScheduleOffset != 1 || back.Duration != "3h" || back.Cutoff != "1h" ||
		!back.StartDate.Equal(start) || !back.EndDate.Equal(end) || !reflect.DeepEqual(back.Tasks, rec.Tasks) {
		t.Errorf("Record() = %+v", back)
	}
}

func TestCronWindowErrors(t *testing.T) {
	t.Parallel()
	base := func() store.MaintenanceWindow {
		return store.MaintenanceWindow{Name: "w", Targets: store.MaintenanceTargets{ResourceIDs: []string{"i-1"}},
			Schedule: store.MaintenanceSchedule{Expression: "0 2 * * *"}, Duration: "2h"}
	}
	for _, tc := range []struct {
		want string
		edit func(*store.MaintenanceWindow)
	}{
		{"duration: is required", func(r *store.MaintenanceWindow) { r.Duration = "" }},
		{"cutoff:", func(r *store.MaintenanceWindow) { r.Cutoff = "2h" }},
		{"day-of-month field", func(r *store.MaintenanceWindow) { r.Schedule.Expression = "cron(0 2 3W * ? *)" }},
		{"schedule_offset", func(r *store.MaintenanceWindow) { r.ScheduleOffset = 9 }},
		{"go with a cron or rate schedule", func(r *store.MaintenanceWindow) {
			r.Schedule = store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sat"}, Start: "02:00", Duration: "1h"}}
		}},
		{"one of them", func(r *store.MaintenanceWindow) {
			r.Schedule.Weekly = &store.Recurrence{Days: []string{"sat"}, Start: "02:00", Duration: "1h"}
		}},
		{"tasks[0].runbook: is required", func(r *store.MaintenanceWindow) { r.Tasks = []store.MaintenanceTask{{Priority: 1}} }},
		{"tasks[1].name", func(r *store.MaintenanceWindow) { r.Tasks = []store.MaintenanceTask{{Runbook: "a"}, {Runbook: "a"}} }},
		{"tasks[0].max_concurrency", func(r *store.MaintenanceWindow) {
			r.Tasks = []store.MaintenanceTask{{Runbook: "a", MaxConcurrency: "0"}}
		}},
		{"tasks[0].cutoff_behavior", func(r *store.MaintenanceWindow) {
			r.Tasks = []store.MaintenanceTask{{Runbook: "a", CutoffBehavior: "stop"}}
		}},
		{"tasks[0].on_failure", func(r *store.MaintenanceWindow) {
			r.Tasks = []store.MaintenanceTask{{Runbook: "a", OnFailure: "retry"}}
		}},
		{"needs resource_ids, tags or a group", func(r *store.MaintenanceWindow) {
			r.Targets = store.MaintenanceTargets{Matchers: []string{`env="prod"`}}
			r.Tasks = []store.MaintenanceTask{{Runbook: "a"}}
		}},
	} {
		r := base()
		tc.edit(&r)
		w, err := FromRecord(r)
		if err == nil {
			err = w.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v", tc.want, err)
		}
	}
}

// TestSpecScheduleYAML: the schedule is an expression when written as a
// string, and its mapping form still refuses unknown keys.
func TestSpecScheduleYAML(t *testing.T) {
	t.Parallel()
	decode := func(src string) (Spec, error) {
		var s Spec
		d := yaml.NewDecoder(bytes.NewBufferString(src))
		d.KnownFields(true)
		return s, d.Decode(&s)
	}
	s, err := decode("schedule: cron(30 23 ? * TUE#3 *)\nschedule_offset: 2\nduration: 4h\ncutoff: 1h\ntargets: {tags: {patch-group: db}}\n" +
		"tasks:\n  - {runbook: patch-linux, priority: 1, max_concurrency: \"2\", max_errors: \"1\"}\n")
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Record("id", "acme", "patching", "me", time.Unix(0, 0))
	if rec.Schedule.Expression != "cron(30 23 ? * TUE#3 *)" || rec.ScheduleOffset != 2 || len(rec.Tasks) != 1 || rec.Tasks[0].MaxConcurrency != "2" {
		t.Errorf("record %+v", rec)
	}
	if _, err := FromRecord(rec); err != nil {
		t.Error(err)
	}
	if _, err := decode("schedule: {weekly: {days: [sat], start: \"02:00\", duration: 4h}, every: 2}\ntargets: {resource_ids: [i-1]}\n"); err == nil ||
		!strings.Contains(err.Error(), "every") {
		t.Errorf("unknown schedule key: %v", err)
	}
	if s, err := decode("schedule: {start: 2026-01-01T00:00:00Z, end: 2026-01-02T00:00:00Z}\n"); err != nil || s.Schedule.Start == nil {
		t.Errorf("one-off form: %+v %v", s.Schedule, err)
	}
}

// TestCheckRefs: a content window's task must name a runbook the content
// defines, and its targets.group a resource group.
func TestCheckRefs(t *testing.T) {
	t.Parallel()
	reg := content.NewRegistry()
	reg.Register(Kind())
	reg.Register(content.Kind{Name: "Runbook", New: func() any { return new(map[string]any) }})
	reg.RegisterCheck(CheckRefs)
	win := "apiVersion: flywheel/v1\nkind: MaintenanceWindow\nmetadata: {name: w}\nspec:\n  schedule: \"0 2 * * *\"\n  duration: 1h\n" +
		"  targets: {tags: {a: b}, group: nowhere}\n  tasks: [{runbook: patch}, {runbook: missing, name: m}]\n"
	rb := "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: patch}\nspec: {}\n"
	_, err := content.Load(reg, content.Source{Name: "ops", FS: fstest.MapFS{"w.yaml": {Data: []byte(win)}, "rb.yaml": {Data: []byte(rb)}}})
	if err == nil || !strings.Contains(err.Error(), `spec.tasks[1].runbook: no Runbook named "missing"`) || strings.Contains(err.Error(), `"patch"`) ||
		!strings.Contains(err.Error(), `spec.targets.group: no ResourceGroup named "nowhere"`) {
		t.Errorf("load: %v", err)
	}
}

// TestManualRunsOpenTheWindow: a run asked for now opens its window for
// its duration, as an opening of its schedule does; scheduled and missed
// runs, ended ones and other windows' runs do not.
func TestManualRunsOpenTheWindow(t *testing.T) {
	t.Parallel()
	rec := store.MaintenanceWindow{ID: "mw_1", Name: "adhoc", Schedule: store.MaintenanceSchedule{Expression: "0 3 1 1 *"}, Duration: "1h",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"i-1"}}, Tasks: []store.MaintenanceTask{{Runbook: "patch"}}}
	at := rfc(t, "2026-05-04T10:00:00Z")
	run := func(id, window, trigger, status string, start time.Time) store.WindowRun {
		return store.WindowRun{ID: id, WindowID: window, Trigger: trigger, Status: status, ScheduledAt: start, EndsAt: start.Add(time.Hour)}
	}
	recent := []store.WindowRun{
		run("wr_4", "mw_1", store.TriggerManual, store.WindowRunRunning, at.Add(-10*time.Minute)),
		run("wr_3", "mw_2", store.TriggerManual, store.WindowRunRunning, at.Add(-10*time.Minute)),
		run("wr_2", "mw_1", store.TriggerSchedule, store.WindowRunMissed, at.Add(-5*time.Minute)),
		run("wr_1", "mw_1", store.TriggerManual, store.WindowRunSucceeded, at.Add(-2*time.Hour)),
	}
	manual := ManualRuns(recent, at)
	if len(manual) != 2 || manual[0].ID != "wr_4" || manual[1].ID != "wr_3" {
		t.Fatalf("ManualRuns = %+v", manual)
	}
	set, err := CompileWithRuns([]store.MaintenanceWindow{rec}, manual)
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{Resources: []event.ResourceRef{{ID: "i-1"}}}
	if _, ok := set.Match(e, at, nil); !ok {
		t.Error("not open during its manual run")
	}
	if _, ok := set.Match(e, at.Add(50*time.Minute), nil); ok {
		t.Error("open after its manual run's end")
	}
	if plain, _ := Compile([]store.MaintenanceWindow{rec}); plain.Len() != 1 {
		t.Fatal("compile")
	} else if _, ok := plain.Match(e, at, nil); ok {
		t.Error("open without the run: the schedule is closed on 4 May")
	}
}

// TestGroupTarget: a window targeting a resource group covers the events
// of its members, as the GroupLookup reports; without one, none.
func TestGroupTarget(t *testing.T) {
	t.Parallel()
	w := mustWindow(t, store.MaintenanceWindow{Name: "w", Targets: store.MaintenanceTargets{Group: "web"},
		Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"daily"}, Start: "00:00", Duration: "24h"}}})
	set := NewSet([]*Window{w})
	members := func(group string, ref event.ResourceRef) bool { return group == "web" && ref.ID == "web-1" }
	at := rfc(t, "2026-05-04T10:00:00Z")
	in := &event.Event{Resources: []event.ResourceRef{{Type: "host", ID: "web-1"}}}
	out := &event.Event{Resources: []event.ResourceRef{{Type: "host", ID: "db-1"}}}
	if _, ok := set.MatchIn(in, at, nil, members); !ok {
		t.Error("a member's event is not covered")
	}
	if _, ok := set.MatchIn(out, at, nil, members); ok {
		t.Error("a non-member's event is covered")
	}
	if _, ok := set.Match(in, at, nil); ok {
		t.Error("covered without a group lookup")
	}
	if back := w.Record(); back.Targets.Group != "web" {
		t.Errorf("record: %+v", back.Targets)
	}
}
