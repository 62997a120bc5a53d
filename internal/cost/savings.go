package cost

import (
	"time"
)

// Usage is how a schedule divides a span of time: the hours a resource
// under it runs and the hours it is stopped.
type Usage struct {
	Hours        float64 `json:"hours"`
	RunningHours float64 `json:"running_hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
}

// step is the resolution of Usage: periods and holidays are given to the
// minute.
const step = time.Minute

// Usage walks [from, to) minute by minute in elapsed (UTC) time, asking
// At for each: so a day the clocks change is 23 or 25 hours long, and a
// period keeps its local times across the change.
func (s *Schedule) Usage(from, to time.Time) Usage {
	var run, all time.Duration
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		all += step
		if s.At(t).State == Running {
			run += step
		}
	}
	u := Usage{Hours: all.Hours(), RunningHours: run.Hours(), SavedHours: (all - run).Hours()}
	if all > 0 {
		u.SavedPercent = 100 * u.SavedHours / u.Hours
	}
	return u
}

// Month returns the first instant of t's month in the schedule's zone and
// of the next month: a month of a schedule's report is its local month.
func (s *Schedule) Month(t time.Time) (time.Time, time.Time) {
	l := t.In(s.loc)
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, s.loc)
	return start, start.AddDate(0, 1, 0)
}
