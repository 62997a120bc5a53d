package store

import (
	"context"
	"encoding/json"
	"time"
)

// PatchReader holds the queries of patch management (internal/patch).
type PatchReader interface {
	// GetPatchState returns a host's latest patch state.
	GetPatchState(ctx context.Context, tenantID, resourceID string) (PatchState, error)
	// ListPatchStates returns every host's latest state, by resource ID.
	ListPatchStates(ctx context.Context, tenantID string) ([]PatchState, error)
	// ListPatchHistory returns the compliance points recorded since a
	// time, oldest first.
	ListPatchHistory(ctx context.Context, tenantID string, since time.Time) ([]PatchPoint, error)
	// PatchReleases returns when each version of the named packages was
	// first seen, keyed "name=version".
	PatchReleases(ctx context.Context, tenantID string, names []string) (map[string]time.Time, error)
	GetExpedite(ctx context.Context, tenantID, id string) (Expedite, error)
	// ListExpedites lists a tenant's expedites, newest first.
	ListExpedites(ctx context.Context, tenantID string) ([]Expedite, error)
	// OpenExpedites lists expedites of every tenant not yet installed or
	// cancelled, oldest first.
	OpenExpedites(ctx context.Context, limit int) ([]Expedite, error)
	// GetPatchLease returns the lease on a key (ErrNotFound: none).
	GetPatchLease(ctx context.Context, tenantID, key string) (PatchLease, error)
}

// PatchWriter holds their writes.
type PatchWriter interface {
	// PutPatchState stores a host's latest state (insert or replace) and
	// appends its compliance point to the history.
	PutPatchState(ctx context.Context, s PatchState) error
	// NotePatchReleases records the first time each version was seen;
	// versions already known keep their first time.
	NotePatchReleases(ctx context.Context, tenantID string, versions map[string]time.Time) error
	// PutExpedite inserts or replaces an expedite.
	PutExpedite(ctx context.Context, e Expedite) error
	// ClaimExpediteKey records that expedite id holds a deduplication key;
	// false (and the holder's ID) when another expedite holds it already.
	ClaimExpediteKey(ctx context.Context, tenantID, key, id string) (claimed bool, holder string, err error)
	// TakePatchLease takes l.Key for l.Holder when no one holds it, its
	// lease expired by now, or l.Holder holds it already (then l replaces
	// it: a longer expiry, a reboot); false when another holds it.
	TakePatchLease(ctx context.Context, l PatchLease, now time.Time) (bool, error)
	// PrunePatchHistory deletes the compliance points of every tenant
	// recorded before a time, and says how many.
	PrunePatchHistory(ctx context.Context, before time.Time) (int64, error)
	// ReleasePatchLease drops the lease on key if holder holds it.
	ReleasePatchLease(ctx context.Context, tenantID, key, holder string) error
}

// PatchLease is a coordinated-reboot lease: while it is held, no other
// host of the application installs (see internal/patch.Service.Lock).
type PatchLease struct {
	TenantID string `json:"tenant"`
	Key      string `json:"key"`
	// Holder names one acquisition (one install on one host).
	Holder     string    `json:"holder"`
	ResourceID string    `json:"resource_id"`
	AcquiredAt time.Time `json:"acquired_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// RebootedAt is set when the host rebooted: the lease is held until
	// its agent is back.
	RebootedAt *time.Time `json:"rebooted_at,omitempty"`
}

// PatchState is a host's patch state after its latest scan or install.
type PatchState struct {
	TenantID   string `json:"tenant"`
	ResourceID string `json:"resource_id"`
	Hostname   string `json:"hostname"`
	// Group and Baseline are the patch group the host is in and the
	// baseline it was evaluated against.
	Group     string    `json:"group"`
	Baseline  string    `json:"baseline"`
	ScannedAt time.Time `json:"scanned_at"`
	Compliant bool      `json:"compliant"`
	// NoncompliantSince is when the host last became non-compliant.
	NoncompliantSince *time.Time `json:"noncompliant_since,omitempty"`
	// OpsItemID is the OpsItem opened for its non-compliance past the SLA.
	OpsItemID string `json:"opsitem_id,omitempty"`
	// Detail is internal/patch's own record (counts, decisions, report).
	Detail json.RawMessage `json:"detail"`
}

// PatchPoint is one compliance observation of a host, for trends.
type PatchPoint struct {
	ResourceID string    `json:"resource_id"`
	Group      string    `json:"group"`
	At         time.Time `json:"at"`
	Compliant  bool      `json:"compliant"`
}

// Expedite statuses.
const (
	ExpediteAwaitingApproval = "awaiting-approval"
	ExpediteInstalled        = "installed"
	ExpediteFailed           = "failed"
	ExpediteCancelled        = "cancelled"
)

// Expedite is a critical update scheduled out of window, with approval,
// due by the next business day.
type Expedite struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	Package  string `json:"package"`
	// Version is the version to install ("" : the candidate).
	Version string `json:"version,omitempty"`
	// Source is what raised it: a finding, an advisory, a repository scan.
	Source      string    `json:"source"`
	Reason      string    `json:"reason"`
	Targets     []string  `json:"targets"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	DueAt       time.Time `json:"due_at"`
	Status      string    `json:"status"`
	ExecutionID string    `json:"execution_id,omitempty"`
	// OpsItemID is the OpsItem opened when the deadline passed first.
	OpsItemID   string     `json:"opsitem_id,omitempty"`
	InstalledAt *time.Time `json:"installed_at,omitempty"`
	Error       string     `json:"error,omitempty"`
}
