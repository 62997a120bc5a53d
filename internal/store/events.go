package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// IntakeBatch is one accepted delivery as received: the durable record that
// makes a 2xx safe. The pipeline processes batches asynchronously and marks
// them processed; after a crash, unprocessed batches are processed again.
type IntakeBatch struct {
	ID         string
	TenantID   string
	Source     string // adapter name
	ReceivedAt time.Time
	Body       []byte
	// Header holds the few request headers an adapter needs (JSON object).
	Header    json.RawMessage
	Processed bool
}

// Event is a stored normalized event: one row per change the pipeline saw
// (a new fingerprint, a status or severity change, a suppression), with the
// decision it took. Pure repeats are counted on the Alert, not stored.
type Event struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"tenant"`
	Source      string            `json:"source"`
	SourceID    string            `json:"source_id,omitempty"`
	Fingerprint string            `json:"fingerprint"`
	Kind        string            `json:"kind"`
	Severity    string            `json:"severity"`
	Status      string            `json:"status"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Resources   json.RawMessage   `json:"resources,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	OccurredAt  time.Time         `json:"occurred_at"`
	ReceivedAt  time.Time         `json:"received_at"`
	Raw         json.RawMessage   `json:"raw,omitempty"`
	// ResourceKey is the first resource's ID, for search.
	ResourceKey string `json:"resource,omitempty"`
	OpsItemID   string `json:"opsitem_id,omitempty"`
	// Decision is what the pipeline did: opened, attached, updated,
	// resolved, held, transient, suppressed.
	Decision string `json:"decision"`
	// Reason explains a decision: "silence sil_…", "maintenance nightly",
	// "inhibited by …", "flapping", rule names.
	Reason string `json:"reason,omitempty"`
}

// EventFilter narrows ListEvents.
type EventFilter struct {
	Source      string
	Fingerprint string
	Resource    string
	Status      string
	Decision    string
	OpsItemID   string
	From, To    time.Time // on OccurredAt; zero means unbounded
}

// Alert is the pipeline's state for one fingerprint: deduplication counts,
// the OpsItem it belongs to, and the deflection state.
type Alert struct {
	TenantID    string            `json:"tenant"`
	Fingerprint string            `json:"fingerprint"`
	Source      string            `json:"source"`
	Title       string            `json:"title"`
	Severity    string            `json:"severity"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels,omitempty"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	LastChange  time.Time         `json:"last_change"`
	Occurrences int64             `json:"occurrences"`
	OpsItemID   string            `json:"opsitem_id,omitempty"`
	// Changes are the recent state-change times, for flapping detection.
	Changes  []time.Time `json:"changes,omitempty"`
	Flapping bool        `json:"flapping,omitempty"`
	// HeldUntil is set while a new firing alert is held (transient auto-pause).
	HeldUntil time.Time `json:"held_until,omitzero"`
	// Rule and GroupKey are the correlation it was matched to.
	Rule     string `json:"rule,omitempty"`
	GroupKey string `json:"group_key,omitempty"`
	// Suppressed is the current suppression reason, "" when not suppressed.
	Suppressed string `json:"suppressed,omitempty"`
	// SourceUpdatedAt is the newest source version seen (Security Hub
	// UpdatedAt); an older version arriving later is ignored.
	SourceUpdatedAt time.Time `json:"source_updated_at,omitzero"`
}

// OpsItemMember is one fingerprint related to an OpsItem, with counts.
type OpsItemMember struct {
	TenantID    string    `json:"tenant"`
	OpsItemID   string    `json:"opsitem_id"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Source      string    `json:"source"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	Occurrences int64     `json:"occurrences"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// OpsItemResource is a resource related to an OpsItem.
type OpsItemResource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// TimelineEntry is one line of an OpsItem's history.
type TimelineEntry struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant"`
	OpsItemID string    `json:"opsitem_id"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"` // opened, event, resolved, note, …
	Message   string    `json:"message"`
	Actor     string    `json:"actor,omitempty"`
}

// AlertCounts is the part of an alert's state a repeat changes.
type AlertCounts struct {
	TenantID        string
	Fingerprint     string
	Occurrences     int64
	LastSeen        time.Time
	SourceUpdatedAt time.Time
}

// Repeat is N more occurrences of a member alert of an OpsItem, the last
// at LastSeen (see EventWriter.CountRepeats).
type Repeat struct {
	TenantID    string
	OpsItemID   string
	Fingerprint string
	N           int64
	LastSeen    time.Time
}

// NoiseBucket is the pipeline's counters for one tenant and minute.
type NoiseBucket struct {
	TenantID     string
	Minute       time.Time
	Received     int64
	Deduplicated int64
	Opened       int64
	Suppressed   map[string]int64 // by reason class: silence, maintenance, transient, flapping, inhibited
}

