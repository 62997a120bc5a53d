package stats

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Trends of the flywheel figures: the same figures as Compute, per
// calendar bucket — hours starting on the hour, days at 00:00 and weeks on
// Monday 00:00 in a time zone — so a chart's labels read "Mon 4 May", not
// "Nov 30 01:14", and a day across a DST change is 23 or 25 hours long.

// Unit is the calendar size of a trend bucket.
type Unit string

// The bucket units.
const (
	Hour Unit = "hour"
	Day  Unit = "day"
	Week Unit = "week"
)

// UnitFor is the bucket for a span: hours up to two days, days up to
// sixteen weeks, weeks beyond — between about 24 and 112 buckets, or
// fewer for a short span.
func UnitFor(span time.Duration) Unit {
	switch {
	case span <= 48*time.Hour:
		return Hour
	case span <= 16*7*24*time.Hour:
		return Day
	}
	return Week
}

// Floor returns the start of the bucket of unit u that holds t, in loc.
func Floor(t time.Time, u Unit, loc *time.Location) time.Time {
	lt := t.In(loc)
	switch u {
	case Hour:
		// The local hour with the offset in force at t: in the hour a
		// clock goes back, 02:30 CET floors to 02:00 CET, not CEST.
		_, off := lt.Zone()
		local := lt.Unix() + int64(off)
		start := local - ((local%3600)+3600)%3600
		return time.Unix(start-int64(off), 0).In(loc)
	case Week:
		back := (int(lt.Weekday()) + 6) % 7 // days since Monday
		return time.Date(lt.Year(), lt.Month(), lt.Day()-back, 0, 0, 0, 0, loc)
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
}

// Next returns the start of the bucket after the one starting at start.
func Next(start time.Time, u Unit, loc *time.Location) time.Time {
	lt := start.In(loc)
	switch u {
	case Hour:
		return start.Add(time.Hour)
	case Week:
		return time.Date(lt.Year(), lt.Month(), lt.Day()+7, 0, 0, 0, 0, loc)
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
}

// Buckets returns the starts of the buckets that cover [from, to): the
// first holds from, the last holds the instant before to.
func Buckets(from, to time.Time, u Unit, loc *time.Location) []time.Time {
	var out []time.Time
	for b := Floor(from, u, loc); b.Before(to); b = Next(b, u, loc) {
		out = append(out, b)
	}
	return out
}

// TrendPoint is one bucket of the trends. A rate of a bucket with nothing
// to measure is nil (a gap), not 0: a day without resolutions has no
// automation share and no time to resolve.
type TrendPoint struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Partial: the bucket reaches past the end of the period (the current
	// day, say), so its counts are still growing.
	Partial bool `json:"partial,omitempty"`
	// Received events and the OpsItems the pipeline opened from them;
	// NoiseReduction is 1 - PipelineOpened/Received.
	Received       int64    `json:"received"`
	PipelineOpened int64    `json:"pipeline_opened"`
	NoiseReduction *float64 `json:"noise_reduction"`
	// Resolved OpsItems, those resolved by automation, and the share.
	Resolved             int64    `json:"resolved"`
	ResolvedByAutomation int64    `json:"resolved_by_automation"`
	AutomationShare      *float64 `json:"automation_share"`
	// HoursSaved credits the bucket's automated resolutions as Compute
	// does.
	HoursSaved float64 `json:"hours_saved"`
	// TimeToResolve is over the OpsItems resolved in the bucket (Count 0:
	// none).
	TimeToResolve Durations `json:"time_to_resolve"`
	// Open counts the OpsItems open at the bucket's end (or at the end of
	// the period), by area.
	Open map[string]int64 `json:"open"`
}

// Trends is the answer of ComputeTrends.
type Trends struct {
	Tenant string `json:"tenant"`
	// From and To are the period asked for; Zone the time zone of the
	// buckets.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Zone string    `json:"zone"`
	Unit Unit      `json:"unit"`
	// DataFrom is where the buckets start: the period's start, or later
	// when the tenant's data begins later (a new tenant's week shows its
	// one day, not six empty days and a spike).
	DataFrom time.Time    `json:"data_from"`
	Points   []TrendPoint `json:"points"`
	// Areas lists the areas open OpsItems were counted in, in the order
	// of the nine areas.
	Areas []string `json:"areas"`
}

// minTrendSpan is the least span the buckets cover when data begins late:
// a day of hours.
const minTrendSpan = 24 * time.Hour

// noiseGrain is the resolution the noise counters are read at: every time
// zone's offset is a multiple of it, so local buckets are unions of grains.
const noiseGrain = 15 * time.Minute

// ComputeTrends returns the flywheel figures of a tenant's period
// [from, to) per calendar bucket in loc. The buckets start where the data
// does (at most at from) and the unit follows the span they cover (see
// UnitFor); with no data at all, Points is empty.
func ComputeTrends(ctx context.Context, st store.Reader, tenant string, from, to time.Time, loc *time.Location, est Estimator, ver Verifier) (Trends, error) {
	if err := CheckPeriod(from, to); err != nil {
		return Trends{}, err
	}
	if loc == nil {
		loc = time.UTC
	}
	tr := Trends{Tenant: tenant, From: from, To: to, Zone: loc.String()}

	// Everything that may show, from the earliest bucket that could hold
	// from in any unit (a week's start).
	lo := Floor(from, Week, loc)
	noise, err := st.NoiseSeries(ctx, tenant, lo, to, noiseGrain)
	if err != nil {
		return tr, fmt.Errorf("noise series: %w", err)
	}
	histFrom := earlier(lo, to.Add(-History))
	items, err := loadItems(ctx, st, tenant, histFrom, to, est, ver)
	if err != nil {
		return tr, err
	}
	openAtLo, err := st.CountOpenOpsItems(ctx, tenant, lo)
	if err != nil {
		return tr, fmt.Errorf("open opsitems: %w", err)
	}

	// Where the data begins within the period: at from when OpsItems
	// were open then, else at the first event, creation or resolution.
	openAtFrom := sumCounts(openAtLo)
	for _, it := range items {
		o := it.o
		if o.Status == "suppressed" {
			continue
		}
		if !o.CreatedAt.Before(lo) && o.CreatedAt.Before(from) {
			openAtFrom++
		}
		if o.ResolvedAt != nil && !o.ResolvedAt.Before(lo) && o.ResolvedAt.Before(from) {
			openAtFrom--
		}
	}
	first, found := to, false
	if openAtFrom > 0 {
		first, found = from, true
	}
	for _, b := range noise {
		if !b.Minute.Before(from) && b.Minute.Before(first) {
			first, found = b.Minute, true
		}
	}
	for _, it := range items {
		for _, at := range []*time.Time{&it.o.CreatedAt, it.o.ResolvedAt} {
			if at != nil && !at.Before(from) && at.Before(first) {
				first, found = *at, true
			}
		}
	}
	if !found {
		tr.Unit, tr.DataFrom = UnitFor(to.Sub(from)), to
		return tr, nil
	}
	if to.Sub(first) < minTrendSpan {
		first = later(from, to.Add(-minTrendSpan))
	}
	tr.Unit = UnitFor(to.Sub(first))
	starts := Buckets(first, to, tr.Unit, loc)
	tr.DataFrom = starts[0]
	tr.Points = make([]TrendPoint, len(starts))
	for i, s := range starts {
		p := &tr.Points[i]
		p.Start, p.End = s, Next(s, tr.Unit, loc)
		p.Partial = p.End.After(to)
		p.Open = map[string]int64{}
	}
	end := tr.Points[len(tr.Points)-1].End
	// index finds the bucket holding t, -1 outside them.
	index := func(t time.Time) int {
		if t.Before(tr.DataFrom) || !t.Before(end) {
			return -1
		}
		return sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
	}

	for _, b := range noise {
		if i := index(b.Minute); i >= 0 {
			tr.Points[i].Received += b.Received
			tr.Points[i].PipelineOpened += b.Opened
		}
	}

	// Resolutions and open OpsItems. Open at a bucket's end is what was
	// open at lo, plus what was created, less what was resolved, before
	// it (or before to, for the last).
	medians := handMedians(items, to)
	ttr := make([][]int64, len(starts))
	type change struct {
		at    time.Time
		area  string
		delta int64
	}
	var changes []change
	for _, it := range items {
		o := it.o
		if o.Status != "suppressed" {
			if !o.CreatedAt.Before(lo) && o.CreatedAt.Before(to) {
				changes = append(changes, change{o.CreatedAt, o.Category, 1})
			}
			if o.ResolvedAt != nil && !o.ResolvedAt.Before(lo) && o.ResolvedAt.Before(to) {
				changes = append(changes, change{*o.ResolvedAt, o.Category, -1})
			}
		}
		if o.ResolvedAt == nil || o.ResolvedAt.Before(from) || !o.ResolvedAt.Before(to) {
			continue
		}
		i := index(*o.ResolvedAt)
		if i < 0 {
			continue
		}
		p := &tr.Points[i]
		p.Resolved++
		ttr[i] = append(ttr[i], int64(o.ResolvedAt.Sub(o.CreatedAt)/time.Second))
		if cr := creditOf(it, medians); cr.by == ByAutomation {
			p.ResolvedByAutomation++
			p.HoursSaved += cr.hours
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return a.at.Compare(b.at) })
	open := map[string]int64{}
	for c, n := range openAtLo {
		open[c] = n
	}
	seen := map[string]bool{}
	k := 0
	for i := range tr.Points {
		p := &tr.Points[i]
		until := earlier(p.End, to)
		for ; k < len(changes) && changes[k].at.Before(until); k++ {
			open[changes[k].area] += changes[k].delta
		}
		for c, n := range open {
			if n != 0 {
				p.Open[c] = n
				seen[c] = true
			}
		}
		if p.Received > 0 {
			v := 1 - float64(p.PipelineOpened)/float64(p.Received)
			p.NoiseReduction = &v
		}
		if p.Resolved > 0 {
			v := float64(p.ResolvedByAutomation) / float64(p.Resolved)
			p.AutomationShare = &v
			p.TimeToResolve = Durations{Count: len(ttr[i]), MedianSeconds: percentile(ttr[i], 50), P90Seconds: percentile(ttr[i], 90)}
		}
	}
	for _, c := range categories(nil) {
		if seen[c] {
			tr.Areas = append(tr.Areas, c)
		}
	}
	for c := range seen {
		if !slices.Contains(tr.Areas, c) {
			tr.Areas = append(tr.Areas, c)
		}
	}
	return tr, nil
}

func sumCounts(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
