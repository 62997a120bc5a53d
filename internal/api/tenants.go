package api

import (
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerTenants() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tenants", MinRole: store.RoleViewer}, s.listTenants)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/tenants", MinRole: store.RoleAdmin, PlatformAdmin: true}, s.createTenant)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tenants/{id}", MinRole: store.RoleViewer}, s.getTenant)
}

// TenantIDPattern is what a tenant ID may look like: a DNS-label-like slug.
var TenantIDPattern = service.TenantIDPattern

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	p := Principal(r)
	if !p.PlatformAdmin {
		t, err := s.st.GetTenant(r.Context(), p.TenantID)
		if err != nil {
			return err
		}
		WriteList(w, []store.Tenant{t}, "")
		return nil
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListTenants(r.Context(), page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(t store.Tenant) string { return t.ID }, same[store.Tenant])
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if p := Principal(r); !p.PlatformAdmin && id != p.TenantID {
		return NotFound("tenant %q not found", id)
	}
	t, err := s.st.GetTenant(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("tenant %q not found", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, t)
	return nil
}

// TenantInput is the body of POST /api/v1/tenants.
type TenantInput = service.TenantInput

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in TenantInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.svc.CreateTenant(r.Context(), service.Caller{Principal: Principal(r), Tenant: in.ID}, in)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, t)
	return nil
}
