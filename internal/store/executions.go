package store

import (
	"context"
	"encoding/json"
	"time"
)

// Execution is one run of a runbook (package execution drives it). Its
// progress is durable: the cursor and the step rows say exactly where it
// is, so another worker can resume it after a crash.
type Execution struct {
	ID             string `json:"id"`
	TenantID       string `json:"tenant"`
	Runbook        string `json:"runbook"`
	RunbookVersion int    `json:"runbook_version"`
	// Status: pending, waiting_approval, running, succeeded, failed,
	// cancelled, denied, timed_out.
	Status string `json:"status"`
	// Parameters are the resolved parameters (JSON object); Targets the
	// resolved targets (JSON list of {id, type, tags}).
	Parameters json.RawMessage `json:"parameters"`
	Targets    json.RawMessage `json:"targets"`
	OpsItemID  string          `json:"opsitem_id,omitempty"`
	// Rule is the automation rule that started it ("" for people).
	Rule      string `json:"rule,omitempty"`
	StartedBy string `json:"started_by"`
	Mode      string `json:"mode,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	// ParentID and ParentSeq link a nested execution to the step of the
	// execution that started it.
	ParentID  string `json:"parent_id,omitempty"`
	ParentSeq int    `json:"parent_seq,omitempty"`
	Depth     int    `json:"depth,omitempty"`

	// Cursor is the index of the current step; Seq the row sequence of
	// its current visit (-1 before the first step); NextSeq the sequence
	// the next revisit of a step takes.
	Cursor  int `json:"cursor"`
	Seq     int `json:"seq"`
	NextSeq int `json:"-"`
	// CancelRequested asks the worker to stop at the next boundary.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// LeaseOwner holds the execution until LeaseUntil: only the holder
	// runs its steps.
	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
	// DueAt is when the execution should next make progress; recovery
	// re-enqueues executions overdue and unleased.
	DueAt time.Time `json:"-"`

	Outputs   json.RawMessage `json:"outputs,omitempty"`
	Error     string          `json:"error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	StartedAt time.Time       `json:"started_at,omitzero"`
	EndedAt   time.Time       `json:"ended_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ExecutionStep is one visit of one step, for one target of a per-target
// step (TargetID) or for the step as a whole (TargetID "").
type ExecutionStep struct {
	TenantID    string `json:"-"`
	ExecutionID string `json:"execution_id"`
	// Seq orders visits: the first visit of step i has Seq i; a step run
	// again (goto) gets a new Seq.
	Seq      int    `json:"seq"`
	Index    int    `json:"index"`
	Name     string `json:"name"`
	Action   string `json:"action"`
	TargetID string `json:"target,omitempty"`
	// Status: pending, running, succeeded, failed, skipped, cancelled.
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// WakeAt is when a waiting step (sleep, retry backoff) continues.
	WakeAt  time.Time       `json:"wake_at,omitzero"`
	Inputs  json.RawMessage `json:"inputs,omitempty"`
	Outputs json.RawMessage `json:"outputs,omitempty"`
	Log     string          `json:"log,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Approval is one decision on an execution's approval gate (Seq -1, the
// start of an execution in approval mode) or approve step.
type Approval struct {
	TenantID    string `json:"-"`
	ExecutionID string `json:"execution_id"`
	Seq         int    `json:"seq"`
	Step        string `json:"step,omitempty"`
	Approver    string `json:"approver"`
	// Decision: approve or deny.
	Decision string    `json:"decision"`
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
}

// ExecutionFilter narrows ListExecutions; empty fields match everything.
type ExecutionFilter struct {
	Status    string
	Runbook   string
	OpsItemID string
	ParentID  string
}

// ExecutionReader holds the queries over executions.
type ExecutionReader interface {
	GetExecution(ctx context.Context, tenantID, id string) (Execution, error)
	// ListExecutions lists a tenant's executions, newest first.
	ListExecutions(ctx context.Context, tenantID string, f ExecutionFilter, page Page) ([]Execution, string, error)
	// ListExecutionSteps returns an execution's step rows by Seq, the
	// step's own row ("" target) before its targets'.
	ListExecutionSteps(ctx context.Context, tenantID, executionID string) ([]ExecutionStep, error)
	// ListApprovals returns an execution's decisions in the order made.
	ListApprovals(ctx context.Context, tenantID, executionID string) ([]Approval, error)
	// OverdueExecutions lists executions (of every tenant) that are
	// pending or running, unleased at now, and due before dueBefore: those
	// a crash left without a job.
	OverdueExecutions(ctx context.Context, now, dueBefore time.Time, limit int) ([]Execution, error)
}

// ExecutionWriter holds their writes.
type ExecutionWriter interface {
	// CreateExecution stores a new execution; ErrConflict if the ID exists.
	CreateExecution(ctx context.Context, e Execution) error
	// LockExecution reads an execution and holds it until the transaction
	// ends, so read-modify-write cycles on it do not interleave.
	LockExecution(ctx context.Context, tenantID, id string) (Execution, error)
	// UpdateExecution writes every mutable field; ErrNotFound when absent.
	UpdateExecution(ctx context.Context, e Execution) error
	// LeaseExecution makes owner the execution's lease holder until until,
	// if it is free, expired at now or already owner's; it reports whether
	// owner holds it.
	LeaseExecution(ctx context.Context, tenantID, id, owner string, now, until time.Time) (bool, error)
	// ReleaseExecution frees owner's lease (no-op if another holds it).
	ReleaseExecution(ctx context.Context, tenantID, id, owner string) error
	// PutExecutionSteps inserts or replaces step rows by (execution, Seq,
	// TargetID).
	PutExecutionSteps(ctx context.Context, steps []ExecutionStep) error
	// AddApproval records a decision; ErrConflict when the approver has
	// already decided on that gate.
	AddApproval(ctx context.Context, a Approval) error
}
