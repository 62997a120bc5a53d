// Package schedule is when Flywheel does things at a time: the one
// scheduling concept maintenance windows, scheduled rules and every later
// timed flywheel (patching, backups, resource schedules) build on.
//
// A Schedule yields start instants. Parse reads three forms:
//
//   - a standard 5-field cron expression, "30 2 * * sat" (minute, hour,
//     day of month, month, day of week), parsed by robfig/cron;
//   - AWS Systems Manager's cron(min hour dom month dow year), with its
//     1-7 = SUN-SAT days, "?" in one of the day fields, "L" (last day of the
//     month or week, "5L" the last Thursday) and "#" ("TUE#3", the third
//     Tuesday); "W" and "L-n" are refused with an error naming the field;
//   - rate(N minutes|hours|days): every N units of elapsed time from an
//     anchor (the window's start date, else when it was created).
//
// Cron times are wall-clock times in the schedule's IANA zone, resolved
// across daylight-saving changes as package recurrence does: a time the
// clocks skip runs that much later (02:30 on the spring-forward night in
// Europe/Berlin runs at 03:30 CEST), a time they repeat runs once, at its
// first occurrence. So a daily job neither misses a day nor runs twice.
//
// A Window adds what a maintenance window has around a schedule: a
// duration, a cutoff before the end after which no task starts, a start
// and end date bounding the openings, and an offset in days after each
// cron date (SSM's schedule_offset).
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

// Schedule yields the instants something starts at.
type Schedule interface {
	// Next returns the first start strictly after t; ok is false when
	// there is none (within the search horizon for cron expressions with
	// a year field).
	Next(t time.Time) (start time.Time, ok bool)
	// String is the expression as Parse reads it.
	String() string
}

// Options say how to read an expression.
type Options struct {
	// Location is the zone cron times are read in; nil means UTC.
	Location *time.Location
	// OffsetDays moves each cron date this many days later (0..6), at
	// the same local time. Only cron expressions take it.
	OffsetDays int
	// Anchor is the instant rate schedules count from.
	Anchor time.Time
}

// MaxOffsetDays bounds OffsetDays, as SSM does.
const MaxOffsetDays = 6

// Parse reads a cron(…), rate(…) or 5-field cron expression. Errors name
// the part of the expression that is wrong.
func Parse(expr string, o Options) (Schedule, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.OffsetDays < 0 || o.OffsetDays > MaxOffsetDays {
		return nil, fmt.Errorf("schedule_offset: %d is out of range 0..%d days", o.OffsetDays, MaxOffsetDays)
	}
	e := strings.TrimSpace(expr)
	switch {
	case e == "":
		return nil, errors.New("schedule: the expression is empty")
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		if o.OffsetDays != 0 {
			return nil, errors.New("schedule_offset: only cron expressions take an offset, not rate()")
		}
		return parseRate(e, o.Anchor)
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		c, err := parseAWS(e[len("cron(") : len(e)-1])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", expr, err)
		}
		c.expr, c.loc, c.offset = e, o.Location, o.OffsetDays
		return c, nil
	case strings.HasPrefix(e, "at("):
		return nil, fmt.Errorf("schedule %q: at() is not supported; give a one-off window a start and end instead", expr)
	}
	c, err := parseStandard(e)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	c.expr, c.loc, c.offset = e, o.Location, o.OffsetDays
	return c, nil
}

// Rate limits: at least a minute apart, at most a year.
const (
	MinRate = time.Minute
	MaxRate = 366 * 24 * time.Hour
)

type rate struct {
	expr   string
	every  time.Duration
	anchor time.Time
}

func parseRate(e string, anchor time.Time) (Schedule, error) {
	f := strings.Fields(e[len("rate(") : len(e)-1])
	if len(f) != 2 {
		return nil, fmt.Errorf("schedule %q: want rate(N minutes|hours|days), e.g. rate(12 hours)", e)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("schedule %q: rate value %q is not a positive whole number", e, f[0])
	}
	var unit time.Duration
	switch f[1] {
	case "minute", "minutes":
		unit = time.Minute
	case "hour", "hours":
		unit = time.Hour
	case "day", "days":
		unit = 24 * time.Hour
	default:
		return nil, fmt.Errorf("schedule %q: rate unit %q is not minutes, hours or days", e, f[1])
	}
	if (n == 1) != (f[1] == "minute" || f[1] == "hour" || f[1] == "day") {
		return nil, fmt.Errorf("schedule %q: write rate(1 %s) in the singular and rate(N %ss) in the plural, as SSM does", e, strings.TrimSuffix(f[1], "s"), strings.TrimSuffix(f[1], "s"))
	}
	every := time.Duration(n) * unit
	if every > MaxRate {
		return nil, fmt.Errorf("schedule %q: rate is longer than a year", e)
	}
	if anchor.IsZero() {
		return nil, fmt.Errorf("schedule %q: a rate needs an anchor (start date or creation time)", e)
	}
	return rate{expr: e, every: every, anchor: anchor}, nil
}

func (r rate) String() string { return r.expr }

// Next counts whole intervals of elapsed time from the anchor.
func (r rate) Next(t time.Time) (time.Time, bool) {
	if t.Before(r.anchor) {
		return r.anchor, true
	}
	k := t.Sub(r.anchor)/r.every + 1
	return r.anchor.Add(k * r.every), true
}

// Weekly adapts a weekly recurrence: it starts at each of its slots.
type Weekly struct{ recurrence.Weekly }

// Next implements Schedule.
func (w Weekly) Next(t time.Time) (time.Time, bool) { return w.NextStart(t) }

// String renders the weekly slot as "weekly sat,sun 02:00 4h".
func (w Weekly) String() string { return "weekly " + w.Weekly.String() }

// Upcoming lists up to n starts of s after t.
func Upcoming(s Schedule, t time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		next, ok := s.Next(t)
		if !ok {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

// Once starts once, at At.
type Once struct{ At time.Time }

// Next implements Schedule.
func (o Once) Next(t time.Time) (time.Time, bool) { return o.At, o.At.After(t) }

// String renders the instant.
func (o Once) String() string { return "once " + o.At.UTC().Format(time.RFC3339) }
