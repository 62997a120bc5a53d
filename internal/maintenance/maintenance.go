// Package maintenance decides whether an event falls in a maintenance
// window: planned work ("patch the database hosts, Saturdays 02:00–06:00
// Europe/Berlin") during which the alerts it causes are expected and
// deflected instead of opening OpsItems.
//
// A window has a schedule — one-off (Start..End) or weekly (days, local
// start time, duration, in the window's IANA time zone; see package
// recurrence for the daylight-saving rules) — and targets saying which
// events it covers: label matchers, resource IDs and resource tags. Every
// target criterion a window sets must hold; at least one is set, so no
// window covers everything by accident.
//
// The pipeline loads a tenant's windows (store.ActiveMaintenanceWindows),
// builds a Set with Compile and asks Set.Match for each event. Tags come
// from the inventory through the TagLookup the caller passes.
package maintenance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
	"github.com/flywheel-ops/flywheel/internal/schedule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// IDPrefix starts every window ID: "mw_…".
const IDPrefix = "mw"

// TagLookup returns the tags of the inventory resource an event names
// (nil when unknown). A nil TagLookup means no tags are known, so windows
// that target tags match nothing.
type TagLookup func(ref event.ResourceRef) map[string]string

// GroupLookup reports whether the resource an event names is a member of
// a resource group. A nil GroupLookup means no membership is known, so
// windows that target a group match nothing.
type GroupLookup func(group string, ref event.ResourceRef) bool

// Schedule is when a window is open: Start..End once, Weekly, or
// Recurring (a cron or rate expression with a duration).
type Schedule struct {
	// Start (inclusive) and End (exclusive) bound a one-off window.
	Start, End time.Time
	// Weekly, when set, makes the window recurring; Start and End are
	// then unused.
	Weekly *recurrence.Weekly
	// Recurring, when set, is a cron or rate schedule with its duration,
	// cutoff and start and end dates; Start, End and Weekly are unused.
	Recurring *schedule.Window
	// Cutoff is how long before an opening's end no task starts (all
	// forms; Recurring carries its own copy).
	Cutoff time.Duration
}

// Plan returns the window's openings as a schedule.Window, whatever form
// its schedule takes: the runner and `flywheel window next` read it.
func (w *Window) Plan() schedule.Window {
	s := w.Schedule
	switch {
	case s.Recurring != nil:
		return *s.Recurring
	case s.Weekly != nil:
		return schedule.Window{Schedule: schedule.Weekly{Weekly: *s.Weekly}, Duration: s.Weekly.Duration, Cutoff: s.Cutoff}
	default:
		return schedule.Window{Schedule: schedule.Once{At: s.Start}, Duration: s.End.Sub(s.Start), Cutoff: s.Cutoff}
	}
}

// Targets say which events a window covers. Each criterion that is set
// must hold.
type Targets struct {
	// Matchers must all match the event's labels (matcher.EventLabels).
	Matchers matcher.Matchers
	// ResourceIDs match when one of the event's resources has one of them.
	ResourceIDs []string
	// Tags match when one of the event's resources carries every one of
	// them, as the TagLookup reports.
	Tags map[string]string
	// Group matches when one of the event's resources is a member of the
	// resource group, as the GroupLookup reports.
	Group string
}

// Window is one maintenance window.
type Window struct {
	// Tasks run on the window's targets at each opening (none: the window
	// only deflects).
	Tasks    []Task
	ID       string
	TenantID string
	Name     string
	// Timezone is the zone weekly schedules are read in.
	Timezone  *time.Location
	Schedule  Schedule
	Targets   Targets
	Comment   string
	CreatedBy string
	CreatedAt time.Time
	// RunOnly windows run their tasks and deflect nothing.
	RunOnly bool
	// Manual are the periods of runs asked for on demand (`flywheel window
	// run --now`): the window is open during them too.
	Manual []Period

	scheduleOffset int // as given, for Record
}

// Period is a span of time, start inclusive, end exclusive.
type Period struct{ Start, End time.Time }

// ActiveAt reports whether the window is open at t.
func (w *Window) ActiveAt(t time.Time) bool {
	for _, p := range w.Manual {
		if !t.Before(p.Start) && t.Before(p.End) {
			return true
		}
	}
	if r := w.Schedule.Recurring; r != nil {
		_, ok := r.At(t)
		return ok
	}
	if w.Schedule.Weekly != nil {
		return w.Schedule.Weekly.ActiveAt(t)
	}
	return !t.Before(w.Schedule.Start) && t.Before(w.Schedule.End)
}

