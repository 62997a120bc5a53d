package cost

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustCompile(t *testing.T, name string, s Spec) *Schedule {
	t.Helper()
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if len(s.Targets.Tags) == 0 && s.Targets.ScheduleTag == "" {
		s.Targets.ScheduleTag = "Schedule"
	}
	sc, err := Compile("acme", name, &s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func officeHours(t *testing.T, tz string, holidays HolidaySpec) *Schedule {
	return mustCompile(t, "office-hours", Spec{Timezone: tz, Holidays: holidays,
		Periods: []PeriodSpec{{Begin: "08:00", End: "19:00", Weekdays: []string{"mon-fri"}}}})
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The instants are UTC, converted by hand from the local times in the
// comments with the zone's published offsets (CET = UTC+1, CEST = UTC+2
// from 29 March 2026; EDT = UTC-4 until 1 November 2026, EST = UTC-5).
func TestOfficeHoursAcrossZonesAndDST(t *testing.T) {
	t.Parallel()
	berlin := officeHours(t, "Europe/Berlin", HolidaySpec{})
	ny := officeHours(t, "America/New_York", HolidaySpec{})
	cases := []struct {
		s    *Schedule
		at   string
		want string
		why  string
	}{
		{berlin, "2026-12-07T06:59:00Z", Stopped, "Mon 07:59 CET"},
		{berlin, "2026-12-07T07:00:00Z", Running, "Mon 08:00 CET"},
		{berlin, "2026-12-07T17:59:00Z", Running, "Mon 18:59 CET"},
		{berlin, "2026-12-07T18:00:00Z", Stopped, "Mon 19:00 CET"},
		{berlin, "2026-12-12T10:00:00Z", Stopped, "Sat 11:00 CET"},
		{berlin, "2026-03-27T06:30:00Z", Stopped, "Fri 07:30 CET, before the change"},
		{berlin, "2026-03-27T07:00:00Z", Running, "Fri 08:00 CET"},
		{berlin, "2026-03-30T06:00:00Z", Running, "Mon 08:00 CEST, after the change"},
		{berlin, "2026-03-30T05:59:00Z", Stopped, "Mon 07:59 CEST"},
		{berlin, "2026-03-30T17:00:00Z", Stopped, "Mon 19:00 CEST"},
		{berlin, "2026-10-26T07:00:00Z", Running, "Mon 08:00 CET after the fall-back"},
		{berlin, "2026-10-26T06:00:00Z", Stopped, "Mon 07:00 CET"},
		{ny, "2026-10-30T12:00:00Z", Running, "Fri 08:00 EDT"},
		{ny, "2026-10-30T11:59:00Z", Stopped, "Fri 07:59 EDT"},
		{ny, "2026-11-02T12:30:00Z", Stopped, "Mon 07:30 EST"},
		{ny, "2026-11-02T13:00:00Z", Running, "Mon 08:00 EST"},
		{ny, "2026-11-02T23:59:00Z", Running, "Mon 18:59 EST"},
		{ny, "2026-11-03T00:00:00Z", Stopped, "Mon 19:00 EST"},
	}
	for _, c := range cases {
		if got := c.s.At(utc(c.at)); got.State != c.want {
			t.Errorf("%s at %s (%s) = %+v, want %s", c.s.Location(), c.at, c.why, got, c.want)
		}
	}
}

// The development-environment case of issue 18: office hours on a 24x7
// instance. Counted by hand: five days of 11 hours run, 55 of the week's
// 168 hours, so 113 hours (67.26 %) are saved.
func TestOfficeHoursSaveTwoThirds(t *testing.T) {
	t.Parallel()
	const running, week = 5 * 11.0, 7 * 24.0
	wantPct := 100 * (week - running) / week
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"} {
		s := officeHours(t, tz, HolidaySpec{})
		loc := s.Location()
		from := time.Date(2026, 12, 7, 0, 0, 0, 0, loc) // a Monday, no clock change that week
		u := s.Usage(from, from.AddDate(0, 0, 7))
		if u.Hours != week || u.RunningHours != running || math.Abs(u.SavedPercent-wantPct) > 1e-9 {
			t.Errorf("%s: %+v, want %v of %v hours running, %.2f %% saved", tz, u, running, week, wantPct)
		}
		if math.Round(u.SavedPercent) != 67 {
			t.Errorf("%s: saved %.2f %%, the issue's ≈ 67 %%", tz, u.SavedPercent)
		}
	}
	// The week of the spring-forward change in Berlin (Sunday 29 March
	// 2026, 02:00 → 03:00) has 167 hours; the office hours are the same.
	s := officeHours(t, "Europe/Berlin", HolidaySpec{})
	from := time.Date(2026, 3, 23, 0, 0, 0, 0, s.Location())
	u := s.Usage(from, from.AddDate(0, 0, 7))
	if u.Hours != 167 || u.RunningHours != 55 || u.SavedHours != 112 {
		t.Errorf("DST week: %+v, want 55 of 167 hours running", u)
	}
}

// The seed's 76 %: an eight-hour working day, Mon–Fri 08:00–16:00, runs
// 40 of 168 hours (23.8 %), saving 128 hours, 76.2 %.
func TestSeedSeventySixPercent(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, "working-day", Spec{Timezone: "Europe/London",
		Periods: []PeriodSpec{{Begin: "08:00", End: "16:00", Weekdays: []string{"mon-fri"}}}})
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, s.Location())
	u := s.Usage(from, from.AddDate(0, 0, 7))
	if u.RunningHours != 40 || math.Round(u.SavedPercent) != 76 {
		t.Errorf("%+v, want 40 running hours and 76 %% saved", u)
	}
}

