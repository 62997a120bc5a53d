package recurrence

import (
	"fmt"
	"time"
)

// Record is a weekly schedule as stored and submitted (the fields of
// store.Recurrence, which converts to it): this package imports no store,
// so that the command line, a client, can parse schedules.
type Record struct {
	Days     []string
	Start    string
	Duration string
	Timezone string
}

// FromRecord validates a stored or submitted schedule. zone is the time zone
// to use when r.Timezone is empty ("" for UTC). Errors name the field: days,
// start, duration or timezone.
func FromRecord(r Record, zone string) (Weekly, error) {
	if r.Timezone != "" {
		zone = r.Timezone
	}
	loc, err := LoadLocation(zone)
	if err != nil {
		return Weekly{}, fmt.Errorf("timezone: %w", err)
	}
	if len(r.Days) == 0 {
		return Weekly{}, fmt.Errorf("days: at least one day is required (mon … sun)")
	}
	var days []time.Weekday
	for _, d := range r.Days {
		ds, err := ParseDays(d)
		if err != nil {
			return Weekly{}, fmt.Errorf("days: %w", err)
		}
		days = append(days, ds...)
	}
	start, err := ParseTimeOfDay(r.Start)
	if err != nil {
		return Weekly{}, fmt.Errorf("start: %w", err)
	}
	d, err := time.ParseDuration(r.Duration)
	if err != nil {
		return Weekly{}, fmt.Errorf("duration: %q is not a duration such as 4h or 1h30m", r.Duration)
	}
	w, err := New(days, start, d, loc)
	if err != nil {
		return Weekly{}, fmt.Errorf("duration: %w", err)
	}
	return w, nil
}

// Record returns the schedule as stored, with its zone.
func (w Weekly) Record() Record {
	days := make([]string, len(w.Days))
	for i, d := range w.Days {
		days[i] = DayName(d)
	}
	return Record{Days: days, Start: FormatTimeOfDay(w.Start), Duration: FormatDuration(w.Duration), Timezone: w.Zone()}
}
