package store

import (
	"context"
	"time"
)

// RuleReader holds the queries over automation rules' state: circuit
// breakers and the log of what each rule did, which the rule engine
// (internal/rule) reads for rate limits and the loop guard.
type RuleReader interface {
	// GetRuleState returns a rule's state in a tenant; ErrNotFound when the
	// rule has never acted there.
	GetRuleState(ctx context.Context, tenantID, rule string) (RuleState, error)
	// ListRuleStates lists a tenant's rule states by rule name.
	ListRuleStates(ctx context.Context, tenantID string) ([]RuleState, error)
	// CountRuleRuns counts the rule's runs in the tenant at or after since.
	CountRuleRuns(ctx context.Context, tenantID, rule string, since time.Time) (int64, error)
	// LastRuleRun returns the rule's latest run on an OpsItem; ErrNotFound
	// when it has none (or none left after pruning).
	LastRuleRun(ctx context.Context, tenantID, rule, opsItemID string) (RuleRun, error)
	// ListRuleActivity sums up, per rule that has acted in the tenant,
	// when it last acted (its newest run, which pruning keeps) and the
	// executions it started, by rule name.
	ListRuleActivity(ctx context.Context, tenantID string) ([]RuleActivity, error)
}

// RuleActivity is what one rule has done in a tenant, for the rules page.
type RuleActivity struct {
	Rule string `json:"rule"`
	// LastActedAt is its newest run (zero when none is kept).
	LastActedAt time.Time `json:"last_acted_at,omitzero"`
	// Executions counts the executions it started (dry runs included);
	// LastExecutionAt is when the newest was created.
	Executions      int64     `json:"executions"`
	LastExecutionAt time.Time `json:"last_execution_at,omitzero"`
}

// RuleWriter holds their writes.
type RuleWriter interface {
	// LockRuleState returns the rule's state in the tenant, creating a zero
	// state (UpdatedAt = at) when there is none, and holds the row locked
	// until the transaction ends: concurrent transactions acting for the
	// same rule and tenant (replicas) take turns, so a rate limit counted
	// under the lock holds across replicas. It takes the tenant's audit
	// lock (the one AppendAudit takes) first, so a transaction that
	// appends audit records and locks rule states in either order cannot
	// deadlock with another.
	LockRuleState(ctx context.Context, tenantID, rule string, at time.Time) (RuleState, error)
	// PutRuleState stores a rule's state, creating or replacing it.
	PutRuleState(ctx context.Context, s RuleState) error
	// AddRuleRun records that a rule acted.
	AddRuleRun(ctx context.Context, r RuleRun) error
	// PruneRuleRuns deletes the rule's runs in the tenant older than before.
	PruneRuleRuns(ctx context.Context, tenantID, rule string, before time.Time) (int64, error)
}

// RuleState is an automation rule's circuit breaker in one tenant.
type RuleState struct {
	TenantID string `json:"tenant"`
	Rule     string `json:"rule"`
	// Failures counts the executions the rule started that failed in a
	// row; a success resets it.
	Failures int `json:"failures"`
	// BreakerOpenedAt is set while the breaker is open: the rule starts no
	// automatic runs until someone resets it or a run succeeds.
	BreakerOpenedAt time.Time `json:"breaker_opened_at,omitzero"`
	// BreakerOpsItemID is the OpsItem opened when the breaker tripped.
	BreakerOpsItemID string    `json:"breaker_opsitem_id,omitempty"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// BreakerOpen reports whether the rule's breaker is open.
func (s RuleState) BreakerOpen() bool { return !s.BreakerOpenedAt.IsZero() }

// RuleRun is one time a rule acted on an OpsItem: started a runbook,
// suggested one, or notified.
type RuleRun struct {
	TenantID  string    `json:"tenant"`
	Rule      string    `json:"rule"`
	OpsItemID string    `json:"opsitem_id"`
	At        time.Time `json:"at"`
	// Action is what it did: "run", "suggest" or "notify".
	Action string `json:"action"`
	// ExecutionID is the execution a "run" started.
	ExecutionID string `json:"execution_id,omitempty"`
}
