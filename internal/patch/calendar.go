package patch

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// CalendarKind is the content kind of a tenant's business calendar.
const CalendarKind = "BusinessCalendar"

// CalendarSpec is a BusinessCalendar document's spec: the days a tenant's
// team works, in its time zone. Expedited patches are due by the end of
// the next business day.
type CalendarSpec struct {
	// Timezone is an IANA zone (default UTC).
	Timezone string `yaml:"timezone" json:"timezone,omitempty"`
	// Weekend lists the days nobody works (default sat, sun).
	Weekend []string `yaml:"weekend" json:"weekend,omitempty"`
	// Holidays are dates (YYYY-MM-DD) that are not business days.
	Holidays []string `yaml:"holidays" json:"holidays,omitempty"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// CalendarKindDef returns the BusinessCalendar content kind.
func CalendarKindDef() content.Kind {
	return content.Kind{
		Name: CalendarKind,
		New:  func() any { return &CalendarSpec{Timezone: "UTC", Weekend: []string{"sat", "sun"}} },
		Validate: func(spec any) error {
			_, err := spec.(*CalendarSpec).Compile()
			return err
		},
	}
}

// Calendar is a compiled business calendar.
type Calendar struct {
	loc      *time.Location
	weekend  []time.Weekday
	holidays map[string]bool
}

// DefaultCalendar is Monday to Friday in UTC, without holidays.
func DefaultCalendar() *Calendar {
	c, _ := (&CalendarSpec{Timezone: "UTC", Weekend: []string{"sat", "sun"}}).Compile()
	return c
}

// Compile checks and compiles the spec.
func (s *CalendarSpec) Compile() (*Calendar, error) {
	var errs []error
	c := &Calendar{holidays: map[string]bool{}}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" || strings.EqualFold(s.Timezone, "local") {
		errs = append(errs, content.FieldErrorf("timezone", "%q is not an IANA time zone", s.Timezone))
	}
	c.loc = loc
	for i, d := range s.Weekend {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			errs = append(errs, content.FieldErrorf("weekend["+strconv.Itoa(i)+"]", "%q is not a day (sun … sat)", d))
			continue
		}
		c.weekend = append(c.weekend, wd)
	}
	if len(c.weekend) == 7 {
		errs = append(errs, content.FieldErrorf("weekend", "holds every day; a calendar needs business days"))
	}
	for i, h := range s.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			errs = append(errs, content.FieldErrorf("holidays["+strconv.Itoa(i)+"]", "%q is not a date (YYYY-MM-DD)", h))
		}
		c.holidays[h] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// BusinessDay reports whether the local date of t is a business day.
func (c *Calendar) BusinessDay(t time.Time) bool {
	t = t.In(c.loc)
	return !slices.Contains(c.weekend, t.Weekday()) && !c.holidays[t.Format(time.DateOnly)]
}

// NextBusinessDayEnd is the deadline "by the next business day" for
// something raised at t: the end (local midnight after it) of the first
// business day after t's local date, in the calendar's zone.
func (c *Calendar) NextBusinessDayEnd(t time.Time) time.Time {
	local := t.In(c.loc)
	y, m, d := local.Date()
	// Noon avoids landing on a skipped or repeated hour of a DST change.
	day := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	// A calendar whose holidays cover two years stops looking there.
	for i := 0; i < 366*2; i++ {
		day = day.AddDate(0, 0, 1)
		if c.BusinessDay(day) {
			break
		}
	}
	y, m, d = day.AddDate(0, 0, 1).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}
