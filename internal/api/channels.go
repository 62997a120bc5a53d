package api

import (
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ChannelStatus is one notification channel in GET /api/v1/channels.
type ChannelStatus = notification.ChannelStatus

func (s *Server) registerChannels() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/channels", MinRole: store.RoleViewer}, s.listChannels)
}

// listChannels is GET /api/v1/channels: the server's notification channels
// (name and type, never a URL or password) with the tenant's delivery
// record: status, last delivery, failures.
func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	list, err := notification.Statuses(r.Context(), s.st, tenant, s.channels)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[ChannelStatus]{Items: list})
	return nil
}
