package cost

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Holiday is one day a schedule keeps its resources stopped: a local
// calendar date in the schedule's zone, with a name.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name,omitempty"`
}

// Bounds on an iCalendar import.
const (
	maxICalBytes    = 1 << 20
	maxHolidays     = 5000
	maxRecurYears   = 50
	icalDateLayout  = "20060102"
	holidayLayout   = "2006-01-02"
	maxHolidaySpanD = 31
)

// ParseICal reads the all-day events of an iCalendar (RFC 5545) text as
// holidays: each VEVENT's DTSTART date (a DATE value, or the date part of
// a DATE-TIME), through the day before DTEND when it spans several days,
// named by its SUMMARY. An RRULE of FREQ=YEARLY (with COUNT or UNTIL, or
// else for maxRecurYears years) repeats the date; any other RRULE is an
// error naming its line, as is a VEVENT without DTSTART. Public-holiday
// calendars (a government's, Google's or Outlook's exports) are of this
// shape.
func ParseICal(text string) ([]Holiday, error) {
	if len(text) > maxICalBytes {
		return nil, fmt.Errorf("ical: %d bytes is more than %d", len(text), maxICalBytes)
	}
	lines, err := unfold(text)
	if err != nil {
		return nil, err
	}
	var out []Holiday
	var ev *icalEvent
	sawCalendar := false
	for _, l := range lines {
		name, _, value := splitProperty(l.text)
		switch {
		case name == "BEGIN" && strings.EqualFold(value, "VCALENDAR"):
			sawCalendar = true
		case name == "BEGIN" && strings.EqualFold(value, "VEVENT"):
			if ev != nil {
				return nil, fmt.Errorf("ical line %d: VEVENT inside VEVENT", l.n)
			}
			ev = &icalEvent{line: l.n}
		case name == "END" && strings.EqualFold(value, "VEVENT"):
			if ev == nil {
				return nil, fmt.Errorf("ical line %d: END:VEVENT without BEGIN", l.n)
			}
			hs, err := ev.holidays()
			if err != nil {
				return nil, err
			}
			out = append(out, hs...)
			if len(out) > maxHolidays {
				return nil, fmt.Errorf("ical: more than %d holidays", maxHolidays)
			}
			ev = nil
		case ev == nil:
		case name == "DTSTART":
			d, err := icalDate(value)
			if err != nil {
				return nil, fmt.Errorf("ical line %d: DTSTART: %w", l.n, err)
			}
			ev.start = d
		case name == "DTEND":
			d, err := icalDate(value)
			if err != nil {
				return nil, fmt.Errorf("ical line %d: DTEND: %w", l.n, err)
			}
			ev.end, ev.endIsDate = d, !strings.Contains(value, "T")
		case name == "SUMMARY":
			ev.summary = unescapeText(value)
		case name == "RRULE":
			ev.rrule, ev.rruleLine = value, l.n
		}
	}
	if !sawCalendar {
		return nil, errors.New("ical: no BEGIN:VCALENDAR; this is not an iCalendar file")
	}
	if ev != nil {
		return nil, fmt.Errorf("ical line %d: VEVENT not ended", ev.line)
	}
	return out, nil
}

type icalEvent struct {
	line       int
	start, end time.Time
	endIsDate  bool
	summary    string
	rrule      string
	rruleLine  int
}

func (e *icalEvent) holidays() ([]Holiday, error) {
	if e.start.IsZero() {
		return nil, fmt.Errorf("ical line %d: VEVENT has no DTSTART", e.line)
	}
	days := 1
	if e.endIsDate && e.end.After(e.start) {
		days = int(e.end.Sub(e.start).Hours()/24 + 0.5)
		if days > maxHolidaySpanD {
			return nil, fmt.Errorf("ical line %d: an event of %d days is not a holiday (at most %d)", e.line, days, maxHolidaySpanD)
		}
	}
	years, until := 1, time.Time{}
	if e.rrule != "" {
		var err error
		if years, until, err = yearly(e.rrule); err != nil {
			return nil, fmt.Errorf("ical line %d: RRULE %q: %w", e.rruleLine, e.rrule, err)
		}
	}
	var out []Holiday
	for y := 0; y < years; y++ {
		first := e.start.AddDate(y, 0, 0)
		if !until.IsZero() && first.After(until) {
			break
		}
		for d := 0; d < days; d++ {
			out = append(out, Holiday{Date: first.AddDate(0, 0, d).Format(holidayLayout), Name: e.summary})
		}
	}
	return out, nil
}

// yearly reads FREQ=YEARLY[;COUNT=n|;UNTIL=date][;INTERVAL=1].
func yearly(rule string) (int, time.Time, error) {
	years, until, freq := maxRecurYears, time.Time{}, ""
	for _, part := range strings.Split(rule, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.ToUpper(k) {
		case "FREQ":
			freq = strings.ToUpper(v)
		case "COUNT":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxRecurYears {
				return 0, until, fmt.Errorf("COUNT %q is not 1..%d", v, maxRecurYears)
			}
			years = n
		case "UNTIL":
			d, err := icalDate(v)
			if err != nil {
				return 0, until, fmt.Errorf("UNTIL: %w", err)
			}
			until = d
		case "INTERVAL":
			if v != "1" {
				return 0, until, errors.New("only INTERVAL=1 is supported")
			}
		case "BYMONTH", "BYMONTHDAY":
			// Redundant with DTSTART in holiday calendars; the date repeats.
		default:
			return 0, until, fmt.Errorf("%s is not supported; a holiday repeats yearly on its date", k)
		}
	}
	if freq != "YEARLY" {
		return 0, until, errors.New("only FREQ=YEARLY is supported")
	}
	return years, until, nil
}

// icalDate reads a DATE (20261225) or the date part of a DATE-TIME
// (20261225T000000Z, or with TZID).
func icalDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if len(v) < 8 {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYYMMDD)", v)
	}
	if len(v) > 8 && (v[8] != 'T' || len(v) > 16) {
		return time.Time{}, fmt.Errorf("%q is not a date or date-time", v)
	}
	d, err := time.Parse(icalDateLayout, v[:8])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYYMMDD)", v)
	}
	return d, nil
}

type icalLine struct {
	n    int
	text string
}

// unfold joins RFC 5545 folded lines (a line starting with a space or tab
// continues the previous one).
func unfold(text string) ([]icalLine, error) {
	var out []icalLine
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), maxICalBytes)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimRight(sc.Text(), "\r")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1].text += l[1:]
			continue
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, icalLine{n: n, text: l})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ical: %w", err)
	}
	return out, nil
}

// splitProperty splits "NAME;P=V;Q=W:value".
func splitProperty(l string) (string, map[string]string, string) {
	head, value, _ := strings.Cut(l, ":")
	parts := strings.Split(head, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		params[strings.ToUpper(k)] = v
	}
	return strings.ToUpper(strings.TrimSpace(parts[0])), params, value
}

func unescapeText(s string) string {
	return strings.NewReplacer(`\,`, ",", `\;`, ";", `\n`, " ", `\N`, " ", `\\`, `\`).Replace(s)
}
