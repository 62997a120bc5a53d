package web

import (
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/notification"
)

// The notification channels page: each channel the server has, with the
// tenant's delivery record (status, last delivery, failures). The same
// list: GET /api/v1/channels, `flywheel channel list`.

type channelsData struct {
	Channels []notification.ChannelStatus
	Scan     int
}

func (h *Handler) channelRoutes() {
	h.page("GET /channels", "channels", h.channelsPage)
}

func (h *Handler) channelsPage(rq *request) (any, error) {
	rq.view.Title = "Notification channels"
	list, err := notification.Statuses(rq.ctx, h.st, rq.tenantID(), h.channels)
	if err != nil {
		return nil, fmt.Errorf("channel statuses: %w", err)
	}
	return channelsData{Channels: list, Scan: notification.StatusScan}, nil
}
