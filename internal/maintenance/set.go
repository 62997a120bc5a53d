package maintenance

import (
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Set is one tenant's maintenance windows. It is immutable and safe for
// concurrent use.
type Set struct {
	windows []*Window
}

// NewSet returns a set; Match prefers earlier windows.
func NewSet(windows []*Window) *Set { return &Set{windows: windows} }

// Compile parses stored windows (as store.ActiveMaintenanceWindows returns
// them) into a Set. A record that no longer parses is left out and
// reported in the joined error, with the rest still usable.
func Compile(records []store.MaintenanceWindow) (*Set, error) {
	out := make([]*Window, 0, len(records))
	var errs []error
	for _, r := range records {
		w, err := FromRecord(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("maintenance window %s (%s): %w", r.ID, r.Name, err))
			continue
		}
		out = append(out, w)
	}
	return NewSet(out), errors.Join(errs...)
}

// ManualRuns lists the runs a Set needs to know of: among a tenant's recent
// runs (newest first), the manual ones not yet over at at.
func ManualRuns(runs []store.WindowRun, at time.Time) []store.WindowRun {
	var out []store.WindowRun
	for _, r := range runs {
		if r.Trigger == store.TriggerManual && r.EndsAt.After(at) && r.Status != store.WindowRunMissed {
			out = append(out, r)
		}
	}
	return out
}

// CompileWithRuns is Compile, with each window also open for the manual
// runs of it given (a run asked for now opens its window, as a scheduled
// opening does, so the work it does never pages).
func CompileWithRuns(records []store.MaintenanceWindow, runs []store.WindowRun) (*Set, error) {
	s, err := Compile(records)
	for _, r := range runs {
		for _, w := range s.windows {
			if w.ID == r.WindowID && r.Trigger == store.TriggerManual {
				w.Manual = append(w.Manual, Period{Start: r.ScheduledAt, End: r.EndsAt})
			}
		}
	}
	return s, err
}

// Len returns the number of windows in the set.
func (s *Set) Len() int { return len(s.windows) }

// Match returns the first window that is open at at and covers e.
func (s *Set) Match(e *event.Event, at time.Time, tags TagLookup) (*Window, bool) {
	return s.MatchIn(e, at, tags, nil)
}

// MatchIn is Match with resource group membership known too.
func (s *Set) MatchIn(e *event.Event, at time.Time, tags TagLookup, groups GroupLookup) (*Window, bool) {
	var labels map[string]string // computed once, if some window needs it
	for _, w := range s.windows {
		if !w.RunOnly && w.ActiveAt(at) && w.matches(e, &labels, tags, groups) {
			return w, true
		}
	}
	return nil, false
}
