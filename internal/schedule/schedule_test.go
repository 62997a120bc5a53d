package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustParse(t *testing.T, expr string, o Options) Schedule {
	t.Helper()
	s, err := Parse(expr, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNextAcrossDST lists starts across both daylight-saving changes of
// Europe/Berlin and America/New_York: every local day runs exactly once,
// a skipped time runs that much later, a repeated time once, at its first
// occurrence.
func TestNextAcrossDST(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, zone, expr string
		offset           int
		from             string
		want             []string
	}{
		{"Berlin spring forward, daily 02:30", "Europe/Berlin", "30 2 * * *", 0, "2026-03-27T00:00:00+01:00", []string{
			"2026-03-27T02:30:00+01:00", "2026-03-28T02:30:00+01:00",
			"2026-03-29T03:30:00+02:00", // 02:30 does not exist that night
			"2026-03-30T02:30:00+02:00"}},
		{"Berlin fall back, daily 02:30", "Europe/Berlin", "cron(30 2 * * ? *)", 0, "2026-10-24T00:00:00+02:00", []string{
			"2026-10-24T02:30:00+02:00",
			"2026-10-25T02:30:00+02:00", // the first of the two 02:30s, not both
			"2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"}},
		{"New York spring forward, daily 02:00", "America/New_York", "0 2 * * *", 0, "2026-03-07T00:00:00-05:00", []string{
			"2026-03-07T02:00:00-05:00",
			"2026-03-08T03:00:00-04:00", // 02:00 skipped
			"2026-03-09T02:00:00-04:00"}},
		{"New York fall back, hourly", "America/New_York", "0 * * * *", 0, "2026-11-01T00:00:00-04:00", []string{
			"2026-11-01T01:00:00-04:00", // 01:00 EDT; 01:00 EST (the repeat) does not run again
			"2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"New York spring forward, every 30 minutes", "America/New_York", "*/30 1-3 * * *", 0, "2026-03-08T01:00:00-05:00", []string{
			"2026-03-08T01:30:00-05:00",
			"2026-03-08T03:00:00-04:00", // 02:00 → 03:00 EDT
			"2026-03-08T03:30:00-04:00", // 02:30 → 03:30; 03:00 and 03:30 are the same instants, not repeated
			"2026-03-09T01:00:00-04:00"}},
		{"SSM third Tuesday 23:30, offset 2 days", "Europe/Berlin", "cron(30 23 ? * TUE#3 *)", 2, "2026-03-01T00:00:00+01:00", []string{
			"2026-03-19T23:30:00+01:00", // Tue 17 March + 2 days
			"2026-04-23T23:30:00+02:00", // Tue 21 April + 2
			"2026-05-21T23:30:00+02:00"}},
		{"SSM offset across the month end", "UTC", "cron(0 4 L * ? *)", 3, "2026-01-01T00:00:00Z", []string{
			"2026-01-03T04:00:00Z", "2026-02-03T04:00:00Z", "2026-03-03T04:00:00Z"}}, // 31 Dec + 3, 31 Jan + 3, 28 Feb + 3
		{"SSM last Friday, numeric days (6 is Friday)", "UTC", "cron(0 9 ? * 6L *)", 0, "2026-01-01T00:00:00Z", []string{
			"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-27T09:00:00Z"}},
		{"SSM weekdays, 1 is Sunday", "UTC", "cron(0 18 ? * 2-6 *)", 0, "2026-01-02T19:00:00Z", []string{
			"2026-01-05T18:00:00Z", "2026-01-06T18:00:00Z"}}, // Friday 2 Jan evening → Monday
		{"SSM year field", "UTC", "cron(0 0 1 1 ? 2027-2028)", 0, "2026-01-01T00:00:00Z", []string{
			"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"standard cron: day fields either match", "UTC", "0 12 13 * fri", 0, "2026-02-01T00:00:00Z", []string{
			"2026-02-06T12:00:00Z", "2026-02-13T12:00:00Z", "2026-02-20T12:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.expr, Options{Location: mustLoc(t, tc.zone), OffsetDays: tc.offset})
			got := Upcoming(s, at(t, tc.from), len(tc.want))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d starts %v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				if !got[i].Equal(at(t, w)) {
					t.Errorf("start %d: %s, want %s", i, got[i].In(mustLoc(t, tc.zone)).Format(time.RFC3339), w)
				}
			}
		})
	}
}

