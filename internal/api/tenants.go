package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerTenants() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tenants", MinRole: store.RoleViewer}, s.listTenants)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/tenants", MinRole: store.RoleAdmin, PlatformAdmin: true}, s.createTenant)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tenants/{id}", MinRole: store.RoleViewer}, s.getTenant)
}

// TenantIDPattern is what a tenant ID may look like: a DNS-label-like slug.
var TenantIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

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
type TenantInput struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in TenantInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if !TenantIDPattern.MatchString(in.ID) {
		return BadRequest("id %q must be lowercase letters, digits and '-', 1 to 63 characters", in.ID)
	}
	if in.Name == "" {
		in.Name = in.ID
	}
	if err := maxLen("name", in.Name, 200); err != nil {
		return err
	}
	t := store.Tenant{ID: in.ID, Name: in.Name, Description: in.Description, CreatedAt: s.now()}
	err := s.Mutate(r, t.ID, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateTenant(ctx, t); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "tenant.create", Target: "tenant/" + t.ID, Detail: map[string]string{"name": t.Name}}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return Conflict("tenant %q already exists", t.ID)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, t)
	return nil
}
