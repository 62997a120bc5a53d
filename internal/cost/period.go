package cost

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

// PeriodSpec is one running period of a schedule, as AWS Instance
// Scheduler's periods: the resource runs from Begin to End (local times)
// on the days every given day filter allows. A missing Begin means from
// midnight, a missing End until midnight; a period with neither runs all
// day on its days.
type PeriodSpec struct {
	Begin string `yaml:"begin"`
	End   string `yaml:"end"`
	// Weekdays: "mon-fri", "sat", "sun,wed" (recurrence.ParseDays).
	Weekdays []string `yaml:"weekdays"`
	// MonthDays: "1", "1-7", "L" (the last day of the month).
	MonthDays []string `yaml:"monthdays"`
	// Months: "jan", "jan-mar", "12".
	Months []string `yaml:"months"`
}

// period is a compiled PeriodSpec.
type period struct {
	begin, end time.Duration // offsets from local midnight; end 24h means midnight
	weekdays   []bool        // nil: any
	monthdays  []bool        // index 1..31; nil: any
	lastDay    bool          // "L" in monthdays
	months     []bool        // index 1..12; nil: any
}

func compilePeriod(p PeriodSpec, field string) (period, error) {
	out := period{end: 24 * time.Hour}
	var errs []error
	if p.Begin != "" {
		d, err := recurrence.ParseTimeOfDay(p.Begin)
		if err != nil {
			errs = append(errs, &content.FieldError{Field: field + ".begin", Err: err})
		}
		out.begin = d
	}
	if p.End != "" {
		d, err := recurrence.ParseTimeOfDay(p.End)
		if err != nil {
			errs = append(errs, &content.FieldError{Field: field + ".end", Err: err})
		}
		if d == 0 {
			d = 24 * time.Hour // "00:00" as an end is midnight at the end of the day
		}
		out.end = d
	}
	if len(errs) == 0 && out.end <= out.begin {
		errs = append(errs, content.FieldErrorf(field, "end %s is not after begin %s; split a period across midnight into two", p.End, p.Begin))
	}
	if len(p.Weekdays) > 0 {
		out.weekdays = make([]bool, 7)
		for i, s := range p.Weekdays {
			days, err := recurrence.ParseDays(s)
			if err != nil {
				errs = append(errs, &content.FieldError{Field: fmt.Sprintf("%s.weekdays[%d]", field, i), Err: err})
			}
			for _, d := range days {
				out.weekdays[d] = true
			}
		}
	}
	if len(p.MonthDays) > 0 {
		out.monthdays = make([]bool, 32)
		for i, s := range p.MonthDays {
			if strings.EqualFold(strings.TrimSpace(s), "L") {
				out.lastDay = true
				continue
			}
			if err := markRange(out.monthdays, s, 1, 31, nil); err != nil {
				errs = append(errs, content.FieldErrorf(fmt.Sprintf("%s.monthdays[%d]", field, i), "%v", err))
			}
		}
	}
	if len(p.Months) > 0 {
		out.months = make([]bool, 13)
		for i, s := range p.Months {
			if err := markRange(out.months, s, 1, 12, monthNames); err != nil {
				errs = append(errs, content.FieldErrorf(fmt.Sprintf("%s.months[%d]", field, i), "%v", err))
			}
		}
	}
	return out, errors.Join(errs...)
}

var monthNames = []string{"", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// markRange sets marks[a..b] for "N", "N-M" or names ("jan-mar").
func markRange(marks []bool, s string, lo, hi int, names []string) error {
	num := func(v string) (int, error) {
		v = strings.ToLower(strings.TrimSpace(v))
		if i := slices.Index(names, v); i > 0 {
			return i, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a number from %d to %d%s", v, lo, hi, map[bool]string{true: " or a month name", false: ""}[names != nil])
		}
		return n, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	a, err := num(from)
	if err != nil {
		return err
	}
	b := a
	if isRange {
		if b, err = num(to); err != nil {
			return err
		}
		if b < a {
			return fmt.Errorf("range %q runs backwards", s)
		}
	}
	for i := a; i <= b; i++ {
		marks[i] = true
	}
	return nil
}

// runs reports whether the period has the resource running at local
// wall time t (t is already in the schedule's zone).
func (p period) runs(t time.Time) bool {
	if !p.onDay(t) {
		return false
	}
	tod := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	return tod >= p.begin && tod < p.end
}

func (p period) onDay(t time.Time) bool {
	if p.weekdays != nil && !p.weekdays[t.Weekday()] {
		return false
	}
	if p.months != nil && !p.months[t.Month()] {
		return false
	}
	if p.monthdays != nil || p.lastDay {
		last := t.AddDate(0, 0, 1).Day() == 1
		if !(p.monthdays != nil && p.monthdays[t.Day()]) && !(p.lastDay && last) {
			return false
		}
	}
	return true
}
