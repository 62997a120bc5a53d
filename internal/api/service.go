package api

import (
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/service"
)

// The API's side of the service layer: who calls (the authenticated
// principal in the tenant the request selects) and how a refused
// operation is answered.

// caller is the request's principal acting in the tenant it selects.
func (s *Server) caller(r *http.Request) (service.Caller, error) {
	tenant, err := s.Tenant(r)
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Principal: Principal(r), Tenant: tenant}, nil
}

// callerAndID is caller and the path's {id}.
func (s *Server) callerAndID(r *http.Request) (service.Caller, string, error) {
	c, err := s.caller(r)
	if err != nil {
		return c, "", err
	}
	id, err := PathID(r, "id")
	return c, id, err
}

// serviceError answers a refused operation with its one text.
func serviceError(e *service.Error) *Error {
	switch e.Kind {
	case service.NotFound:
		return NotFound("%s", e.Msg)
	case service.Conflict:
		return Conflict("%s", e.Msg)
	case service.Forbidden:
		return Forbidden("%s", e.Msg)
	case service.Unavailable:
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: e.Msg}
	}
	return BadRequest("%s", e.Msg)
}
