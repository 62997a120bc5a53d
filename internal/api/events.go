package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerEvents() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/events", MinRole: store.RoleViewer}, s.listEvents)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/events/{id}/raw", MinRole: store.RoleViewer}, s.eventRaw)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems/{id}/related", MinRole: store.RoleViewer}, s.opsItemRelated)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/stats/noise", MinRole: store.RoleViewer}, s.noiseStats)
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, BadRequest("%s: invalid RFC 3339 timestamp %q", name, v)
	}
	return t, nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.EventFilter{Source: q.Get("source"), Fingerprint: q.Get("fingerprint"), Resource: q.Get("resource"),
		Status: q.Get("status"), Decision: q.Get("decision"), OpsItemID: q.Get("opsitem")}
	if f.Status != "" && f.Status != "firing" && f.Status != "resolved" {
		return BadRequest("status %q is not firing or resolved", f.Status)
	}
	if f.From, err = timeParam(r, "from"); err != nil {
		return err
	}
	if f.To, err = timeParam(r, "to"); err != nil {
		return err
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListEvents(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	// The list never carries raw payloads (GET /api/v1/events/{id}/raw
	// does, one at a time).
	for i := range items {
		items[i].Raw = nil
	}
	return WritePage(w, items, next, store.EventCursor, same[store.Event])
}

// eventRaw answers one event's raw payload, as the source sent it.
func (s *Server) eventRaw(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	e, err := s.st.GetEvent(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("event %q not found", id)
	} else if err != nil {
		return err
	}
	raw := e.Raw
	if len(raw) == 0 || !json.Valid(raw) {
		raw = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bytes.ToValidUTF8(raw, []byte("\ufffd")))
	return nil
}

// Related is everything known about an OpsItem beyond its own fields.
type Related struct {
	Members   []store.OpsItemMember   `json:"members"`
	Resources []store.OpsItemResource `json:"resources"`
	Timeline  []store.TimelineEntry   `json:"timeline"`
}

func (s *Server) opsItemRelated(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.st.GetOpsItem(ctx, tenant, id); errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	} else if err != nil {
		return err
	}
	var rel Related
	if rel.Members, err = s.st.ListOpsItemMembers(ctx, tenant, id); err != nil {
		return err
	}
	if rel.Resources, err = s.st.ListOpsItemResources(ctx, tenant, id); err != nil {
		return err
	}
	if rel.Timeline, err = s.st.ListTimeline(ctx, tenant, id); err != nil {
		return err
	}
	rel.Members, rel.Resources, rel.Timeline = nonNil(rel.Members), nonNil(rel.Resources), nonNil(rel.Timeline)
	WriteJSON(w, http.StatusOK, rel)
	return nil
}

// NoiseStats is the answer of GET /api/v1/stats/noise.
type NoiseStats struct {
	From           time.Time        `json:"from"`
	To             time.Time        `json:"to"`
	Received       int64            `json:"received"`
	Deduplicated   int64            `json:"deduplicated"`
	Suppressed     map[string]int64 `json:"suppressed"`
	OpsItemsOpened int64            `json:"opsitems_opened"`
	// NoiseReduction is 1 - opened/received (0 when nothing was received).
	NoiseReduction float64 `json:"noise_reduction"`
}

func (s *Server) noiseStats(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	from, err := timeParam(r, "from")
	if err != nil {
		return err
	}
	to, err := timeParam(r, "to")
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = s.now().Add(time.Minute)
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !from.Before(to) {
		return BadRequest("from must be before to")
	}
	b, err := s.st.NoiseTotals(r.Context(), tenant, from, to)
	if err != nil {
		return err
	}
	st := NoiseStats{From: from, To: to, Received: b.Received, Deduplicated: b.Deduplicated, Suppressed: b.Suppressed, OpsItemsOpened: b.Opened}
	if b.Received > 0 {
		st.NoiseReduction = 1 - float64(b.Opened)/float64(b.Received)
	}
	WriteJSON(w, http.StatusOK, st)
	return nil
}

// nonNil makes a nil slice encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
