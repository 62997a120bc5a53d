package api

import (
	"net/http"
	"strconv"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/silence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerSilences() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/silences", MinRole: store.RoleViewer}, s.listSilences)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/silences", MinRole: store.RoleOperator}, s.createSilence)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/silences/{id}", MinRole: store.RoleViewer}, tenantGet(s, "silence", s.st.GetSilence, s.silenceView))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/silences/{id}", MinRole: store.RoleOperator}, s.expireSilence)
}

// Bounds on what one silence or window may hold: the service's one set.
const (
	maxMatchers   = service.MaxMatchers
	maxMatcherLen = service.MaxMatcherLen
	maxComment    = service.MaxComment
)

// SilenceInput is the body of POST /api/v1/silences.
type SilenceInput = service.SilenceInput

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
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	var in SilenceInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	rec, err := s.svc.CreateSilence(r.Context(), c, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/silences/"+rec.ID)
	WriteJSON(w, http.StatusCreated, s.silenceView(rec))
	return nil
}

// checkMatchers bounds a list of matcher strings (service.CheckMatchers).
func checkMatchers(field string, ms []string, need bool) error {
	return service.CheckMatchers(field, ms, need)
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	if err := s.svc.ExpireSilence(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errLine joins a multi-error's lines for a one-line API message.
func errLine(err error) string { return service.ErrLine(err) }

// clipDetail shortens s to about n bytes, on a character boundary.
func clipDetail(s string, n int) string { return service.Clip(s, n) }
