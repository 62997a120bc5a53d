// Package silence decides whether a silence mutes an event: "mute what
// these matchers select, from StartsAt until EndsAt", optionally only in
// weekly slots ("every Saturday 02:00–06:00 Europe/Berlin, for the next
// three months"). It is Alertmanager's silence, for every source.
//
// The pipeline loads a tenant's unended silences (store.ActiveSilences),
// builds a Set with Compile and asks Set.Match for each event's labels
// (matcher.EventLabels) at the event's time. The API and CLI create and
// expire silences; this package validates them and converts to and from
// the store record.
package silence

import (
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// IDPrefix starts every silence ID: "sil_…".
const IDPrefix = "sil"

// Silence mutes the events its matchers select while it is active.
type Silence struct {
	ID       string
	TenantID string
	// Matchers all must match the event's labels.
	Matchers matcher.Matchers
	// StartsAt (inclusive) and EndsAt (exclusive) bound the silence.
	StartsAt, EndsAt time.Time
	// Recurrence, when set, limits the silence to these weekly slots
	// within StartsAt..EndsAt.
	Recurrence *recurrence.Weekly
	CreatedBy  string
	Comment    string
	CreatedAt  time.Time
	// ExpiredAt is set when the silence was ended early (zero otherwise);
	// ExpiredBy says who ended it.
	ExpiredAt time.Time
	ExpiredBy string
}

// State is where a silence is in its life, as Alertmanager names it.
type State string

const (
	StatePending State = "pending" // StartsAt is still ahead
	StateActive  State = "active"  // within StartsAt..EndsAt
	StateExpired State = "expired" // EndsAt has passed, or it was expired early
)

// State returns the silence's state at at. An active recurring silence
// mutes only inside its slots; see Active.
func (s *Silence) State(at time.Time) State {
	switch {
	case !at.Before(s.EndsAt):
		return StateExpired
	case at.Before(s.StartsAt):
		return StatePending
	}
	return StateActive
}

// Active reports whether the silence mutes at at: within StartsAt..EndsAt
// and, when it recurs, inside one of its weekly slots.
func (s *Silence) Active(at time.Time) bool {
	if at.Before(s.StartsAt) || !at.Before(s.EndsAt) {
		return false
	}
	return s.Recurrence == nil || s.Recurrence.ActiveAt(at)
}

// Matches reports whether the silence's matchers select labels, whatever
// the time.
func (s *Silence) Matches(labels map[string]string) bool { return s.Matchers.Matches(labels) }

// Expire ends the silence at now: EndsAt and ExpiredAt become now, and a
// silence that had not started starts (and ends) now, so StartsAt ≤ EndsAt
// holds. It reports false, changing nothing, when the silence has already
// ended.
func (s *Silence) Expire(now time.Time, by string) bool {
	if !now.Before(s.EndsAt) {
		return false
	}
	if now.Before(s.StartsAt) {
		s.StartsAt = now
	}
	s.EndsAt, s.ExpiredAt, s.ExpiredBy = now, now, by
	return true
}

// Validate checks what a silence must satisfy to be stored. Each error
// begins with the field it is about (matchers, starts_at, ends_at).
func (s *Silence) Validate() error {
	var errs []error
	switch {
	case len(s.Matchers) == 0:
		errs = append(errs, errors.New("matchers: at least one matcher is required"))
	case s.Matchers.MatchesEmpty():
		errs = append(errs, fmt.Errorf("matchers: %s would mute every event (each matcher matches an event without the label); add one that requires a value, e.g. alertname=\"…\"", s.Matchers))
	}
	switch {
	case s.StartsAt.IsZero():
		errs = append(errs, errors.New("starts_at: is required"))
	case s.EndsAt.IsZero():
		errs = append(errs, errors.New("ends_at: is required"))
	case !s.EndsAt.After(s.StartsAt):
		errs = append(errs, fmt.Errorf("ends_at: %s is not after starts_at %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}

// FromRecord parses a stored or submitted silence. Errors name the field:
// "matchers[1]: bad matcher …", "recurrence.timezone: …".
func FromRecord(r store.Silence) (*Silence, error) {
	s := &Silence{
		ID: r.ID, TenantID: r.TenantID, StartsAt: r.StartsAt, EndsAt: r.EndsAt,
		CreatedBy: r.CreatedBy, Comment: r.Comment, CreatedAt: r.CreatedAt, ExpiredBy: r.ExpiredBy,
	}
	if r.ExpiredAt != nil {
		s.ExpiredAt = *r.ExpiredAt
	}
	ms, err := matcher.ParseAll(r.Matchers)
	if err != nil {
		return nil, fmt.Errorf("matchers%w", err)
	}
	s.Matchers = ms
	if r.Recurrence != nil {
		w, err := recurrence.FromRecord(recurrence.Record(*r.Recurrence), "")
		if err != nil {
			return nil, fmt.Errorf("recurrence.%w", err)
		}
		s.Recurrence = &w
	}
	return s, nil
}

// Record returns the silence as stored.
func (s *Silence) Record() store.Silence {
	r := store.Silence{
		ID: s.ID, TenantID: s.TenantID, Matchers: s.Matchers.Strings(), StartsAt: s.StartsAt, EndsAt: s.EndsAt,
		Comment: s.Comment, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, ExpiredBy: s.ExpiredBy,
	}
	if !s.ExpiredAt.IsZero() {
		at := s.ExpiredAt
		r.ExpiredAt = &at
	}
	if s.Recurrence != nil {
		rec := store.Recurrence(s.Recurrence.Record())
		r.Recurrence = &rec
	}
	return r
}