// TestDailyOnceAYear runs a daily 02:30 schedule over a whole year in both
// zones: 365 starts, one per local date, none missing, none twice.
func TestDailyOnceAYear(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Europe/Berlin", "America/New_York"} {
		loc := mustLoc(t, zone)
		s := mustParse(t, "cron(30 2 * * ? *)", Options{Location: loc})
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		starts := Upcoming(s, from, 365)
		seen := map[string]bool{}
		for _, st := range starts {
			d := st.In(loc).Format("2006-01-02")
			if seen[d] {
				t.Errorf("%s: %s runs twice", zone, d)
			}
			seen[d] = true
		}
		if len(seen) != 365 || !strings.HasPrefix(starts[364].In(loc).Format(time.RFC3339), "2026-12-31T02:30") {
			t.Errorf("%s: %d distinct days, last %s", zone, len(seen), starts[len(starts)-1])
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	anchor := at(t, "2026-03-28T22:00:00+01:00")
	s := mustParse(t, "rate(12 hours)", Options{Location: mustLoc(t, "Europe/Berlin"), Anchor: anchor})
	got := Upcoming(s, anchor.Add(-time.Minute), 3)
	// Elapsed time: across the spring change the wall clock moves an hour.
	want := []string{"2026-03-28T22:00:00+01:00", "2026-03-29T11:00:00+02:00", "2026-03-29T23:00:00+02:00"}
	for i, w := range want {
		if !got[i].Equal(at(t, w)) {
			t.Errorf("start %d: %s, want %s", i, got[i], w)
		}
	}
	if n, _ := s.Next(anchor); !n.Equal(anchor.Add(12 * time.Hour)) {
		t.Errorf("next after the anchor itself: %s", n)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	anchor := time.Unix(0, 0)
	for expr, want := range map[string]string{
		"":                        "empty",
		"* * * *":                 "want 5 fields",
		"61 * * * *":              "minute field",
		"0 25 * * *":              "hour field",
		"0 0 * 13 *":              "month field",
		"@daily":                  "descriptors",
		"CRON_TZ=UTC 0 0 * * *":   "TZ=",
		"cron(0 0 * * *)":         "6 fields",
		"cron(0 0 ? * ? *)":       "both ?",
		"cron(0 0 1 * MON *)":     "one of them must be ?",
		"cron(0 0 3W * ? *)":      "day-of-month field \"3W\": W",
		"cron(0 0 L-2 * ? *)":     "day-of-month field \"L-2\"",
		"cron(0 0 ? * 8 *)":       "day-of-week field \"8\"",
		"cron(0 0 ? * TUE#6 *)":   "DAY#N",
		"cron(0 0 1 * ? 1969)":    "year field",
		"rate(5 weeks)":           "rate unit",
		"rate(1 hours)":           "singular",
		"rate(2 day)":             "plural",
		"rate(0 days)":            "positive",
		"rate(400 days)":          "longer than a year",
		"at(2026-01-01T00:00:00)": "not supported",
	} {
		_, err := Parse(expr, Options{Anchor: anchor})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", expr, err, want)
		}
	}
	if _, err := Parse("rate(1 day)", Options{Anchor: anchor, OffsetDays: 1}); err == nil || !strings.Contains(err.Error(), "schedule_offset") {
		t.Errorf("offset with rate: %v", err)
	}
	if _, err := Parse("0 0 * * *", Options{OffsetDays: 7}); err == nil || !strings.Contains(err.Error(), "schedule_offset") {
		t.Errorf("offset 7: %v", err)
	}
}

// TestWindowOpenings covers duration, cutoff, start and end dates, the
// opening in force at a time and the openings missed between two looks.
func TestWindowOpenings(t *testing.T) {
	t.Parallel()
	loc := mustLoc(t, "Europe/Berlin")
	w := Window{Schedule: mustParse(t, "0 22 * * *", Options{Location: loc}), Duration: 4 * time.Hour, Cutoff: time.Hour,
		StartDate: at(t, "2026-03-27T00:00:00+01:00"), EndDate: at(t, "2026-03-30T00:00:00+02:00")}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	ups := w.Upcoming(at(t, "2026-01-01T00:00:00Z"), 10)
	if len(ups) != 3 || !ups[0].Start.Equal(at(t, "2026-03-27T22:00:00+01:00")) || !ups[2].Start.Equal(at(t, "2026-03-29T22:00:00+02:00")) {
		t.Fatalf("openings within the dates: %+v", ups)
	}
	if o := ups[1]; !o.End.Equal(at(t, "2026-03-29T02:00:00+01:00")) || !o.CutoffAt.Equal(at(t, "2026-03-29T01:00:00+01:00")) {
		t.Errorf("end and cutoff of the 28th: %+v", o)
	}
	// The 28th's opening runs over the spring change: 4 real hours, to
	// 03:00 CEST.
	if o, ok := w.At(at(t, "2026-03-29T02:59:00+02:00")); !ok || !o.Start.Equal(ups[1].Start) {
		t.Errorf("open at 01:59 CET: %+v %v", o, ok)
	}
	if _, ok := w.At(at(t, "2026-03-29T03:00:00+02:00")); ok {
		t.Error("still open at its end")
	}
	if _, ok := w.At(at(t, "2026-03-26T23:00:00+01:00")); ok {
		t.Error("open before the start date")
	}
	if _, ok := w.NextOpening(ups[2].Start); ok {
		t.Error("an opening after the end date")
	}
	// Down from the 27th 21:00 to the 29th 23:30: three openings passed,
	// the latest is still before its cutoff.
	missed := w.Between(at(t, "2026-03-27T21:00:00+01:00"), at(t, "2026-03-29T23:30:00+02:00"), 10)
	if len(missed) != 3 || !missed[2].Start.Equal(ups[2].Start) {
		t.Fatalf("between: %+v", missed)
	}
	if capped := w.Between(at(t, "2026-03-27T21:00:00+01:00"), at(t, "2026-03-29T23:30:00+02:00"), 2); len(capped) != 2 || !capped[1].Start.Equal(ups[2].Start) {
		t.Errorf("between, at most 2: %+v", capped)
	}
	bad := Window{Schedule: w.Schedule, Duration: time.Hour, Cutoff: time.Hour, StartDate: w.EndDate, EndDate: w.StartDate}
	err := bad.Validate()
	for _, want := range []string{"cutoff:", "end_date:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
}
