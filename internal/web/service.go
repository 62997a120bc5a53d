package web

import (
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/service"
)

// The UI's side of the service layer: the session's principal acting in
// the page's tenant calls the same operations as the API, and a refused
// operation shows the same text.

// svc is the service over the handler's store, clock and runbooks. It is
// a few words of state, so building it per action costs nothing and keeps
// Handler's wiring as it is.
func (h *Handler) svc() *service.Service {
	return service.New(service.Options{Store: h.st, Clock: h.now, Runbooks: h.rb})
}

// caller is the session's principal in the request's tenant.
func (rq *request) caller() service.Caller {
	return service.Caller{Principal: rq.sess.Principal, Tenant: rq.tenantID()}
}

// servicePage turns a refused operation into the error page with its
// text; other errors pass through.
func servicePage(err error) error {
	e, ok := service.As(err)
	if !ok {
		return err
	}
	switch e.Kind {
	case service.NotFound:
		return errNotFound("%s", e.Msg)
	case service.Forbidden:
		return errForbidden(e.Msg)
	case service.Conflict:
		return &pageError{Status: http.StatusConflict, Message: e.Msg}
	case service.Unavailable:
		return &pageError{Status: http.StatusServiceUnavailable, Message: e.Msg}
	}
	return errBadRequest("%s", e.Msg)
}
