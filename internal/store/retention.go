package store

import (
	"context"
	"time"
)

// RetentionClass names a kind of expiring data that PruneExpired removes
// (package retention decides the ages).
type RetentionClass string

// Retention classes. Each deletes whole rows older than the cut-off, by the
// time noted, except RetainRawBodies, which empties events' raw payloads and
// keeps the events.
const (
	RetainEvents        RetentionClass = "events"         // received_at
	RetainRawBodies     RetentionClass = "raw_bodies"     // received_at
	RetainTimeline      RetentionClass = "timeline"       // the entry's time
	RetainExecutions    RetentionClass = "executions"     // ended_at, finished only, with steps and approvals
	RetainAgentCommands RetentionClass = "agent_commands" // ended_at, finished only
	RetainIntake        RetentionClass = "intake"         // received_at, processed deliveries only
	RetainWindowRuns    RetentionClass = "window_runs"    // ended_at, finished only, with their targets
	RetainSessions      RetentionClass = "sessions"       // last seen
)

// RetentionClasses lists every class, in the order they are pruned.
var RetentionClasses = []RetentionClass{RetainRawBodies, RetainEvents, RetainTimeline, RetainExecutions,
	RetainAgentCommands, RetainIntake, RetainWindowRuns, RetainSessions}

// RetentionWriter removes expired data in bounded batches: each call touches
// at most limit rows, so the caller commits often and never holds the
// write lock long.
type RetentionWriter interface {
	// PruneExpired removes up to limit of the tenant's rows of class older
	// than before, returning how many it removed (or emptied).
	PruneExpired(ctx context.Context, tenantID string, class RetentionClass, before time.Time, limit int) (int64, error)
	// TrimEvents deletes up to limit of the tenant's oldest events beyond
	// its newest keep, returning how many.
	TrimEvents(ctx context.Context, tenantID string, keep int64, limit int) (int64, error)
}