// EventReader holds the queries over stored events and noise counts.
type EventReader interface {
	// ListEvents lists a tenant's events newest first; a page's cursor is
	// EventCursor of its last event.
	ListEvents(ctx context.Context, tenantID string, f EventFilter, page Page) ([]Event, string, error)
	// GetEvent returns one of a tenant's events, its raw payload included.
	GetEvent(ctx context.Context, tenantID, id string) (Event, error)
	NoiseTotals(ctx context.Context, tenantID string, from, to time.Time) (NoiseBucket, error)
}

// EventWriter stores events and noise counts.
type EventWriter interface {
	InsertEvent(ctx context.Context, e Event) error
	// InsertEvents is InsertEvent for many, in few statements.
	InsertEvents(ctx context.Context, es []Event) error
	AddNoise(ctx context.Context, b NoiseBucket) error
}

// IntakeReader holds the queries over accepted deliveries.
type IntakeReader interface {
	// UnprocessedIntake lists batches not yet processed that were received
	// before the given time, oldest first.
	UnprocessedIntake(ctx context.Context, before time.Time, limit int) ([]IntakeBatch, error)
	CountUnprocessedIntake(ctx context.Context) (int64, error)
	IntakeProcessed(ctx context.Context, id string) (bool, error)
}

// IntakeWriter stores accepted deliveries and claims them for processing.
type IntakeWriter interface {
	InsertIntakeBatches(ctx context.Context, b []IntakeBatch) error
	// ClaimIntake marks a batch processed, reporting false when it already
	// was (another processor got it first). Within a transaction, the claim
	// commits with the work done for the batch.
	ClaimIntake(ctx context.Context, id string) (bool, error)
	// ClaimIntakeBatches is ClaimIntake for many batches at once: it returns
	// the IDs it claimed (those not processed already), in no particular order.
	ClaimIntakeBatches(ctx context.Context, ids []string) ([]string, error)
}

// IntakeAppender is implemented by stores that keep accepted deliveries
// apart from everything else (SQLite: in a second database file with its own
// writer), so accepting one never waits for a processing transaction. It
// commits bs in a transaction of its own; ClaimIntakeBatches, inside a
// transaction, claims them as it claims the others. The Committer uses it
// when the store has it.
type IntakeAppender interface {
	AppendIntake(ctx context.Context, bs []IntakeBatch) error
	// AppendGroups reports whether an append costs enough per call (a
	// transaction, a flush to the device) that concurrent deliveries
	// should be grouped into one; when it does not, each sender appends
	// its own delivery at once.
	AppendGroups() bool
}

// RowsWriter writes many rows in few statements: the processing of many
// new alerts in one transaction (each opens an OpsItem with its member,
// resources and timeline) stores them together. Keys must be distinct
// within one call.
type RowsWriter interface {
	// PutAlerts is PutAlert for many alerts.
	PutAlerts(ctx context.Context, as []Alert) error
	// CreateOpsItems is CreateOpsItem for many OpsItems.
	CreateOpsItems(ctx context.Context, items []OpsItem) error
	// PutOpsItemMembers is PutOpsItemMember for many members.
	PutOpsItemMembers(ctx context.Context, ms []OpsItemMember) error
	// AddOpsItemResources is AddOpsItemResource for many.
	AddOpsItemResources(ctx context.Context, rs []OpsItemResourceLink) error
	// AddTimelines is AddTimeline for many entries.
	AddTimelines(ctx context.Context, es []TimelineEntry) error
	// SetInhibitKeysMany is SetInhibitKeys for many alerts.
	SetInhibitKeysMany(ctx context.Context, ks []InhibitKeys) error
}

// InhibitKeys are the inhibition keys one alert asserts.
type InhibitKeys struct {
	TenantID, Fingerprint string
	Keys                  []string
	// New says the alert has no keys stored (it was not stored itself
	// before this transaction, and no keys were set for it since): its
	// keys are added without deleting any first.
	New bool
}

// OpsItemResourceLink is a resource related to an OpsItem.
type OpsItemResourceLink struct {
	TenantID, OpsItemID string
	OpsItemResource
}

// EventCursor is the cursor of a ListEvents page ending with e: a caller
// that keeps only part of a page (to bound a response's bytes) continues
// after the last event it kept.
func EventCursor(e Event) string { return e.ID }

// AuditCursor is the cursor of a SearchAudit page ending with a, as
// EventCursor is for events.
func AuditCursor(a AuditRecord) string { return strconv.FormatInt(a.Seq, 10) }

// UnmanagedHostCursor is the cursor of a ListUnmanagedHosts page ending with h.
func UnmanagedHostCursor(h UnmanagedHost) string { return h.Host }
