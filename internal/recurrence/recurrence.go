// Package recurrence is the weekly schedule shared by recurring silences and
// maintenance windows: "on these days of the week, from this local time of
// day, for this long, in this IANA time zone".
//
// Times of day are wall-clock times in the schedule's zone, so a window at
// 02:00 Europe/Berlin stays at 02:00 local time across daylight-saving
// changes. The duration is elapsed time: a 4h slot is four real hours even
// on the night the clocks change. Two rules make the edge cases
// deterministic (the standard library leaves them unspecified):
//
//   - a start time that does not exist on a day (skipped by a spring-forward
//     change, e.g. 02:30 on the last Sunday of March in Europe/Berlin) is
//     read with the offset in force before the change, so the slot starts
//     that much later (03:30 CEST);
//   - a start time that occurs twice (repeated by a fall-back change) starts
//     at its first occurrence.
//
// A slot may span midnight (Saturday 22:00 for 4h ends Sunday 02:00) and may
// last up to a week.
package recurrence

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// Embedded zone data: schedules must load IANA zones on hosts without
	// /usr/share/zoneinfo (minimal containers), not fail at runtime.
	_ "time/tzdata"
)

// MaxDuration bounds one slot: a week.
const MaxDuration = 7 * 24 * time.Hour

// Weekly is a weekly recurring schedule. Build it with New or Parse, which
// validate; the zero value has no days and is never active.
type Weekly struct {
	// Days the slots start on, sorted Sunday first, without duplicates.
	Days []time.Weekday
	// Start is the local time of day the slots start, as the offset from
	// midnight (minute resolution).
	Start time.Duration
	// Duration is how long each slot lasts, in elapsed time.
	Duration time.Duration
	// Location is the time zone Start is read in; nil means UTC.
	Location *time.Location
}

// New returns a validated schedule.
func New(days []time.Weekday, start, duration time.Duration, loc *time.Location) (Weekly, error) {
	w := Weekly{Start: start, Duration: duration, Location: loc}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return Weekly{}, fmt.Errorf("day %d is not a day of the week", d)
		}
		if !slices.Contains(w.Days, d) {
			w.Days = append(w.Days, d)
		}
	}
	slices.Sort(w.Days)
	if len(w.Days) == 0 {
		return Weekly{}, errors.New("no days of the week given")
	}
	if start < 0 || start >= 24*time.Hour || start%time.Minute != 0 {
		return Weekly{}, fmt.Errorf("start %s is not a time of day HH:MM", start)
	}
	if duration <= 0 || duration > MaxDuration {
		return Weekly{}, fmt.Errorf("duration %s must be positive and at most %s", FormatDuration(duration), FormatDuration(MaxDuration))
	}
	return w, nil
}

// Parse reads "DAYS HH:MM DURATION", e.g. "sat,sun 02:00 4h",
// "mon-fri 22:30 1h30m" or "daily 03:00 30m", in loc (nil for UTC). DAYS
// is a comma-separated list of day names (three letters or in full, any
// case) and ranges of them; "daily" or "*" means every day.
func Parse(spec string, loc *time.Location) (Weekly, error) {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return Weekly{}, fmt.Errorf("weekly schedule %q: want \"DAYS HH:MM DURATION\", e.g. \"sat,sun 02:00 4h\"", spec)
	}
	days, err := ParseDays(f[0])
	if err != nil {
		return Weekly{}, fmt.Errorf("weekly schedule %q: %w", spec, err)
	}
	start, err := ParseTimeOfDay(f[1])
	if err != nil {
		return Weekly{}, fmt.Errorf("weekly schedule %q: %w", spec, err)
	}
	d, err := time.ParseDuration(f[2])
	if err != nil {
		return Weekly{}, fmt.Errorf("weekly schedule %q: duration %q is not a duration such as 4h or 1h30m", spec, f[2])
	}
	w, err := New(days, start, d, loc)
	if err != nil {
		return Weekly{}, fmt.Errorf("weekly schedule %q: %w", spec, err)
	}
	return w, nil
}

// String renders the schedule as Parse reads it, without the zone:
// "sat,sun 02:00 4h".
func (w Weekly) String() string {
	return FormatDays(w.Days) + " " + FormatTimeOfDay(w.Start) + " " + FormatDuration(w.Duration)
}

// Zone returns the name of the schedule's time zone ("UTC" when unset).
func (w Weekly) Zone() string { return w.loc().String() }