const christmasICal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//holidays//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:xmas@example\r\nDTSTART;VALUE=DATE:20241224\r\nDTEND;VALUE=DATE:20241227\r\n" +
	"RRULE:FREQ=YEARLY\r\nSUMMARY:Christmas\\, Boxing Day\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:nye@example\r\nDTSTART;VALUE=DATE:20261231\r\nSUMMARY:New Year's\r\n  Eve\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

// Holidays from an iCalendar text: 24–26 December every year (a
// three-day event repeated yearly from 2024) and 31 December 2026 (a
// folded SUMMARY). December 2026 has 23 weekdays (Tue 1st to Thu 31st);
// 24, 25 and 31 December are weekday holidays, so 20 days of 11 hours run
// out of the month's 744 hours.
func TestHolidaysFromICal(t *testing.T) {
	t.Parallel()
	s := officeHours(t, "Europe/Berlin", HolidaySpec{ICal: christmasICal, Dates: []string{"2026-12-08"}})
	if d := s.At(utc("2026-12-24T09:00:00Z")); d.State != Stopped || !strings.Contains(d.Reason, "Christmas, Boxing Day") {
		t.Errorf("Thu 24 Dec 10:00 CET = %+v, want stopped for the holiday", d)
	}
	if d := s.At(utc("2026-12-31T09:00:00Z")); d.State != Stopped || d.Reason != "holiday: New Year's Eve" {
		t.Errorf("31 Dec = %+v", d)
	}
	if d := s.At(utc("2026-12-23T09:00:00Z")); d.State != Running {
		t.Errorf("Wed 23 Dec = %+v, want running", d)
	}
	// The holiday is the local date: 23:30 UTC on the 23rd is 00:30 on
	// the 24th in Berlin.
	if d := s.At(utc("2026-12-23T23:30:00Z")); !strings.HasPrefix(d.Reason, "holiday") {
		t.Errorf("00:30 CET on the 24th = %+v, want the holiday", d)
	}
	from, to := s.Month(utc("2026-12-15T12:00:00Z"))
	u := s.Usage(from, to)
	const wantRun = (23 - 3 - 1) * 11.0 // and 8 December, a Tuesday, from dates
	if u.Hours != 744 || u.RunningHours != wantRun {
		t.Errorf("December: %+v, want %v of 744 hours running", u, wantRun)
	}
}

func TestPeriodsDayFilters(t *testing.T) {
	t.Parallel()
	// Month-end batch: runs all day on the last day of the month and on
	// the 1st–3rd, in the first quarter only.
	s := mustCompile(t, "month-end", Spec{Periods: []PeriodSpec{{MonthDays: []string{"L", "1-3"}, Months: []string{"jan-mar"}}}})
	for at, want := range map[string]string{
		"2026-01-31T12:00:00Z": Running, "2026-02-28T00:00:00Z": Running, "2026-02-27T23:59:00Z": Stopped,
		"2026-03-02T05:00:00Z": Running, "2026-03-04T05:00:00Z": Stopped, "2026-04-30T12:00:00Z": Stopped,
		"2028-02-29T12:00:00Z": Running, "2028-02-28T12:00:00Z": Stopped,
	} {
		if got := s.At(utc(at)); got.State != want {
			t.Errorf("%s = %+v, want %s", at, got, want)
		}
	}
	// Only a begin: from then to midnight; only an end: from midnight.
	s = mustCompile(t, "split", Spec{Periods: []PeriodSpec{{Begin: "22:00", Weekdays: []string{"fri"}}, {End: "02:00", Weekdays: []string{"sat"}}}})
	for at, want := range map[string]string{"2026-12-11T21:59:00Z": Stopped, "2026-12-11T22:00:00Z": Running,
		"2026-12-12T01:59:00Z": Running, "2026-12-12T02:00:00Z": Stopped} {
		if got := s.At(utc(at)); got.State != want {
			t.Errorf("%s = %+v, want %s", at, got, want)
		}
	}
}

