package maintenance

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func tp(t time.Time) *time.Time { return &t }

func mustWindow(t testing.TB, r store.MaintenanceWindow) *Window {
	t.Helper()
	w, err := FromRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	return w
}

func rfc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestActiveAt covers one-off windows and weekly ones across midnight and
// the daylight-saving changes of the window's zone.
func TestActiveAt(t *testing.T) {
	t.Parallel()
	targets := store.MaintenanceTargets{ResourceIDs: []string{"i-1"}}
	weekly := func(zone, days, start, dur string) store.MaintenanceWindow {
		return store.MaintenanceWindow{Name: "w", Timezone: zone, Targets: targets, Schedule: store.MaintenanceSchedule{
			Weekly: &store.Recurrence{Days: strings.Split(days, ","), Start: start, Duration: dur}}}
	}
	oneOff := store.MaintenanceWindow{Name: "w", Timezone: "Europe/Berlin", Targets: targets, Schedule: store.MaintenanceSchedule{
		Start: tp(rfc(t, "2026-03-28T23:00:00+01:00")), End: tp(rfc(t, "2026-03-29T04:00:00+02:00"))}}
	for _, tc := range []struct {
		name   string
		rec    store.MaintenanceWindow
		probes map[string]bool
	}{
		{"one-off over the spring change", oneOff, map[string]bool{
			"2026-03-28T22:59:59+01:00": false,
			"2026-03-28T23:00:00+01:00": true,
			"2026-03-29T01:59:00+01:00": true,
			"2026-03-29T03:00:00+02:00": true, // the instant after 01:59:59 CET
			"2026-03-29T03:59:59+02:00": true,
			"2026-03-29T04:00:00+02:00": false,
		}},
		{"weekend nights in Berlin", weekly("Europe/Berlin", "sat,sun", "02:00", "4h"), map[string]bool{
			"2026-03-21T02:00:00+01:00": true,  // Saturday, winter time
			"2026-03-21T06:00:00+01:00": false, //
			"2026-03-29T03:00:00+02:00": true,  // Sunday of the change: 02:00 is skipped, the slot starts at 03:00 CEST
			"2026-03-29T02:59:00+02:00": false, // (does not exist; the same instant as 01:59 CET)
			"2026-03-29T06:59:00+02:00": true,  // four real hours from 03:00 CEST
			"2026-03-29T07:00:00+02:00": false,
			"2026-04-04T02:00:00+02:00": true, // the next Saturday, summer time
			"2026-04-04T01:59:00+02:00": false,
			"2026-10-25T02:00:00+02:00": true, // fall back: first 02:00 (CEST)
			"2026-10-25T04:59:00+01:00": true, // 4 real hours from 02:00 CEST end at 05:00 CET
			"2026-10-25T05:00:00+01:00": false,
		}},
		{"nightly across midnight in New York", weekly("America/New_York", "mon,tue,wed,thu,fri", "23:30", "2h"), map[string]bool{
			"2026-01-05T23:29:00-05:00": false, // Monday
			"2026-01-05T23:30:00-05:00": true,
			"2026-01-06T01:29:00-05:00": true, // Tuesday morning, Monday's slot
			"2026-01-06T01:30:00-05:00": false,
			"2026-01-10T00:30:00-05:00": true,  // Saturday morning: Friday's slot
			"2026-01-11T00:30:00-05:00": false, // Sunday morning: no Saturday slot
			"2026-01-06T06:29:00Z":      true,  // the zone is the window's, not the probe's
			"2026-01-06T04:29:00Z":      false, // 23:29 EST
		}},
		{"Sunday to Monday across the week", weekly("UTC", "sun", "22:00", "6h"), map[string]bool{
			"2026-01-11T21:59:00Z": false,
			"2026-01-12T03:59:00Z": true,
			"2026-01-12T04:00:00Z": false,
		}},
	} {
		w := mustWindow(t, tc.rec)
		for at, want := range tc.probes {
			if got := w.ActiveAt(rfc(t, at)); got != want {
				t.Errorf("%s: ActiveAt(%s) = %v, want %v", tc.name, at, got, want)
			}
		}
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	start, end := rfc(t, "2026-02-01T10:00:00Z"), rfc(t, "2026-02-01T12:00:00Z")
	w := mustWindow(t, store.MaintenanceWindow{Name: "x", Targets: store.MaintenanceTargets{ResourceIDs: []string{"a"}},
		Schedule: store.MaintenanceSchedule{Start: &start, End: &end}})
	if s, e, ok := w.Next(start.Add(-time.Hour)); !ok || !s.Equal(start) || !e.Equal(end) {
		t.Errorf("Next before = %s %s %v", s, e, ok)
	}
	if _, _, ok := w.Next(end); ok {
		t.Error("a past one-off window has a next period")
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	ev := &event.Event{
		Source: "alertmanager", Kind: event.KindAlert, Severity: event.SeverityHigh, Title: "DiskFull",
		Resources: []event.ResourceRef{{Type: "host", ID: "web-3"}, {Type: "ec2-instance", ID: "i-123"}},
		Labels:    map[string]string{"env": "prod"},
	}
	inventory := map[string]map[string]string{
		"i-123": {"patch-group": "web", "env": "prod"},
		"db-1":  {"patch-group": "db"},
	}
	tags := func(r event.ResourceRef) map[string]string { return inventory[r.ID] }
	for _, tc := range []struct {
		name    string
		targets store.MaintenanceTargets
		tags    TagLookup
		want    bool
	}{
		{"matchers", store.MaintenanceTargets{Matchers: []string{`alertname="DiskFull"`, `env="prod"`}}, nil, true},
		{"matchers on derived labels", store.MaintenanceTargets{Matchers: []string{`resource_type="host"`, `severity="high"`}}, nil, true},
		{"matchers miss", store.MaintenanceTargets{Matchers: []string{`env="dev"`}}, nil, false},
		{"resource id, second resource", store.MaintenanceTargets{ResourceIDs: []string{"i-999", "i-123"}}, nil, true},
		{"resource id miss", store.MaintenanceTargets{ResourceIDs: []string{"i-999"}}, nil, false},
		{"tags", store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web"}}, tags, true},
		{"all tags on one resource", store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web", "env": "prod"}}, tags, true},
		{"tags miss", store.MaintenanceTargets{Tags: map[string]string{"patch-group": "db"}}, tags, false},
		{"tags without a lookup never match", store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web"}}, nil, false},
		{"every criterion holds", store.MaintenanceTargets{Matchers: []string{`alertname="DiskFull"`}, ResourceIDs: []string{"i-123"}, Tags: map[string]string{"env": "prod"}}, tags, true},
		{"criteria narrow each other", store.MaintenanceTargets{Matchers: []string{`alertname="DiskFull"`}, ResourceIDs: []string{"i-999"}}, nil, false},
		{"matchers hold, tags do not", store.MaintenanceTargets{Matchers: []string{`alertname="DiskFull"`}, Tags: map[string]string{"env": "dev"}}, tags, false},
	} {
		w := mustWindow(t, store.MaintenanceWindow{Name: "w", Targets: tc.targets, Schedule: store.MaintenanceSchedule{
			Weekly: &store.Recurrence{Days: []string{"daily"}, Start: "00:00", Duration: "24h"}}})
		if got := w.Matches(ev, tc.tags); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
	noResources := &event.Event{Title: "x", Kind: event.KindAlert}
	w := mustWindow(t, store.MaintenanceWindow{Name: "w", Targets: store.MaintenanceTargets{ResourceIDs: []string{"i-123"}},
		Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"mon"}, Start: "00:00", Duration: "1h"}}})
	if w.Matches(noResources, tags) {
		t.Error("an event without resources matched a resource target")
	}
}

func TestValidateAndRecord(t *testing.T) {
	t.Parallel()
	start, end := rfc(t, "2026-02-01T10:00:00Z"), rfc(t, "2026-02-01T12:00:00Z")
	good := store.MaintenanceWindow{
		ID: "mw_1", TenantID: "acme", Name: "db-patching", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sun", "sat"}, Start: "02:00", Duration: "4h"}},
		Targets:  store.MaintenanceTargets{Matchers: []string{`alertname=~"Disk.*"`}, ResourceIDs: []string{"db-1"}, Tags: map[string]string{"tier": "db"}},
		Comment:  "monthly", CreatedBy: "token:a", CreatedAt: start,
	}
	w := mustWindow(t, good)
	back := w.Record()
	if !reflect.DeepEqual(back, good) {
		t.Errorf("Record round trip:\n got %+v\nwant %+v", back, good)
	}
	// The weekly schedule may repeat the window's zone.
	same := good
	same.Schedule.Weekly = &store.Recurrence{Days: []string{"sat"}, Start: "02:00", Duration: "4h", Timezone: "Europe/Berlin"}
	if _, err := FromRecord(same); err != nil {
		t.Errorf("weekly with the window's zone: %v", err)
	}
	utc := mustWindow(t, store.MaintenanceWindow{Name: "x", Targets: good.Targets, Schedule: store.MaintenanceSchedule{Start: &start, End: &end}})
	if utc.Timezone.String() != "UTC" || utc.Record().Timezone != "UTC" {
		t.Errorf("default zone = %s", utc.Timezone)
	}

	for _, tc := range []struct {
		name string
		mod  func(*store.MaintenanceWindow)
		want string
	}{
		{"unknown zone", func(r *store.MaintenanceWindow) { r.Timezone = "Europe/Atlantis" }, `timezone: unknown time zone "Europe/Atlantis"`},
		{"two zones", func(r *store.MaintenanceWindow) { r.Schedule.Weekly.Timezone = "UTC" }, `schedule.weekly.timezone: "UTC" differs from the window's timezone "Europe/Berlin"`},
		{"bad weekly", func(r *store.MaintenanceWindow) { r.Schedule.Weekly.Duration = "forever" }, `schedule.weekly.duration: "forever"`},
		{"both schedules", func(r *store.MaintenanceWindow) { r.Schedule.Start = &start }, "schedule: give start and end, or weekly, not both"},
		{"bad matcher", func(r *store.MaintenanceWindow) { r.Targets.Matchers = []string{`a="b"`, `oops`} }, "targets.matchers[1]: bad matcher `oops` at column 5"},
		{"no schedule", func(r *store.MaintenanceWindow) { r.Schedule = store.MaintenanceSchedule{} }, "schedule: give start and end"},
		{"end before start", func(r *store.MaintenanceWindow) {
			r.Schedule = store.MaintenanceSchedule{Start: &end, End: &start}
		}, "schedule.end: 2026-02-01T10:00:00Z is not after schedule.start 2026-02-01T12:00:00Z"},
		{"no targets", func(r *store.MaintenanceWindow) { r.Targets = store.MaintenanceTargets{} }, "targets: set at least one of matchers, resource_ids, tags or group"},
		{"matchers cover everything", func(r *store.MaintenanceWindow) {
			r.Targets = store.MaintenanceTargets{Matchers: []string{`env!="prod"`}}
		}, `targets.matchers: {env!="prod"} would cover every event`},
		{"empty resource id", func(r *store.MaintenanceWindow) { r.Targets.ResourceIDs = []string{" "} }, "targets.resource_ids[0]: is empty"},
		{"empty tag key", func(r *store.MaintenanceWindow) { r.Targets.Tags = map[string]string{"": "x"} }, "targets.tags: a tag key is empty"},
		{"no name", func(r *store.MaintenanceWindow) { r.Name = " " }, "name: is required"},
		{"name with newline", func(r *store.MaintenanceWindow) { r.Name = "a\nb" }, "name: \"a\\nb\" has control characters"},
		{"long name", func(r *store.MaintenanceWindow) { r.Name = strings.Repeat("x", 129) }, "name: is longer than 128"},
	} {
		r := good
		wk := *good.Schedule.Weekly
		r.Schedule.Weekly = &wk
		r.Targets.Matchers = append([]string(nil), good.Targets.Matchers...)
		tc.mod(&r)
		w, err := FromRecord(r)
		if err == nil {
			err = w.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSetMatch(t *testing.T) {
	t.Parallel()
	at := rfc(t, "2026-02-01T11:00:00Z")
	start, end := at.Add(-time.Hour), at.Add(time.Hour)
	oneOff := func(name string, targets store.MaintenanceTargets, s, e time.Time) store.MaintenanceWindow {
		return store.MaintenanceWindow{ID: "mw_" + name, Name: name, Targets: targets, Schedule: store.MaintenanceSchedule{Start: &s, End: &e}}
	}
	set, err := Compile([]store.MaintenanceWindow{
		oneOff("closed", store.MaintenanceTargets{Matchers: []string{`alertname="X"`}}, start.Add(-48*time.Hour), end.Add(-48*time.Hour)),
		oneOff("other", store.MaintenanceTargets{Matchers: []string{`alertname="Y"`}}, start, end),
		oneOff("open", store.MaintenanceTargets{Matchers: []string{`alertname="X"`}}, start, end),
		oneOff("broken", store.MaintenanceTargets{Matchers: []string{`alertname=~"("`}}, start, end),
		oneOff("also-open", store.MaintenanceTargets{ResourceIDs: []string{"h1"}}, start, end),
	})
	if err == nil || !strings.Contains(err.Error(), "maintenance window mw_broken (broken): targets.matchers[0]") {
		t.Errorf("Compile error = %v", err)
	}
	if set.Len() != 4 {
		t.Errorf("Len = %d, want the 4 that parse", set.Len())
	}
	ev := &event.Event{Kind: event.KindAlert, Title: "X", Resources: []event.ResourceRef{{ID: "h1"}}}
	if w, ok := set.Match(ev, at, nil); !ok || w.Name != "open" {
		t.Errorf("Match = %v %v, want open", w, ok)
	}
	if _, ok := set.Match(ev, end, nil); ok {
		t.Error("matched after every window closed")
	}
	ev.Title = "Z"
	if w, ok := set.Match(ev, at, nil); !ok || w.Name != "also-open" {
		t.Errorf("Match = %v %v, want also-open", w, ok)
	}
}

func BenchmarkSetMatch(b *testing.B) {
	var recs []store.MaintenanceWindow
	for i := range 100 {
		recs = append(recs, store.MaintenanceWindow{ID: fmt.Sprint(i), Name: fmt.Sprint(i), Timezone: "Europe/Berlin",
			Targets:  store.MaintenanceTargets{Matchers: []string{fmt.Sprintf(`instance=~"db-%d:.*"`, i)}},
			Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"daily"}, Start: "00:00", Duration: "24h"}}})
	}
	set, err := Compile(recs)
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{Kind: event.KindAlert, Title: "DiskFull", Labels: map[string]string{"instance": "web-1:9100"}}
	at := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := set.Match(ev, at, nil); ok {
			b.Fatal("matched")
		}
	}
}