// Next returns the period the window is open in at t, or the next one;
// ok is false when it will not open again.
func (w *Window) Next(t time.Time) (start, end time.Time, ok bool) {
	if r := w.Schedule.Recurring; r != nil {
		o, ok := r.Current(t)
		return o.Start, o.End, ok
	}
	if w.Schedule.Weekly != nil {
		return w.Schedule.Weekly.Next(t)
	}
	if t.Before(w.Schedule.End) {
		return w.Schedule.Start, w.Schedule.End, true
	}
	return time.Time{}, time.Time{}, false
}

// Matches reports whether the window's targets cover e, whatever the time.
func (w *Window) Matches(e *event.Event, tags TagLookup) bool {
	var labels map[string]string
	return w.matches(e, &labels, tags, nil)
}

// matches is Matches with the event's labels computed at most once across
// the windows of a Set.
func (w *Window) matches(e *event.Event, labels *map[string]string, tags TagLookup, groups GroupLookup) bool {
	t := &w.Targets
	if len(t.Matchers) > 0 {
		if *labels == nil {
			*labels = matcher.EventLabels(e)
		}
		if !t.Matchers.Matches(*labels) {
			return false
		}
	}
	if len(t.ResourceIDs) > 0 && !slices.ContainsFunc(e.Resources, func(r event.ResourceRef) bool {
		return slices.Contains(t.ResourceIDs, r.ID)
	}) {
		return false
	}
	if len(t.Tags) > 0 {
		if tags == nil || !slices.ContainsFunc(e.Resources, func(r event.ResourceRef) bool { return hasTags(tags(r), t.Tags) }) {
			return false
		}
	}
	if t.Group != "" {
		if groups == nil || !slices.ContainsFunc(e.Resources, func(r event.ResourceRef) bool { return groups(t.Group, r) }) {
			return false
		}
	}
	return true
}

func hasTags(have, want map[string]string) bool {
	if have == nil {
		return false
	}
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Validate checks what a window must satisfy to be stored. Each error
// begins with the field it is about.
func (w *Window) Validate() error {
	var errs []error
	switch name := w.Name; {
	case strings.TrimSpace(name) == "":
		errs = append(errs, errors.New("name: is required"))
	case len(name) > 128:
		errs = append(errs, errors.New("name: is longer than 128 characters"))
	case strings.ContainsFunc(name, unicode.IsControl) || strings.TrimSpace(name) != name:
		errs = append(errs, fmt.Errorf("name: %q has control characters or surrounding space", name))
	}
	if r := w.Schedule.Recurring; r != nil {
		errs = append(errs, r.Validate())
	} else if s := w.Schedule; s.Weekly == nil {
		switch {
		case s.Start.IsZero() || s.End.IsZero():
			errs = append(errs, errors.New("schedule: give start and end for a one-off window, or weekly for a recurring one"))
		case !s.End.After(s.Start):
			errs = append(errs, fmt.Errorf("schedule.end: %s is not after schedule.start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339)))
		}
	}
	t := w.Targets
	switch {
	case len(t.Matchers) == 0 && len(t.ResourceIDs) == 0 && len(t.Tags) == 0 && t.Group == "":
		errs = append(errs, errors.New("targets: set at least one of matchers, resource_ids, tags or group (a window must not cover every event)"))
	case len(t.ResourceIDs) == 0 && len(t.Tags) == 0 && t.Group == "" && t.Matchers.MatchesEmpty():
		errs = append(errs, fmt.Errorf("targets.matchers: %s would cover every event; add one that requires a value", t.Matchers))
	}
	for i, id := range t.ResourceIDs {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, fmt.Errorf("targets.resource_ids[%d]: is empty", i))
		}
	}
	for k := range t.Tags {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("targets.tags: a tag key is empty"))
		}
	}
	if len(w.Tasks) > 0 && len(t.ResourceIDs) == 0 && len(t.Tags) == 0 && t.Group == "" {
		errs = append(errs, errors.New("targets: a window with tasks needs resource_ids, tags or a group to run them on (matchers only deflect)"))
	}
	if g := t.Group; g != "" && (len(g) > 128 || strings.TrimSpace(g) != g) {
		errs = append(errs, fmt.Errorf("targets.group: %q is not a resource group name", g))
	}
	errs = append(errs, validateTasks(w.Tasks)...)
	if w.Schedule.Cutoff < 0 {
		errs = append(errs, fmt.Errorf("cutoff: %s is negative", w.Schedule.Cutoff))
	}
	return errors.Join(errs...)
}

