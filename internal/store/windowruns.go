package store

import (
	"context"
	"time"
)

// WindowRunReader holds the queries over maintenance window runs.
type WindowRunReader interface {
	GetWindowRun(ctx context.Context, tenantID, id string) (WindowRun, error)
	// ListWindowRuns lists a tenant's runs of one window (all windows when
	// windowID is ""), newest first.
	ListWindowRuns(ctx context.Context, tenantID, windowID string, page Page) ([]WindowRun, string, error)
	// LatestWindowRun returns the window's run with the latest ScheduledAt
	// among scheduled (not manual) runs; ErrNotFound when it has none.
	LatestWindowRun(ctx context.Context, tenantID, windowID string) (WindowRun, error)
	// ActiveWindowRuns returns up to limit runs, of every tenant, that are
	// pending or running, oldest first.
	ActiveWindowRuns(ctx context.Context, limit int) ([]WindowRun, error)
	// ListWindowRunTargets returns a run's task-target rows in order
	// (priority, task, position).
	ListWindowRunTargets(ctx context.Context, tenantID, runID string) ([]WindowRunTarget, error)
}

// WindowRunWriter holds their writes.
type WindowRunWriter interface {
	// CreateWindowRun stores a run and its task-target rows. It is
	// ErrConflict when the window already has a run of that trigger at
	// that ScheduledAt, so replicas cannot both start one opening.
	CreateWindowRun(ctx context.Context, r WindowRun, targets []WindowRunTarget) error
	// LockWindowRun reads a run and holds it against concurrent changes
	// until the transaction ends.
	LockWindowRun(ctx context.Context, tenantID, id string) (WindowRun, error)
	UpdateWindowRun(ctx context.Context, r WindowRun) error
	// UpdateWindowRunTarget saves one row's status, execution and times.
	UpdateWindowRunTarget(ctx context.Context, t WindowRunTarget) error
}

// Window run statuses. Rows (WindowRunTarget) use pending, running,
// succeeded, failed, cancelled and skipped.
const (
	WindowRunPending   = "pending"
	WindowRunRunning   = "running"
	WindowRunSucceeded = "succeeded"
	WindowRunFailed    = "failed"
	WindowRunCancelled = "cancelled"
	WindowRunSkipped   = "skipped"
	// WindowRunMissed: the window opened while no server ran and it was
	// too late to start when one did.
	WindowRunMissed = "missed"
)

// Window run triggers.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// WindowRun is one opening of a maintenance window and what its tasks did.
type WindowRun struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	WindowID   string `json:"window_id"`
	WindowName string `json:"window_name"`
	// Trigger is "schedule" or "manual".
	Trigger   string `json:"trigger"`
	StartedBy string `json:"started_by"`
	// ScheduledAt is when the opening began (for a manual run, when it was
	// asked for); no task starts at or after CutoffAt; EndsAt is the
	// opening's end.
	ScheduledAt time.Time `json:"scheduled_at"`
	CutoffAt    time.Time `json:"cutoff_at"`
	EndsAt      time.Time `json:"ends_at"`
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	// OpsItemID is the OpsItem opened for a missed run.
	OpsItemID string     `json:"opsitem_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// WindowRunTarget is one task on one target within a run.
type WindowRunTarget struct {
	TenantID  string `json:"-"`
	RunID     string `json:"run_id"`
	Task      string `json:"task"`
	TaskIndex int    `json:"task_index"`
	Priority  int    `json:"priority"`
	// Position orders a task's targets (the order they start in).
	Position    int        `json:"position"`
	TargetID    string     `json:"target"`
	Status      string     `json:"status"`
	ExecutionID string     `json:"execution_id,omitempty"`
	Error       string     `json:"error,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
}
