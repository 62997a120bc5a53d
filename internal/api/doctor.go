package api

import (
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerDoctor() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/doctor", MinRole: store.RoleAdmin, PlatformAdmin: true}, s.doctorReport)
}

// doctorReport is GET /api/v1/doctor: the server's setup check, what
// `flywheel doctor` prints. A server built without checks answers an empty
// report.
func (s *Server) doctorReport(w http.ResponseWriter, r *http.Request) error {
	rep := doctor.Report{Checks: []doctor.Check{}}
	if s.doctor != nil {
		rep = s.doctor.Run(r.Context())
	}
	WriteJSON(w, http.StatusOK, rep)
	return nil
}