func (w Weekly) loc() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// ActiveAt reports whether t falls inside one of the schedule's slots
// (start inclusive, end exclusive).
func (w Weekly) ActiveAt(t time.Time) bool {
	if len(w.Days) == 0 || w.Duration <= 0 {
		return false
	}
	loc := w.loc()
	local := t.In(loc)
	y, m, d := local.Date()
	// A slot that started up to Duration ago may still be running; one more
	// day covers a start pushed later by a spring-forward gap.
	back := int(w.Duration/(24*time.Hour)) + 1
	for k := 0; k <= back; k++ {
		day := time.Date(y, m, d-k, 0, 0, 0, 0, time.UTC)
		if !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		start := WallClock(day.Year(), day.Month(), day.Day(), w.Start, loc)
		if !t.Before(start) && t.Before(start.Add(w.Duration)) {
			return true
		}
	}
	return false
}

// Next returns the first slot that has not ended at t: the one running at t
// if any, else the next to start.
func (w Weekly) Next(t time.Time) (start, end time.Time, ok bool) {
	if len(w.Days) == 0 || w.Duration <= 0 {
		return time.Time{}, time.Time{}, false
	}
	loc := w.loc()
	y, m, d := t.In(loc).Date()
	back := int(w.Duration/(24*time.Hour)) + 1
	for k := -back; k <= 8; k++ {
		day := time.Date(y, m, d+k, 0, 0, 0, 0, time.UTC)
		if !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		s := WallClock(day.Year(), day.Month(), day.Day(), w.Start, loc)
		if e := s.Add(w.Duration); e.After(t) {
			return s, e, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// NextStart returns the first slot start strictly after t.
func (w Weekly) NextStart(t time.Time) (time.Time, bool) {
	if len(w.Days) == 0 || w.Duration <= 0 {
		return time.Time{}, false
	}
	loc := w.loc()
	y, m, d := t.In(loc).Date()
	for k := -1; k <= 8; k++ {
		day := time.Date(y, m, d+k, 0, 0, 0, 0, time.UTC)
		if !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		if s := WallClock(day.Year(), day.Month(), day.Day(), w.Start, loc); s.After(t) {
			return s, true
		}
	}
	return time.Time{}, false
}

// WallClock returns the instant the wall clock in loc shows the time of day
// tod on the given date, resolving daylight-saving gaps and overlaps as the
// package comment describes. Package schedule reads cron times with it, so
// every schedule in Flywheel resolves them the same way.
func WallClock(y int, m time.Month, d int, tod time.Duration, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(tod)
	// Real zones change offset at most once within a day either side.
	_, before := naive.Add(-24 * time.Hour).In(loc).Zone()
	_, after := naive.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		inst := naive.Add(-time.Duration(off) * time.Second)
		if _, got := inst.In(loc).Zone(); got != off {
			continue // this offset is not in force at that instant
		}
		if best.IsZero() || inst.Before(best) {
			best = inst
		}
	}
	if best.IsZero() {
		// The wall time was skipped: read it with the earlier offset.
		best = naive.Add(-time.Duration(before) * time.Second)
	}
	return best
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDay reads a day name: "mon", "Monday", "MON".
func ParseDay(s string) (time.Weekday, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if l == n || l == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day of the week (mon, tue, wed, thu, fri, sat, sun)", s)
}

// ParseDays reads "sat,sun", "mon-fri", "mon,wed-fri", "daily" or "*".
// A range runs forward through the week: "fri-mon" is fri,sat,sun,mon.
func ParseDays(s string) ([]time.Weekday, error) {
	if l := strings.ToLower(strings.TrimSpace(s)); l == "daily" || l == "*" {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	}
	var out []time.Weekday
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			return nil, fmt.Errorf("days %q: empty day in list", s)
		}
		from, to, isRange := strings.Cut(part, "-")
		a, err := ParseDay(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, err := ParseDay(to)
		if err != nil {
			return nil, err
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// FormatDays renders days as ParseDays reads them: "daily" for all seven,
// otherwise the short names, comma-separated, Sunday first.
func FormatDays(days []time.Weekday) string {
	if len(days) == 7 {
		return "daily"
	}
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = DayName(d)
	}
	return strings.Join(names, ",")
}

// DayName is a day's three-letter lower-case name.
func DayName(d time.Weekday) string {
	if d < time.Sunday || d > time.Saturday {
		return "day(" + strconv.Itoa(int(d)) + ")"
	}
	return dayNames[d]
}

// ParseTimeOfDay reads "HH:MM" (24-hour clock) as an offset from midnight.
func ParseTimeOfDay(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) == 0 || len(h) > 2 || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("time of day %q is not HH:MM on a 24-hour clock", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// FormatTimeOfDay renders an offset from midnight as "HH:MM".
func FormatTimeOfDay(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// FormatDuration renders d without zero units: "4h", "1h30m", "90s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// LoadLocation is time.LoadLocation with an error that names the problem
// for people; "" means UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}
