package api

import (
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerMaintenance() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows", MinRole: store.RoleViewer}, tenantListView(s, s.st.ListMaintenanceWindows, func(m store.MaintenanceWindow) string { return m.ID }, s.windowView))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/maintenance-windows", MinRole: store.RoleOperator}, s.createWindow)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows/{id}", MinRole: store.RoleViewer}, tenantGet(s, "maintenance window", s.st.GetMaintenanceWindow, s.windowView))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/maintenance-windows/{id}", MinRole: store.RoleOperator}, s.deleteWindow)
}

// MaintenanceWindowInput is the body of POST /api/v1/maintenance-windows.
type MaintenanceWindowInput = service.MaintenanceWindowInput

// MaintenanceWindow is a window as the API shows it: the record, whether
// it is open now, and its current or next period.
type MaintenanceWindow struct {
	store.MaintenanceWindow
	Open      bool       `json:"open"`
	NextStart *time.Time `json:"next_start,omitempty"`
	NextEnd   *time.Time `json:"next_end,omitempty"`
}

func (s *Server) windowView(r store.MaintenanceWindow) MaintenanceWindow {
	v := MaintenanceWindow{MaintenanceWindow: r}
	w, err := maintenance.FromRecord(r)
	if err != nil {
		return v // stored windows were valid when created; show the record
	}
	now := s.now()
	v.Open = w.ActiveAt(now)
	if start, end, ok := w.Next(now); ok {
		start, end = start.UTC(), end.UTC()
		v.NextStart, v.NextEnd = &start, &end
	}
	return v
}

func (s *Server) createWindow(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	var in MaintenanceWindowInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	rec, err := s.svc.CreateWindow(r.Context(), c, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/maintenance-windows/"+rec.ID)
	WriteJSON(w, http.StatusCreated, s.windowView(rec))
	return nil
}

func (s *Server) deleteWindow(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteWindow(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
