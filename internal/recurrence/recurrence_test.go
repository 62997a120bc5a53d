package recurrence

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseAndString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"sat,sun 02:00 4h", "sun,sat 02:00 4h"},
		{"mon-fri 22:30 1h30m", "mon,tue,wed,thu,fri 22:30 1h30m"},
		{"daily 03:00 30m", "daily 03:00 30m"},
		{"* 0:05 90m", "daily 00:05 1h30m"},
		{"Friday-Mon 23:59 168h", "sun,mon,fri,sat 23:59 168h"},
		{"SUN,sun,Sunday 12:00 1m", "sun 12:00 1m"},
		{"mon-sun 00:00 1h", "daily 00:00 1h"},
	} {
		w, err := Parse(tc.in, nil)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := w.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		again, err := Parse(w.String(), nil)
		if err != nil || again.String() != w.String() {
			t.Errorf("round trip of %q: %v, %v", w.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "want \"DAYS HH:MM DURATION\""},
		{"sat 02:00", "want \"DAYS HH:MM DURATION\""},
		{"sat 02:00 4h extra", "want \"DAYS HH:MM DURATION\""},
		{"caturday 02:00 4h", `"caturday" is not a day of the week`},
		{"sat,,sun 02:00 4h", "empty day"},
		{"sat 24:00 4h", `time of day "24:00"`},
		{"sat 2:0 4h", `time of day "2:0"`},
		{"sat 02:60 4h", `time of day "02:60"`},
		{"sat -1:00 4h", `time of day "-1:00"`},
		{"sat 02:00 soon", `duration "soon"`},
		{"sat 02:00 0s", "must be positive"},
		{"sat 02:00 -1h", "must be positive"},
		{"sat 02:00 169h", "at most 168h"},
	} {
		_, err := Parse(tc.in, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	if _, err := LoadLocation("Mars/Olympus_Mons"); err == nil || !strings.Contains(err.Error(), "IANA") {
		t.Errorf("LoadLocation of an unknown zone: %v", err)
	}
	if _, err := LoadLocation("Local"); err == nil {
		t.Error("LoadLocation(Local) must be refused: it depends on the server's settings")
	}
}

// TestActiveAt walks schedules across midnight, week ends and the
// daylight-saving changes of Europe/Berlin (last Sunday of March and
// October) and America/New_York (second Sunday of March, first of
// November).
func TestActiveAt(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type probe struct {
		at   string // RFC3339
		want bool
	}
	for _, tc := range []struct {
		name   string
		spec   string
		loc    *time.Location
		probes []probe
	}{
		{"plain weekend window", "sat,sun 02:00 4h", berlin, []probe{
			{"2026-01-10T01:59:59+01:00", false}, // Saturday
			{"2026-01-10T02:00:00+01:00", true},
			{"2026-01-10T05:59:59+01:00", true},
			{"2026-01-10T06:00:00+01:00", false},
			{"2026-01-11T03:00:00+01:00", true},  // Sunday
			{"2026-01-12T03:00:00+01:00", false}, // Monday
			{"2026-01-10T01:30:00Z", true},       // 02:30 Berlin, given in UTC
		}},
		{"spans midnight into the next day", "sat 22:00 4h", berlin, []probe{
			{"2026-01-10T21:59:00+01:00", false},
			{"2026-01-10T22:00:00+01:00", true},
			{"2026-01-11T00:00:00+01:00", true}, // Sunday, slot started Saturday
			{"2026-01-11T01:59:59+01:00", true},
			{"2026-01-11T02:00:00+01:00", false},
			{"2026-01-11T22:30:00+01:00", false}, // Sunday evening is not a start day
		}},
		{"spans the week end", "sun 23:00 2h", berlin, []probe{
			{"2026-01-11T23:30:00+01:00", true},
			{"2026-01-12T00:59:00+01:00", true}, // Monday
			{"2026-01-12T01:00:00+01:00", false},
		}},
		{"whole week", "mon 00:00 168h", time.UTC, []probe{
			{"2026-01-05T00:00:00Z", true},
			{"2026-01-11T23:59:59Z", true},
			{"2026-01-12T00:00:00Z", true}, // the next slot starts as one ends
		}},
		{"six days crossing the week", "fri 12:00 144h", time.UTC, []probe{
			{"2026-01-09T11:59:00Z", false},
			{"2026-01-14T11:59:00Z", true}, // Wednesday, five days in
			{"2026-01-15T11:59:00Z", true}, // Thursday
			{"2026-01-15T12:00:00Z", false},
		}},
		// Berlin springs forward on 2026-03-29 at 02:00 CET → 03:00 CEST.
		{"spring forward: slot over the gap keeps its elapsed length", "sun 01:00 4h", berlin, []probe{
			{"2026-03-29T00:59:00+01:00", false},
			{"2026-03-29T01:00:00+01:00", true},
			{"2026-03-29T05:59:00+02:00", true}, // four real hours = 06:00 CEST
			{"2026-03-29T06:00:00+02:00", false},
		}},
		{"spring forward: a skipped start moves later by the gap", "sun 02:30 1h", berlin, []probe{
			{"2026-03-29T03:29:00+02:00", false},
			{"2026-03-29T03:30:00+02:00", true},
			{"2026-03-29T04:29:00+02:00", true},
			{"2026-03-29T04:30:00+02:00", false},
			{"2026-04-05T02:30:00+02:00", true}, // next week: normal again
		}},
		{"spring forward: wall clock kept after the change", "daily 09:00 1h", berlin, []probe{
			{"2026-03-28T09:00:00+01:00", true},
			{"2026-03-29T09:00:00+02:00", true},
			{"2026-03-29T08:00:00+01:00", true}, // the same instant as 09:00 CEST
			{"2026-03-30T08:30:00+02:00", false},
		}},
		// Berlin falls back on 2026-10-25 at 03:00 CEST → 02:00 CET.
		{"fall back: a repeated start uses its first occurrence", "sun 02:30 30m", berlin, []probe{
			{"2026-10-25T02:29:00+02:00", false},
			{"2026-10-25T02:30:00+02:00", true},
			{"2026-10-25T02:59:00+02:00", true},
			{"2026-10-25T02:00:00+01:00", false}, // the second 02:00
			{"2026-10-25T02:30:00+01:00", false}, // the second 02:30
		}},
		{"fall back: slot over the change keeps its elapsed length", "sun 01:00 3h", berlin, []probe{
			{"2026-10-25T01:00:00+02:00", true},
			{"2026-10-25T02:59:00+01:00", true}, // 3h elapsed from 01:00 CEST end at 03:00 CET
			{"2026-10-25T03:00:00+01:00", false},
		}},
		{"New York spring forward", "sun 02:15 1h", ny, []probe{
			{"2026-03-08T01:59:00-05:00", false},
			{"2026-03-08T03:15:00-04:00", true}, // 02:15 does not exist; read as EST
			{"2026-03-08T04:14:00-04:00", true},
			{"2026-03-08T04:15:00-04:00", false},
		}},
		{"New York fall back", "sun 01:30 30m", ny, []probe{
			{"2026-11-01T01:30:00-04:00", true},  // first 01:30 (EDT)
			{"2026-11-01T01:45:00-05:00", false}, // second 01:45 (EST)
		}},
		{"New York midnight-spanning over fall back", "sat 23:00 4h", ny, []probe{
			{"2026-10-31T23:00:00-04:00", true},
			{"2026-11-01T01:59:00-05:00", true}, // 4 elapsed hours end at 02:00 EST
			{"2026-11-01T02:00:00-05:00", false},
		}},
	} {
		w, err := Parse(tc.spec, tc.loc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, p := range tc.probes {
			if got := w.ActiveAt(utc(p.at)); got != p.want {
				t.Errorf("%s: %q in %s: ActiveAt(%s) = %v, want %v", tc.name, tc.spec, w.Zone(), p.at, got, p.want)
			}
		}
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	w, err := Parse("sat 22:00 4h", berlin)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 7, 12, 0, 0, 0, berlin) // Wednesday
	s, e, ok := w.Next(at)
	want := time.Date(2026, 1, 10, 22, 0, 0, 0, berlin)
	if !ok || !s.Equal(want) || !e.Equal(want.Add(4*time.Hour)) {
		t.Errorf("Next(%s) = %s–%s %v, want %s", at, s, e, ok, want)
	}
	// During a slot, Next returns the running slot.
	in := time.Date(2026, 1, 11, 1, 0, 0, 0, berlin)
	if s, _, _ := w.Next(in); !s.Equal(want) {
		t.Errorf("Next(%s) = %s, want the running slot %s", in, s, want)
	}
	if _, _, ok := (Weekly{}).Next(at); ok {
		t.Error("the zero schedule has a next slot")
	}
	if (Weekly{}).ActiveAt(at) {
		t.Error("the zero schedule is active")
	}
}

func BenchmarkActiveAt(b *testing.B) {
	loc, _ := LoadLocation("Europe/Berlin")
	w, _ := Parse("mon-fri 22:00 4h", loc)
	at := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		w.ActiveAt(at)
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	w, err := FromRecord(Record{Days: []string{"sat", "Sunday", "mon-tue"}, Start: "22:00", Duration: "4h"}, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	r := w.Record()
	if got := strings.Join(r.Days, ","); got != "sun,mon,tue,sat" || r.Start != "22:00" || r.Duration != "4h" || r.Timezone != "Europe/Berlin" {
		t.Errorf("Record = %+v", r)
	}
	back, err := FromRecord(r, "")
	if err != nil || back.String() != w.String() || back.Zone() != "Europe/Berlin" {
		t.Errorf("round trip = %v %s, %v", back, back.Zone(), err)
	}
	utc, err := FromRecord(Record{Days: []string{"mon"}, Start: "00:00", Duration: "1h"}, "")
	if err != nil || utc.Zone() != "UTC" {
		t.Errorf("default zone = %q, %v", utc.Zone(), err)
	}
	for _, tc := range []struct {
		r    Record
		want string
	}{
		{Record{Start: "02:00", Duration: "1h"}, "days: at least one day"},
		{Record{Days: []string{"someday"}, Start: "02:00", Duration: "1h"}, "days: \"someday\" is not a day"},
		{Record{Days: []string{"mon"}, Start: "2am", Duration: "1h"}, "start: time of day \"2am\""},
		{Record{Days: []string{"mon"}, Start: "02:00", Duration: "an hour"}, "duration: \"an hour\" is not a duration"},
		{Record{Days: []string{"mon"}, Start: "02:00", Duration: "200h"}, "duration: duration 200h must be positive and at most 168h"},
		{Record{Days: []string{"mon"}, Start: "02:00", Duration: "1h", Timezone: "Europe/Bärlin"}, "timezone: unknown time zone \"Europe/Bärlin\""},
	} {
		if _, err := FromRecord(tc.r, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromRecord(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}
}
