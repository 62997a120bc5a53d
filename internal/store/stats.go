package store

import (
	"context"
	"time"
)

// StatsReader holds the aggregate queries behind the flywheel metrics and
// the automation candidates (package stats turns them into figures).
type StatsReader interface {
	AuditSearcher
	// NoiseSeries sums the noise counters in [from, to) per step-sized
	// bucket, the first starting at from. Only buckets with counts are
	// returned, oldest first; each bucket's Minute is its start.
	NoiseSeries(ctx context.Context, tenantID string, from, to time.Time, step time.Duration) ([]NoiseBucket, error)
	// ScanOpsItemsActive calls fn for each OpsItem created or resolved in
	// [from, to), oldest first, with the fields the figures need: ID,
	// TenantID, Title, Category, Severity, Status, CreatedAt, ResolvedAt,
	// ResolvedBy, HumanSeconds and HumanSince (the rest are left zero).
	ScanOpsItemsActive(ctx context.Context, tenantID string, from, to time.Time, fn func(OpsItem) error) error
	// CountOpenOpsItems counts by category the tenant's OpsItems open at
	// at: created before it and not resolved before it. Suppressed
	// OpsItems (noise) are left out.
	CountOpenOpsItems(ctx context.Context, tenantID string, at time.Time) (map[string]int64, error)
	// ListOpsItemRunbooks lists the top-level executions started on an
	// OpsItem created or resolved in [from, to).
	ListOpsItemRunbooks(ctx context.Context, tenantID string, from, to time.Time) ([]OpsItemRunbook, error)
	// ListOpsItemResourceTypes maps each OpsItem created or resolved in
	// [from, to) that has related resources to their distinct types, sorted.
	ListOpsItemResourceTypes(ctx context.Context, tenantID string, from, to time.Time) (map[string][]string, error)
}

// OpsItemRunbook is one runbook run on an OpsItem: by a rule (Rule set) or
// by a person (Rule empty, StartedBy naming them).
type OpsItemRunbook struct {
	OpsItemID string `json:"opsitem_id"`
	Runbook   string `json:"runbook"`
	Rule      string `json:"rule,omitempty"`
	StartedBy string `json:"started_by"`
	Status    string `json:"status"`
	DryRun    bool   `json:"dry_run,omitempty"`
}

// AuditFilter narrows SearchAudit; empty fields match everything.
type AuditFilter struct {
	// Actor matches exactly ("token:tok_…", "system:pipeline").
	Actor string
	// Action and Target match as prefixes ("silence." finds every silence
	// action, "opsitem/oi_…" one OpsItem's records).
	Action string
	Target string
}

// AuditSearcher browses a tenant's audit log with filters.
type AuditSearcher interface {
	// SearchAudit lists a tenant's audit records matching f, newest first,
	// paged like ListAudit (the cursor is a sequence number).
	SearchAudit(ctx context.Context, tenantID string, f AuditFilter, page Page) ([]AuditRecord, string, error)
}
