package api

import (
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Applications as content declares them (read-only: they change with the
// content, not through the API), each with its impact.

// ApplicationView is one application of GET /api/v1/applications.
type ApplicationView struct {
	Name        string             `json:"name"`
	Tenant      string             `json:"tenant,omitempty"` // "" for every tenant
	Environment string             `json:"environment"`
	Criticality string             `json:"criticality"`
	Owners      []string           `json:"owners"`
	DependsOn   []string           `json:"depends_on"`
	Impact      application.Impact `json:"impact"`
}

func (s *Server) registerApplications() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/applications", MinRole: store.RoleViewer}, s.listApplications)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/applications/{id}", MinRole: store.RoleViewer}, s.getApplication)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/applications/proposals", MinRole: store.RoleViewer}, s.proposeApplications)
}

// DefaultProposalPeriod is the period application discovery looks at when
// the request names none; at most maxProposalEvents of its newest events
// are read.
const (
	DefaultProposalPeriod = 7 * 24 * time.Hour
	maxProposalEvents     = 20000
)

// proposeApplications proposes applications from the labels and tags of
// the tenant's events of the period that no application selects, each
// with a drafted Application to review and add to content.
func (s *Server) proposeApplications(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	from, to, err := StatsPeriod(r, s.now(), DefaultProposalPeriod)
	if err != nil {
		return err
	}
	var evs []*event.Event
	page := store.Page{Limit: store.MaxPageLimit}
	for len(evs) < maxProposalEvents {
		es, next, err := s.st.ListEvents(r.Context(), tenant, store.EventFilter{From: from, To: to}, page)
		if err != nil {
			return err
		}
		for _, e := range es {
			ev := &event.Event{Source: e.Source, Labels: e.Labels}
			if e.ResourceKey != "" {
				ev.Resources = []event.ResourceRef{{ID: e.ResourceKey}}
			}
			evs = append(evs, ev)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	WriteList(w, nonNil(application.Propose(s.apps.Load(), tenant, evs)), "")
	return nil
}

func (s *Server) applicationViews(tenant string) []ApplicationView {
	out := []ApplicationView{}
	for _, a := range s.apps.Load().For(tenant) {
		im, _ := s.apps.Load().ImpactOf(a.Name)
		out = append(out, ApplicationView{Name: a.Name, Tenant: a.Tenant, Environment: a.Environment, Criticality: a.Criticality,
			Owners: nonNil(a.Owners), DependsOn: nonNil(a.DependsOn), Impact: im})
	}
	return out
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	WriteList(w, s.applicationViews(tenant), "")
	return nil
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) error {
	tenant, name, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	for _, v := range s.applicationViews(tenant) {
		if v.Name == name {
			WriteJSON(w, http.StatusOK, v)
			return nil
		}
	}
	return NotFound("application %q not found", name)
}
