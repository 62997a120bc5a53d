package store

import (
	"context"
	"time"
)

// OnCallPage is an OpsItem paged through an on-call channel (PagerDuty,
// Opsgenie): the incident's deduplication key there and what it was last
// told, so that acknowledging or resolving the OpsItem reaches it
// (internal/notification).
type OnCallPage struct {
	TenantID    string `json:"tenant"`
	OpsItemID   string `json:"opsitem_id"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	DedupKey    string `json:"dedup_key"`
	// State is OnCallTriggered, OnCallAcknowledged or OnCallResolved.
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// What an on-call service was last told of a page.
const (
	OnCallTriggered    = "triggered"
	OnCallAcknowledged = "acknowledged"
	OnCallResolved     = "resolved"
)

// OnCallPageSync is a page whose OpsItem has moved on since the on-call service
// was last told: Want is what it should be told now.
type OnCallPageSync struct {
	OnCallPage
	Want string `json:"want"`
	// The OpsItem as it is now.
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
}

// OnCallReader reads pages.
type OnCallReader interface {
	// ListOnCallPages returns an OpsItem's pages, by channel.
	ListOnCallPages(ctx context.Context, tenantID, opsItemID string) ([]OnCallPage, error)
	// ListOnCallPagesOutOfStep returns up to limit pages, of every tenant, whose
	// OpsItem's state differs from what the page last told: resolved (or
	// suppressed) OpsItems want OnCallResolved, acknowledged or in-progress
	// ones OnCallAcknowledged, open ones OnCallTriggered; oldest change first.
	ListOnCallPagesOutOfStep(ctx context.Context, limit int) ([]OnCallPageSync, error)
}

// OnCallWriter writes them.
type OnCallWriter interface {
	// PutOnCallPage records that p was sent: it creates the page or sets its
	// state (keeping its creation time and dedup key).
	PutOnCallPage(ctx context.Context, p OnCallPage) error
}