// FromRecord parses a stored or submitted window. Errors name the field:
// "timezone: …", "schedule.weekly.start: …", "targets.matchers[0]: …".
// An empty Timezone means UTC.
func FromRecord(r store.MaintenanceWindow) (*Window, error) {
	w := &Window{ID: r.ID, TenantID: r.TenantID, Name: r.Name, Comment: r.Comment, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, RunOnly: r.RunOnly}
	loc, err := recurrence.LoadLocation(r.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	w.Timezone = loc
	s := r.Schedule
	if r.Cutoff != "" {
		if w.Schedule.Cutoff, err = time.ParseDuration(r.Cutoff); err != nil {
			return nil, fmt.Errorf("cutoff: %q is not a duration such as 1h or 30m", r.Cutoff)
		}
	}
	if s.Expression == "" && (r.Duration != "" || r.ScheduleOffset != 0 || r.StartDate != nil || r.EndDate != nil) {
		return nil, errors.New("schedule: duration, schedule_offset, start_date and end_date go with a cron or rate schedule")
	}
	if s.Expression != "" {
		if s.Start != nil || s.End != nil || s.Weekly != nil {
			return nil, errors.New("schedule: give a cron or rate expression, start and end, or weekly — one of them")
		}
		plan := schedule.Window{Cutoff: w.Schedule.Cutoff}
		if r.StartDate != nil {
			plan.StartDate = *r.StartDate
		}
		if r.EndDate != nil {
			plan.EndDate = *r.EndDate
		}
		anchor := plan.StartDate
		if anchor.IsZero() {
			anchor = r.CreatedAt
		}
		if plan.Schedule, err = schedule.Parse(s.Expression, schedule.Options{Location: loc, OffsetDays: r.ScheduleOffset, Anchor: anchor}); err != nil {
			return nil, err
		}
		if r.Duration == "" {
			return nil, errors.New("duration: is required with a cron or rate schedule (e.g. 4h)")
		}
		if plan.Duration, err = time.ParseDuration(r.Duration); err != nil {
			return nil, fmt.Errorf("duration: %q is not a duration such as 4h or 90m", r.Duration)
		}
		w.Schedule.Recurring, w.scheduleOffset = &plan, r.ScheduleOffset
	} else if s.Weekly != nil {
		if s.Start != nil || s.End != nil {
			return nil, errors.New("schedule: give start and end, or weekly, not both")
		}
		if s.Weekly.Timezone != "" && s.Weekly.Timezone != loc.String() {
			return nil, fmt.Errorf("schedule.weekly.timezone: %q differs from the window's timezone %q; set only timezone", s.Weekly.Timezone, loc)
		}
		wk, err := recurrence.FromRecord(recurrence.Record(*s.Weekly), loc.String())
		if err != nil {
			return nil, fmt.Errorf("schedule.weekly.%w", err)
		}
		w.Schedule.Weekly = &wk
	} else {
		if s.Start != nil {
			w.Schedule.Start = *s.Start
		}
		if s.End != nil {
			w.Schedule.End = *s.End
		}
	}
	ms, err := matcher.ParseAll(r.Targets.Matchers)
	if err != nil {
		return nil, fmt.Errorf("targets.matchers%w", err)
	}
	w.Targets = Targets{Matchers: ms, ResourceIDs: r.Targets.ResourceIDs, Tags: r.Targets.Tags, Group: r.Targets.Group}
	if len(ms) == 0 {
		w.Targets.Matchers = nil
	}
	if w.Tasks, err = tasksFromRecord(r.Tasks); err != nil {
		return nil, err
	}
	return w, nil
}

// Record returns the window as stored.
func (w *Window) Record() store.MaintenanceWindow {
	r := store.MaintenanceWindow{
		ID: w.ID, TenantID: w.TenantID, Name: w.Name, Timezone: zoneName(w.Timezone),
		Targets:   store.MaintenanceTargets{ResourceIDs: w.Targets.ResourceIDs, Tags: w.Targets.Tags, Group: w.Targets.Group},
		Comment:   w.Comment,
		CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt, RunOnly: w.RunOnly,
	}
	if len(w.Targets.Matchers) > 0 {
		r.Targets.Matchers = w.Targets.Matchers.Strings()
	}
	if w.Schedule.Cutoff != 0 {
		r.Cutoff = recurrence.FormatDuration(w.Schedule.Cutoff)
	}
	r.Tasks = tasksRecord(w.Tasks)
	if rc := w.Schedule.Recurring; rc != nil {
		r.Schedule.Expression = rc.Schedule.String()
		r.Duration = recurrence.FormatDuration(rc.Duration)
		r.ScheduleOffset = w.scheduleOffset
		if !rc.StartDate.IsZero() {
			sd := rc.StartDate
			r.StartDate = &sd
		}
		if !rc.EndDate.IsZero() {
			ed := rc.EndDate
			r.EndDate = &ed
		}
	} else if wk := w.Schedule.Weekly; wk != nil {
		rec := store.Recurrence(wk.Record())
		rec.Timezone = "" // the window's own
		r.Schedule.Weekly = &rec
	} else {
		start, end := w.Schedule.Start, w.Schedule.End
		r.Schedule.Start, r.Schedule.End = &start, &end
	}
	return r
}

func zoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	return loc.String()
}
