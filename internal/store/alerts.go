package store

import (
	"context"
	"time"
)

// AlertReader holds the queries over alert state: each alert's last
// status, its transient hold and flapping, and the inhibition keys it
// asserts.
type AlertReader interface {
	GetAlert(ctx context.Context, tenantID, fingerprint string) (Alert, error)
	// GetAlerts returns the alerts of a tenant with these fingerprints, in
	// no particular order; fingerprints without one are left out.
	GetAlerts(ctx context.Context, tenantID string, fingerprints []string) ([]Alert, error)
	// DueHeldAlerts lists alerts (of every tenant) whose transient hold ends
	// at or before t.
	DueHeldAlerts(ctx context.Context, t time.Time, limit int) ([]Alert, error)
	// FlappingAlerts lists alerts (of every tenant) marked flapping.
	FlappingAlerts(ctx context.Context, limit int) ([]Alert, error)
	// InhibitingAlert returns the fingerprint of a firing alert other than
	// except that asserts one of keys ("" when none does).
	InhibitingAlert(ctx context.Context, tenantID string, keys []string, except string) (string, error)
	// InhibitKeys calls fn once with each distinct key the tenant's alerts
	// assert, in no particular order.
	InhibitKeys(ctx context.Context, tenantID string, fn func(key string) error) error
}

// AlertWriter stores alert state.
type AlertWriter interface {
	PutAlert(ctx context.Context, a Alert) error
	// PutAlertCounts sets the counters of existing alerts (what a repeat
	// changes), many in one statement; alerts that do not exist are skipped.
	PutAlertCounts(ctx context.Context, cs []AlertCounts) error
	// CountRepeats records repeats of member alerts: each member's
	// occurrences grow by N and its last_seen moves up to LastSeen, and so do
	// its OpsItem's occurrences and last_event_at. Repeats of fingerprints
	// that are not members of the OpsItem change nothing.
	CountRepeats(ctx context.Context, rs []Repeat) error
	// SetInhibitKeys replaces the inhibition keys a firing alert asserts
	// (none when it resolves).
	SetInhibitKeys(ctx context.Context, tenantID, fingerprint string, keys []string) error
}
