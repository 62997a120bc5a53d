package api

import (
	"net/http"
	"strconv"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerAudit() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/audit", MinRole: store.RoleAdmin}, s.listAudit)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/audit/verify", MinRole: store.RoleAdmin}, s.verifyAudit)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseInt(page.Cursor, 10, 64); page.Cursor != "" && err != nil {
		return BadRequest("invalid cursor %q", page.Cursor)
	}
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target} {
		if len(v) > 200 {
			return BadRequest("%s: longer than 200 characters", name)
		}
	}
	items, next, err := s.st.SearchAudit(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, store.AuditCursor, same[store.AuditRecord])
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	rep, err := audit.Verify(r.Context(), s.st, tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, rep)
	return nil
}
