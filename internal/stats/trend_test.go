package stats

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestBucketAlignment holds the buckets against the EU summer-time rule
// (clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC on the last Sunday
// of March, back at 01:00 UTC on the last Sunday of October: 29 March and
// 25 October 2026), ISO weeks (Monday first) and a half-hour zone.
func TestBucketAlignment(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	kolkata := mustZone(t, "Asia/Kolkata") // UTC+05:30, no DST

	// Days around the spring change: midnight is 23:00 UTC before it and
	// 22:00 UTC after, so 29 March lasts 23 hours.
	got := Buckets(utc("2026-03-28T12:00:00Z"), utc("2026-03-31T00:00:00Z"), Day, berlin)
	want := []string{"2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z"}
	if len(got) != len(want) {
		t.Fatalf("spring days: %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(utc(want[i])) {
			t.Errorf("spring day %d starts %s, want %s", i, got[i].UTC().Format(time.RFC3339), want[i])
		}
	}
	if d := Next(got[1], Day, berlin).Sub(got[1]); d != 23*time.Hour {
		t.Errorf("29 March in Berlin lasts %s, want 23h", d)
	}
	// Autumn: 25 October runs from 22:00 UTC on the 24th to 23:00 UTC on the 25th.
	oct25 := Floor(utc("2026-10-25T12:00:00Z"), Day, berlin)
	if !oct25.Equal(utc("2026-10-24T22:00:00Z")) {
		t.Errorf("25 October starts %s", oct25.UTC())
	}
	if d := Next(oct25, Day, berlin).Sub(oct25); d != 25*time.Hour {
		t.Errorf("25 October in Berlin lasts %s, want 25h", d)
	}

	// Hours: 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC) are two
	// different hours that both read 02:00.
	for _, tc := range []struct{ at, want string }{
		{"2026-10-25T00:30:00Z", "2026-10-25T00:00:00Z"},
		{"2026-10-25T01:30:00Z", "2026-10-25T01:00:00Z"},
	} {
		f := Floor(utc(tc.at), Hour, berlin)
		if !f.Equal(utc(tc.want)) || f.Format("15:04") != "02:00" {
			t.Errorf("hour of %s = %s (%s local), want %s (02:00)", tc.at, f.UTC().Format(time.RFC3339), f.Format("15:04 MST"), tc.want)
		}
	}
	// Across the spring change the local hours read 01, 03, 04: 02 does not exist.
	var hours []string
	for _, b := range Buckets(utc("2026-03-29T00:10:00Z"), utc("2026-03-29T03:00:00Z"), Hour, berlin) {
		hours = append(hours, b.Format("15:04"))
	}
	if got, want := hours, []string{"01:00", "03:00", "04:00"}; !equalStrings(got, want) {
		t.Errorf("spring hours %v, want %v", got, want)
	}
	// A half-hour zone's hours start at :30 UTC.
	if f := Floor(utc("2026-05-04T10:10:00Z"), Hour, kolkata); !f.Equal(utc("2026-05-04T09:30:00Z")) {
		t.Errorf("Kolkata hour of 10:10 UTC = %s, want 09:30 UTC (15:00 IST)", f.UTC())
	}

	// Weeks start on Monday at 00:00 local: Wednesday 6 May and Sunday
	// 10 May 23:30 CEST are in the week of Monday 4 May (22:00 UTC on the 3rd).
	for _, at := range []string{"2026-05-06T10:00:00Z", "2026-05-10T21:30:00Z", "2026-05-03T22:00:00Z"} {
		if w := Floor(utc(at), Week, berlin); !w.Equal(utc("2026-05-03T22:00:00Z")) || w.Weekday() != time.Monday {
			t.Errorf("week of %s starts %s (%s)", at, w.UTC(), w.Weekday())
		}
	}
	if w := Floor(utc("2026-05-03T21:59:00Z"), Week, berlin); !w.Equal(utc("2026-04-26T22:00:00Z")) {
		t.Errorf("Sunday 3 May 23:59 CEST is in the week from %s, want 27 April", w.UTC())
	}

	for _, tc := range []struct {
		span time.Duration
		want Unit
	}{{time.Hour, Hour}, {48 * time.Hour, Hour}, {49 * time.Hour, Day}, {90 * 24 * time.Hour, Day}, {365 * 24 * time.Hour, Week}} {
		if got := UnitFor(tc.span); got != tc.want {
			t.Errorf("UnitFor(%s) = %s, want %s", tc.span, got, tc.want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// trendSeeds are one day's OpsItems (times from `day`): an automated
// resolution a rule's verified run earns an estimate for, one by hand,
// one by the pipeline, one still open.
var trendSeeds = []seed{
	{title: "Disk almost full on web-07", category: "monitoring", by: "automation:rule:r-disk-cleanup", created: 2 * time.Hour, resolved: 2*time.Hour + 10*time.Minute, ruleRunbook: "disk-cleanup"},
	{title: "Replication lag on db-2", category: "service", by: "token:tok_2", created: 5 * time.Hour, resolved: 6 * time.Hour, human: 1800},
	{title: "CPU high on api-4", category: "monitoring", by: "system:pipeline", created: 7 * time.Hour, resolved: 7*time.Hour + 2*time.Minute},
	{title: "Backup failed on db-2", category: "backup", created: 8 * time.Hour},
}

// TestTrendsOneDayOfData: a tenant whose data began this morning, asked
// for a week, gets the last 24 hours by the hour — not six empty days and
// a spike — with gaps where there is nothing to measure. The expected
// buckets are computed here by hour arithmetic and brute force.
func TestTrendsOneDayOfData(t *testing.T) {
	t.Parallel()
	st := seedStore(t, "acme", trendSeeds)
	now := day.Add(12 * time.Hour) // the injected clock
	est := func(_, rb string) int {
		if rb == "disk-cleanup" {
			return 30
		}
		return 0
	}
	tr, err := ComputeTrends(context.Background(), st, "acme", now.Add(-7*24*time.Hour), now, time.UTC, est, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := now.Add(-24 * time.Hour)
	if tr.Unit != Hour || len(tr.Points) != 24 || !tr.DataFrom.Equal(start) {
		t.Fatalf("unit %s, %d points from %s; want 24 hours from %s", tr.Unit, len(tr.Points), tr.DataFrom, start)
	}
	idx := func(d time.Duration) int { return int(day.Add(d).Sub(start) / time.Hour) }
	for i, p := range tr.Points {
		if !p.Start.Equal(start.Add(time.Duration(i)*time.Hour)) || p.End.Sub(p.Start) != time.Hour || p.Partial {
			t.Errorf("point %d spans %s–%s (partial %v)", i, p.Start, p.End, p.Partial)
		}
		// Noise: 100 received, 5 opened at day+1h (seedStore).
		if i == idx(time.Hour) {
			if p.Received != 100 || p.NoiseReduction == nil || math.Abs(*p.NoiseReduction-0.95) > 1e-9 {
				t.Errorf("point %d: received %d, noise reduction %v; want 100, 0.95", i, p.Received, p.NoiseReduction)
			}
		} else if p.Received != 0 || p.NoiseReduction != nil {
			t.Errorf("point %d: received %d, noise reduction %v; want a gap", i, p.Received, p.NoiseReduction)
		}
		// Resolutions, by brute force over the seeds.
		var resolved, auto int64
		var ttr []int64
		for _, s := range trendSeeds {
			if s.resolved != 0 && idx(s.resolved) == i {
				resolved++
				ttr = append(ttr, int64((s.resolved-s.created)/time.Second))
				if s.by == "automation:rule:r-disk-cleanup" {
					auto++
				}
			}
		}
		if p.Resolved != resolved || p.ResolvedByAutomation != auto || p.TimeToResolve.Count != len(ttr) {
			t.Errorf("point %d: resolved %d (%d automated, ttr count %d); want %d (%d, %d)", i, p.Resolved, p.ResolvedByAutomation, p.TimeToResolve.Count, resolved, auto, len(ttr))
		}
		switch {
		case resolved == 0 && (p.AutomationShare != nil || p.TimeToResolve.MedianSeconds != 0):
			t.Errorf("point %d: share %v, ttr %+v with nothing resolved; want a gap", i, p.AutomationShare, p.TimeToResolve)
		case resolved > 0 && (p.AutomationShare == nil || *p.AutomationShare != float64(auto)/float64(resolved) || p.TimeToResolve.MedianSeconds != ttr[0]):
			t.Errorf("point %d: share %v, ttr %+v; want %d/%d, %ds", i, p.AutomationShare, p.TimeToResolve, auto, resolved, ttr[0])
		}
		wantSaved := 0.0
		if auto > 0 {
			wantSaved = 0.5 // the runbook's 30-minute estimate
		}
		if p.HoursSaved != wantSaved {
			t.Errorf("point %d: %v hours saved, want %v", i, p.HoursSaved, wantSaved)
		}
		// Open at the bucket's end.
		want := map[string]int64{}
		for _, s := range trendSeeds {
			if day.Add(s.created).Before(p.End) && (s.resolved == 0 || !day.Add(s.resolved).Before(p.End)) {
				want[s.category]++
			}
		}
		if len(want) != len(p.Open) {
			t.Errorf("point %d: open %v, want %v", i, p.Open, want)
		}
		for c, n := range want {
			if p.Open[c] != n {
				t.Errorf("point %d: open %v, want %v", i, p.Open, want)
			}
		}
	}
	areas := map[string]bool{}
	for _, a := range tr.Areas {
		areas[a] = true
	}
	// The monitoring OpsItems were resolved within their hour: never open
	// at a bucket's end.
	if len(tr.Areas) != 2 || !areas["backup"] || !areas["service"] {
		t.Errorf("areas %v, want backup and service", tr.Areas)
	}
}

// TestTrendsBerlinDays: eight days in Europe/Berlin across the spring
// change are local days — each starts at 00:00 local, 29 March lasts 23
// hours — and each event counts on its local date.
func TestTrendsBerlinDays(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	st := seedStore(t, "acme", []seed{{title: "Old backup", category: "backup", created: -12 * 24 * time.Hour}})
	noise := map[string]int64{ // UTC instant → received
		"2026-03-28T22:30:00Z": 7, // 23:30 CET on the 28th
		"2026-03-28T23:30:00Z": 3, // 00:30 CET on the 29th
		"2026-03-29T22:15:00Z": 4, // 00:15 CEST on the 30th
	}
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Tx) error {
		for at, n := range noise {
			if err := tx.AddNoise(ctx, store.NoiseBucket{TenantID: "acme", Minute: utc(at), Received: n, Suppressed: map[string]int64{}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	from, to := utc("2026-03-25T00:00:00Z"), utc("2026-04-02T00:00:00Z")
	tr, err := ComputeTrends(ctx, st, "acme", from, to, berlin, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The backup OpsItem was open at from, so the buckets start there:
	// local days 25 March to 2 April (the last one partial).
	if tr.Unit != Day || len(tr.Points) != 9 {
		t.Fatalf("unit %s, %d points; want 9 days", tr.Unit, len(tr.Points))
	}
	byDate := map[string]int64{}
	for at, n := range noise {
		byDate[utc(at).In(berlin).Format("2006-01-02")] += n
	}
	byDate["2026-04-01"] += 100 // seedStore's noise at 01:00 UTC on 1 April
	for i, p := range tr.Points {
		local := p.Start.In(berlin)
		wantDate := time.Date(2026, 3, 25+i, 12, 0, 0, 0, time.UTC).Format("2006-01-02")
		if local.Format("2006-01-02 15:04") != wantDate+" 00:00" {
			t.Errorf("point %d starts %s local, want %s 00:00", i, local.Format("2006-01-02 15:04 MST"), wantDate)
		}
		if p.Received != byDate[wantDate] {
			t.Errorf("%s: received %d, want %d", wantDate, p.Received, byDate[wantDate])
		}
		if p.Open["backup"] != 1 {
			t.Errorf("%s: open %v, want the backup OpsItem", wantDate, p.Open)
		}
		hours := p.End.Sub(p.Start)
		switch {
		case wantDate == "2026-03-29" && hours != 23*time.Hour:
			t.Errorf("29 March lasts %s", hours)
		case wantDate != "2026-03-29" && hours != 24*time.Hour:
			t.Errorf("%s lasts %s", wantDate, hours)
		}
		if p.Partial != (i == len(tr.Points)-1) {
			t.Errorf("%s: partial %v", wantDate, p.Partial)
		}
	}
}

// TestTrendsNoData: a tenant without data gets no points.
func TestTrendsNoData(t *testing.T) {
	t.Parallel()
	st := seedStore(t, "acme", nil)
	// seedStore's noise is on 1 April; ask for March.
	tr, err := ComputeTrends(context.Background(), st, "acme", utc("2026-03-01T00:00:00Z"), utc("2026-03-31T00:00:00Z"), time.UTC, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 0 || len(tr.Areas) != 0 {
		t.Errorf("no data gave %d points, areas %v", len(tr.Points), tr.Areas)
	}
}
