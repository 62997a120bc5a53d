package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// PatchService is patch management (internal/patch); *patch.Service is one.
type PatchService interface {
	Compliance(ctx context.Context, tenant string, days int) (patch.Report, error)
	Host(ctx context.Context, tenant, resourceID string) (patch.HostCompliance, error)
	Baselines(tenant string) []patch.BaselineView
	Expedite(ctx context.Context, tx store.Tx, tenant, actor string, req patch.ExpediteRequest) (store.Expedite, error)
}

var _ PatchService = (*patch.Service)(nil)

func (s *Server) registerPatch() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/patch/compliance", MinRole: store.RoleViewer}, s.patchCompliance)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/patch/hosts/{id}", MinRole: store.RoleViewer}, s.patchHost)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/patch/baselines", MinRole: store.RoleViewer}, s.patchBaselines)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/patch/expedites", MinRole: store.RoleViewer}, s.listExpedites)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/patch/expedites", MinRole: store.RoleOperator}, s.createExpedite)
}

func (s *Server) patchService() (PatchService, error) {
	if s.patch == nil {
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "this server does not manage patches"}
	}
	return s.patch, nil
}

// patchCompliance answers GET /api/v1/patch/compliance?days=N: the
// tenant's compliance by group, application and host, with an N-day trend.
func (s *Server) patchCompliance(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > 366 {
			return BadRequest("days %q must be a number from 1 to 366", v)
		}
	}
	ps, err := s.patchService()
	if err != nil {
		return err
	}
	rep, err := ps.Compliance(r.Context(), tenant, days)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, rep)
	return nil
}

// patchHost answers GET /api/v1/patch/hosts/{id}: a host's packages, the
// baseline's decision on each, and why it is not compliant.
func (s *Server) patchHost(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	ps, err := s.patchService()
	if err != nil {
		return err
	}
	h, err := ps.Host(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("no patch scan of host %s", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) patchBaselines(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	ps, err := s.patchService()
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[patch.BaselineView]{Items: ps.Baselines(tenant)})
	return nil
}

func (s *Server) listExpedites(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	l, err := s.st.ListExpedites(r.Context(), tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[store.Expedite]{Items: l})
	return nil
}

// createExpedite answers POST /api/v1/patch/expedites: the expedite runbook
// starts on the targets and waits for an admin's approval; the update is
// due by the end of the tenant's next business day.
func (s *Server) createExpedite(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in patch.ExpediteRequest
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.Check(); err != nil {
		return BadRequest("%s", errLine(err))
	}
	ps, err := s.patchService()
	if err != nil {
		return err
	}
	ctx := r.Context()
	for _, id := range in.Targets {
		if _, err := s.st.GetResource(ctx, tenant, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return BadRequest("target %q: no such host", id)
			}
			return err
		}
	}
	var e store.Expedite
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		e, err = ps.Expedite(ctx, tx, tenant, Principal(r).Actor(), in)
		return err
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, e)
	return nil
}