func TestOverrideAndTargets(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, "office-hours", Spec{Periods: []PeriodSpec{{Begin: "08:00", End: "19:00"}},
		Override: &OverrideSpec{State: Running, Until: "2026-12-12T06:00:00Z"},
		Targets:  TargetSpec{Tags: map[string]string{"env": "dev"}, ScheduleTag: "Schedule"}})
	if d := s.At(utc("2026-12-12T03:00:00Z")); d.State != Running || !strings.HasPrefix(d.Reason, "override") {
		t.Errorf("under the override: %+v", d)
	}
	if d := s.At(utc("2026-12-12T06:00:00Z")); d.State != Stopped {
		t.Errorf("when the override ends: %+v", d)
	}
	for _, c := range []struct {
		tags map[string]string
		want bool
	}{
		{map[string]string{"env": "dev"}, true},
		{map[string]string{"env": "prod"}, false},
		{map[string]string{"Schedule": "office-hours"}, true},
		{map[string]string{"Schedule": "other"}, false},
		{map[string]string{"env": "dev", DefaultOptOutTag: "true"}, false},
		{map[string]string{"Schedule": "office-hours", DefaultOptOutTag: ""}, false},
		{map[string]string{"env": "dev", DefaultOptOutTag: "false"}, true},
		{nil, false},
	} {
		if got := s.Targets(c.tags); got != c.want {
			t.Errorf("Targets(%v) = %v", c.tags, got)
		}
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Timezone: "Mars/Olympus"}, `timezone: "Mars/Olympus" is not an IANA time zone`},
		{Spec{Timezone: "UTC"}, "periods: is empty"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{Begin: "19:00", End: "08:00"}}}, "periods[0]: end 08:00 is not after begin 19:00"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{Begin: "8am"}}}, `periods[0].begin: time of day "8am"`},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{Weekdays: []string{"funday"}}}}, "periods[0].weekdays[0]"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{MonthDays: []string{"32"}}}}, `periods[0].monthdays[0]: "32" is not a number from 1 to 31`},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{Months: []string{"dec-jan"}}}}, "periods[0].months[0]: range"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{}}, Holidays: HolidaySpec{Dates: []string{"24.12.2026"}}}, "holidays.dates[0]"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{}}, Holidays: HolidaySpec{ICal: "BEGIN:VEVENT"}}, "holidays.ical: ical: no BEGIN:VCALENDAR"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{}}, Override: &OverrideSpec{State: "paused", Until: "tomorrow"}}, `override.state: "paused"`},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{}}}, "targets: selects nothing"},
		{Spec{Timezone: "UTC", Periods: []PeriodSpec{{}}, Units: []string{"nginx; rm -rf /"}}, "units[0]"},
	} {
		_, err := Compile("", "x", &c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
}

func TestICalErrors(t *testing.T) {
	t.Parallel()
	wrap := func(body string) string { return "BEGIN:VCALENDAR\n" + body + "END:VCALENDAR\n" }
	for _, c := range []struct{ in, want string }{
		{wrap("BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n"), "ical line 2: VEVENT has no DTSTART"},
		{wrap("BEGIN:VEVENT\nDTSTART:2026-12-24\nEND:VEVENT\n"), "ical line 3: DTSTART"},
		{wrap("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n"), "ical line 4: RRULE"},
		{wrap("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nRRULE:FREQ=YEARLY;BYDAY=MO\nEND:VEVENT\n"), "BYDAY is not supported"},
		{wrap("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\n"), "VEVENT not ended"},
		{wrap("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20270101\nEND:VEVENT\n"), "is not a holiday"},
	} {
		_, err := ParseICal(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
	hs, err := ParseICal(wrap("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250101\nRRULE:FREQ=YEARLY;COUNT=3\nSUMMARY:New Year\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20260501T000000\nDTEND;TZID=Europe/Berlin:20260501T235900\nSUMMARY:Labour Day\nEND:VEVENT\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hs {
		got = append(got, h.Date+" "+h.Name)
	}
	if want := "2025-01-01 New Year,2026-01-01 New Year,2027-01-01 New Year,2026-05-01 Labour Day"; strings.Join(got, ",") != want {
		t.Errorf("holidays = %s, want %s", strings.Join(got, ","), want)
	}
}

func FuzzParseICal(f *testing.F) {
	f.Add(christmasICal)
	f.Add("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T100000Z\nRRULE:FREQ=YEARLY;UNTIL=20300101\nEND:VEVENT\nEND:VCALENDAR")
	f.Fuzz(func(t *testing.T, s string) {
		hs, err := ParseICal(s)
		if err != nil {
			return
		}
		if len(hs) > maxHolidays {
			t.Fatalf("%d holidays", len(hs))
		}
		for _, h := range hs {
			if _, err := time.Parse(holidayLayout, h.Date); err != nil {
				t.Fatalf("holiday date %q: %v", h.Date, err)
			}
		}
	})
}
