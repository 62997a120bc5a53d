package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/silence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerSilences() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/silences", MinRole: store.RoleViewer}, s.listSilences)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/silences", MinRole: store.RoleOperator}, s.createSilence)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/silences/{id}", MinRole: store.RoleViewer}, tenantGet(s, "silence", s.st.GetSilence, s.silenceView))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/silences/{id}", MinRole: store.RoleOperator}, s.expireSilence)
}

// Bounds on what one silence or window may hold.
const (
	maxMatchers   = 64
	maxMatcherLen = 1024
	maxComment    = 4096
)

// SilenceInput is the body of POST /api/v1/silences.
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

// Silence is a silence as the API shows it: the record and its state now.
type Silence struct {
	store.Silence
	State silence.State `json:"state"`
}

func (s *Server) silenceView(r store.Silence) Silence {
	sil := &silence.Silence{StartsAt: r.StartsAt, EndsAt: r.EndsAt}
	return Silence{Silence: r, State: sil.State(s.now())}
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	f := store.SilenceFilter{Now: s.now()}
	if v := r.URL.Query().Get("expired"); v != "" {
		if f.Expired, err = strconv.ParseBool(v); err != nil {
			return BadRequest("expired %q must be true or false", v)
		}
	}
	items, next, err := s.st.ListSilences(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(it store.Silence) string { return it.ID }, s.silenceView)
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in SilenceInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	now := s.now()
	rec, err := silenceRecord(in, now)
	if err != nil {
		return err
	}
	rec.ID, rec.TenantID, rec.CreatedBy, rec.CreatedAt = store.NewID(silence.IDPrefix, now), tenant, Principal(r).Actor(), now
	sil, err := silence.FromRecord(rec)
	if err != nil {
		return BadRequest("%s", errLine(err))
	}
	if err := sil.Validate(); err != nil {
		return BadRequest("%s", errLine(err))
	}
	// Store the canonical form: matchers and recurrence as they print.
	rec = sil.Record()
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateSilence(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.create", Target: "silence/" + rec.ID, Detail: map[string]any{
			"matchers": rec.Matchers, "starts_at": rec.StartsAt, "ends_at": rec.EndsAt, "recurrence": rec.Recurrence,
			"comment": clipDetail(rec.Comment, 200)}}, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/silences/"+rec.ID)
	WriteJSON(w, http.StatusCreated, s.silenceView(rec))
	return nil
}

// silenceRecord checks the input's shape and resolves its times.
func silenceRecord(in SilenceInput, now time.Time) (store.Silence, error) {
	rec := store.Silence{Matchers: in.Matchers, Recurrence: in.Recurrence, Comment: in.Comment, StartsAt: now}
	if err := checkMatchers("matchers", in.Matchers, true); err != nil {
		return rec, err
	}
	if err := required("comment", in.Comment); err != nil {
		return rec, err
	}
	if err := maxLen("comment", in.Comment, maxComment); err != nil {
		return rec, err
	}
	if in.StartsAt != nil {
		rec.StartsAt = in.StartsAt.UTC().Truncate(time.Microsecond)
	}
	switch {
	case in.EndsAt != nil && in.Duration != "":
		return rec, BadRequest("give ends_at or duration, not both")
	case in.EndsAt != nil:
		rec.EndsAt = in.EndsAt.UTC().Truncate(time.Microsecond)
	case in.Duration != "":
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d <= 0 {
			return rec, BadRequest("duration %q is not a positive duration (e.g. 2h, 90m)", in.Duration)
		}
		rec.EndsAt = rec.StartsAt.Add(d)
	default:
		return rec, BadRequest("ends_at or duration is required")
	}
	if !rec.EndsAt.After(now) {
		return rec, BadRequest("ends_at: %s is in the past", rec.EndsAt.Format(time.RFC3339))
	}
	return rec, nil
}

// checkMatchers bounds a list of matcher strings; parsing them is the
// domain package's job, which names the bad one.
func checkMatchers(field string, ms []string, need bool) error {
	if need && len(ms) == 0 {
		return BadRequest("%s: at least one matcher is required", field)
	}
	if len(ms) > maxMatchers {
		return BadRequest("%s: at most %d matchers", field, maxMatchers)
	}
	for i, m := range ms {
		if len(m) > maxMatcherLen {
			return BadRequest("%s[%d]: longer than %d characters", field, i, maxMatcherLen)
		}
	}
	return nil
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.ExpireSilence(ctx, tenant, id, s.now(), Principal(r).Actor()); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.expire", Target: "silence/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("silence %q not found (or already expired)", id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errLine joins a multi-error's lines for a one-line API message.
func errLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// clipDetail shortens s to about n bytes for an audit detail, on a
// character boundary.
func clipDetail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
