package api

import (
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerOpsItems() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems", MinRole: store.RoleViewer}, s.listOpsItems)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems", MinRole: store.RoleOperator}, s.createOpsItem)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems/{id}", MinRole: store.RoleViewer}, s.getOpsItem)
	s.Handle(Route{Method: "PATCH", Pattern: "/api/v1/opsitems/{id}", MinRole: store.RoleOperator}, s.updateOpsItem)
	s.registerOpsItemHandling()
	s.registerOpsItemRegroup()
}

// OpsItemFilter reads the list filters from the query string, validating them.
func OpsItemFilter(r *http.Request) (store.OpsItemFilter, error) {
	q := r.URL.Query()
	f := store.OpsItemFilter{Status: q.Get("status"), Severity: q.Get("severity"), Category: q.Get("category"), Text: q.Get("q"),
		Resource: q.Get("resource"), Assignee: q.Get("assignee")}
	if f.Status != "" {
		if err := opsitem.ValidStatus(f.Status); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if f.Severity != "" {
		if err := opsitem.ValidSeverity(f.Severity); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if f.Category != "" {
		if err := opsitem.ValidCategory(f.Category); err != nil {
			return f, BadRequest("%v", err)
		}
	}
	if err := maxLen("resource", f.Resource, 500); err != nil {
		return f, err
	}
	if err := maxLen("assignee", f.Assignee, opsitem.MaxAssignee); err != nil {
		return f, err
	}
	return f, maxLen("q", f.Text, 200)
}

func (s *Server) listOpsItems(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	f, err := OpsItemFilter(r)
	if err != nil {
		return err
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListOpsItems(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(o store.OpsItem) string { return o.ID }, same[store.OpsItem])
}

func (s *Server) getOpsItem(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	o, err := s.st.GetOpsItem(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, o)
	return nil
}

// OpsItemInput is the body of POST /api/v1/opsitems.
type OpsItemInput = service.OpsItemInput

func (s *Server) createOpsItem(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	var in OpsItemInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.svc.CreateOpsItem(r.Context(), c, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/opsitems/"+o.ID)
	WriteJSON(w, http.StatusCreated, o)
	return nil
}

// OpsItemPatch is the body of PATCH /api/v1/opsitems/{id}: fields present
// are changed, absent ones kept.
type OpsItemPatch = service.OpsItemPatch

func (s *Server) updateOpsItem(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	var in OpsItemPatch
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.svc.UpdateOpsItem(r.Context(), c, id, in)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
