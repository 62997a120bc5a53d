package schedule

import (
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

// Window is a recurring period of work: it opens at each start of its
// Schedule and stays open for Duration; no task starts in its last Cutoff.
type Window struct {
	Schedule Schedule
	Duration time.Duration
	Cutoff   time.Duration
	// StartDate and EndDate, when set, bound the openings: none starts
	// before StartDate or after EndDate.
	StartDate, EndDate time.Time
}

// Opening is one period a window is open.
type Opening struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// CutoffAt is End minus the cutoff: no task starts at or after it.
	CutoffAt time.Time `json:"cutoff_at"`
}

// MaxDuration bounds an opening: a week, as a weekly slot.
const MaxDuration = recurrence.MaxDuration

// Validate checks the duration, cutoff and dates. Errors name the field.
func (w Window) Validate() error {
	var errs []error
	if w.Schedule == nil {
		errs = append(errs, errors.New("schedule: is required"))
	}
	switch {
	case w.Duration <= 0:
		errs = append(errs, errors.New("duration: is required with a cron or rate schedule (e.g. 4h)"))
	case w.Duration > MaxDuration:
		errs = append(errs, fmt.Errorf("duration: %s is longer than a week", recurrence.FormatDuration(w.Duration)))
	}
	if w.Cutoff < 0 || (w.Duration > 0 && w.Cutoff >= w.Duration) {
		errs = append(errs, fmt.Errorf("cutoff: %s must be at least 0 and less than the duration %s",
			recurrence.FormatDuration(w.Cutoff), recurrence.FormatDuration(w.Duration)))
	}
	if !w.StartDate.IsZero() && !w.EndDate.IsZero() && !w.EndDate.After(w.StartDate) {
		errs = append(errs, fmt.Errorf("end_date: %s is not after start_date %s", w.EndDate.Format(time.RFC3339), w.StartDate.Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}

func (w Window) opening(start time.Time) Opening {
	end := start.Add(w.Duration)
	return Opening{Start: start, End: end, CutoffAt: end.Add(-w.Cutoff)}
}

// NextOpening returns the first opening that starts strictly after t.
func (w Window) NextOpening(t time.Time) (Opening, bool) {
	if w.Schedule == nil {
		return Opening{}, false
	}
	if !w.StartDate.IsZero() && t.Before(w.StartDate) {
		t = w.StartDate.Add(-time.Nanosecond)
	}
	s, ok := w.Schedule.Next(t)
	if !ok || (!w.EndDate.IsZero() && s.After(w.EndDate)) {
		return Opening{}, false
	}
	return w.opening(s), true
}

// At returns the opening that is open at t (start inclusive, end
// exclusive); when openings overlap, the latest.
func (w Window) At(t time.Time) (Opening, bool) {
	var found Opening
	ok := false
	for cur := t.Add(-w.Duration); ; {
		o, more := w.NextOpening(cur)
		if !more || o.Start.After(t) {
			break
		}
		found, ok, cur = o, true, o.Start
	}
	return found, ok
}

// Current returns the opening open at t, or else the next one.
func (w Window) Current(t time.Time) (Opening, bool) {
	if o, ok := w.At(t); ok {
		return o, true
	}
	return w.NextOpening(t)
}

// Upcoming lists up to n openings that start after t.
func (w Window) Upcoming(t time.Time, n int) []Opening {
	var out []Opening
	for len(out) < n {
		o, ok := w.NextOpening(t)
		if !ok {
			break
		}
		out = append(out, o)
		t = o.Start
	}
	return out
}

// Between lists the openings that start in (after, until], at most max of
// them, the latest last: the ones a scheduler that last looked at after
// must now account for.
func (w Window) Between(after, until time.Time, max int) []Opening {
	var out []Opening
	for t := after; ; {
		o, ok := w.NextOpening(t)
		if !ok || o.Start.After(until) {
			break
		}
		out = append(out, o)
		if len(out) > max {
			out = out[1:]
		}
		t = o.Start
	}
	return out
}
