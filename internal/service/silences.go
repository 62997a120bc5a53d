package service

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/silence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The one set of bounds on a silence, whichever door it comes through.
const (
	MaxMatchers   = 64
	MaxMatcherLen = 1024
	MaxComment    = 4096
	// MaxSilence is the longest a silence may last: a year and a day, so
	// that a forgotten one ends.
	MaxSilence = 366 * 24 * time.Hour
)

// SilenceInput is a silence to create (the body of POST /api/v1/silences).
type SilenceInput struct {
	// Matchers are Alertmanager-style matchers, one per string; all must
	// match.
	Matchers []string `json:"matchers"`
	// StartsAt defaults to now.
	StartsAt *time.Time `json:"starts_at"`
	// EndsAt, or Duration from StartsAt ("2h"), is required.
	EndsAt     *time.Time        `json:"ends_at"`
	Duration   string            `json:"duration"`
	Recurrence *store.Recurrence `json:"recurrence"`
	Comment    string            `json:"comment"`
}

// CreateSilence checks in, stores it in canonical form (matchers and
// recurrence as they print) and audits "silence.create".
func (s *Service) CreateSilence(ctx context.Context, c Caller, in SilenceInput) (store.Silence, error) {
	now := s.now()
	rec, err := silenceRecord(in, now)
	if err != nil {
		return rec, err
	}
	rec.ID, rec.TenantID, rec.CreatedBy, rec.CreatedAt = store.NewID(silence.IDPrefix, now), c.Tenant, c.Actor(), now
	sil, err := silence.FromRecord(rec)
	if err == nil {
		err = sil.Validate()
	}
	if err != nil {
		return rec, errorf(Invalid, "%s", ErrLine(err))
	}
	rec = sil.Record()
	err = s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateSilence(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.create", Target: "silence/" + rec.ID, Detail: map[string]any{
			"matchers": rec.Matchers, "starts_at": rec.StartsAt, "ends_at": rec.EndsAt, "recurrence": rec.Recurrence,
			"comment": Clip(rec.Comment, 200)}}, nil
	})
	return rec, err
}

// ExpireSilence ends a silence now and audits "silence.expire".
func (s *Service) ExpireSilence(ctx context.Context, c Caller, id string) error {
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.ExpireSilence(ctx, c.Tenant, id, s.now(), c.Actor()); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.expire", Target: "silence/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(NotFound, "silence %q not found (or already expired)", id)
	}
	return err
}

// silenceRecord checks the input's shape and resolves its times.
func silenceRecord(in SilenceInput, now time.Time) (store.Silence, error) {
	rec := store.Silence{Matchers: in.Matchers, Recurrence: in.Recurrence, Comment: in.Comment, StartsAt: now}
	if err := CheckMatchers("matchers", in.Matchers, true); err != nil {
		return rec, err
	}
	if strings.TrimSpace(in.Comment) == "" {
		return rec, errorf(Invalid, "comment is required")
	}
	if len(in.Comment) > MaxComment {
		return rec, errorf(Invalid, "comment is longer than %d characters", MaxComment)
	}
	if in.StartsAt != nil {
		rec.StartsAt = in.StartsAt.UTC().Truncate(time.Microsecond)
	}
	switch {
	case in.EndsAt != nil && in.Duration != "":
		return rec, errorf(Invalid, "give ends_at or duration, not both")
	case in.EndsAt != nil:
		rec.EndsAt = in.EndsAt.UTC().Truncate(time.Microsecond)
	case in.Duration != "":
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d <= 0 {
			return rec, errorf(Invalid, "duration %q is not a positive duration (e.g. 2h, 90m)", in.Duration)
		}
		rec.EndsAt = rec.StartsAt.Add(d)
	default:
		return rec, errorf(Invalid, "ends_at or duration is required")
	}
	if !rec.EndsAt.After(now) {
		return rec, errorf(Invalid, "ends_at: %s is in the past", rec.EndsAt.Format(time.RFC3339))
	}
	if rec.EndsAt.Sub(rec.StartsAt) > MaxSilence {
		return rec, errorf(Invalid, "a silence lasts at most %d days; this one would last until %s", int(MaxSilence/(24*time.Hour)),
			rec.EndsAt.Format(time.RFC3339))
	}
	return rec, nil
}

// CheckMatchers bounds a list of matcher strings (of a silence or a
// maintenance window); parsing them is the domain package's job, which
// names the bad one.
func CheckMatchers(field string, ms []string, need bool) error {
	if need && len(ms) == 0 {
		return errorf(Invalid, "%s: at least one matcher is required", field)
	}
	if len(ms) > MaxMatchers {
		return errorf(Invalid, "%s: at most %d matchers", field, MaxMatchers)
	}
	for i, m := range ms {
		if len(m) > MaxMatcherLen {
			return errorf(Invalid, "%s[%d]: longer than %d characters", field, i, MaxMatcherLen)
		}
	}
	return nil
}

// ErrLine joins a multi-error's lines for a one-line message.
func ErrLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// Clip shortens s to about n bytes, on a character boundary, marking the
// cut with "…" (for audit details and messages quoting input).
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
