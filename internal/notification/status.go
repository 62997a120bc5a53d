package notification

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ChannelStatus is how a notification channel has been doing for one
// tenant, read from the delivery records in its audit log
// (notification.delivered, notification.failed): the channels page, GET
// /api/v1/channels and `flywheel channel list` show it.
type ChannelStatus struct {
	Name string `json:"name"`
	// Type is slack, webhook or email; "" for a channel rules named that
	// the server does not have.
	Type string `json:"type"`
	// Status: "ok" (the last delivery went), "failing" (it did not),
	// "unused" (no delivery recorded yet), "not configured".
	Status string `json:"status"`
	// Delivered and Failed count the recorded outcomes (of the newest
	// StatusScan records).
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	// LastDelivered and LastFailed are the newest of each.
	LastDelivered *time.Time `json:"last_delivered,omitempty"`
	LastFailed    *time.Time `json:"last_failed,omitempty"`
	// LastError is the newest failure's result text.
	LastError string `json:"last_error,omitempty"`
}

// StatusScan bounds how many delivery records Statuses reads, newest first.
const StatusScan = 2000

// Channel statuses.
const (
	StatusOK            = "ok"
	StatusFailing       = "failing"
	StatusUnused        = "unused"
	StatusNotConfigured = "not configured"
)

// Statuses lists the configured channels (name → type) with the tenant's
// delivery records, then channels the records name that are not
// configured, by name.
func Statuses(ctx context.Context, rd store.AuditSearcher, tenant string, channels map[string]string) ([]ChannelStatus, error) {
	// newest is each channel's newest outcome: it decides ok or failing
	// (records in one second keep their order in the chain).
	type entry struct {
		*ChannelStatus
		newest string
	}
	by := map[string]*entry{}
	for name, typ := range channels {
		by[name] = &entry{ChannelStatus: &ChannelStatus{Name: name, Type: typ}}
	}
	page := store.Page{Limit: store.MaxPageLimit}
	seen := 0
	for seen < StatusScan {
		recs, next, err := rd.SearchAudit(ctx, tenant, store.AuditFilter{Action: "notification."}, page)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			seen++
			var d struct {
				Channel string `json:"channel"`
			}
			if json.Unmarshal(r.Detail, &d) != nil || d.Channel == "" {
				continue
			}
			c := by[d.Channel]
			if c == nil {
				c = &entry{ChannelStatus: &ChannelStatus{Name: d.Channel}}
				by[d.Channel] = c
			}
			at := r.Time.UTC()
			if c.newest == "" {
				c.newest = r.Action // records come newest first
			}
			switch r.Action {
			case "notification.delivered":
				c.Delivered++
				if c.LastDelivered == nil {
					c.LastDelivered = &at
				}
			case "notification.failed":
				c.Failed++
				if c.LastFailed == nil {
					c.LastFailed = &at
					c.LastError = strings.TrimPrefix(r.Result, "failed: ")
				}
			}
		}
		if next == "" || len(recs) == 0 {
			break
		}
		page.Cursor = next
	}
	out := make([]ChannelStatus, 0, len(by))
	for _, c := range by {
		_, configured := channels[c.Name]
		switch {
		case !configured:
			c.Status = StatusNotConfigured
		case c.newest == "":
			c.Status = StatusUnused
		case c.newest == "notification.failed":
			c.Status = StatusFailing
		default:
			c.Status = StatusOK
		}
		out = append(out, *c.ChannelStatus)
	}
	slices.SortFunc(out, func(a, b ChannelStatus) int {
		if (a.Status == StatusNotConfigured) != (b.Status == StatusNotConfigured) {
			if a.Status == StatusNotConfigured {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Types maps configured channels to their types, for Statuses.
func Types(channels map[string]notify.Channel) map[string]string {
	out := make(map[string]string, len(channels))
	for name, c := range channels {
		out[name] = c.Type
	}
	return out
}
