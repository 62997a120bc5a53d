// Package runbook is the runbook document (content kind `Runbook`): typed
// parameters, targets, rate control and steps, validated strictly when
// content loads. The executor (internal/execution) runs them durably;
// automation rules (internal/rule) decide when.
package runbook

import (
	"context"
	"errors"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Mode says how a rule's runbook runs.
type Mode string

const (
	// ModeAuto runs at once.
	ModeAuto Mode = "auto"
	// ModeApproval waits for an approval before the first step.
	ModeApproval Mode = "approval"
	// ModeSuggest only records a suggestion on the OpsItem.
	ModeSuggest Mode = "suggest"
)

// StartRequest asks for a runbook execution.
type StartRequest struct {
	TenantID string
	Runbook  string // content name
	// Parameters by name; validated against the runbook's declarations.
	Parameters map[string]any
	// Targets override the runbook's default targeting (resource IDs).
	Targets []string
	// OpsItemID links the execution to an OpsItem (outputs of collect
	// steps land there).
	OpsItemID string
	Mode      Mode
	DryRun    bool
	// StartedBy is the actor: "token:…", "rule:<name>".
	StartedBy string
	// Rule names the automation rule that started it ("" for people); the
	// loop guard and circuit breaker use it.
	Rule string
}

// Starter starts executions; implemented by internal/execution. Start
// writes the execution and enqueues its first job in the caller's
// transaction tx, so "rule matched" and "runbook queued"
// commit together.
type Starter interface {
	Start(ctx context.Context, tx store.Tx, req StartRequest) (executionID string, err error)
}

// ErrNoTarget is wrapped by a Starter's error when none of the runbook's
// targets can be run on — a host no agent runs on, a name matching two
// hosts. Nothing was started: a rule records that it did not run (and
// why) instead of a failed run, and the circuit breaker does not count it.
var ErrNoTarget = errors.New("no target to run on")

// ErrTargetUnavailable is wrapped by the error of an I/O step on a target
// that could not be reached: no agent runs on it, its agent is gone or
// revoked, or it never picked the command up. The failure is the
// target's, not the runbook's: a rule's circuit breaker does not count it.
var ErrTargetUnavailable = errors.New("target unavailable")

// NeedsAgent reports whether the runbook runs commands on hosts (an exec
// step), which only a host with an agent can do.
func (rb *Runbook) NeedsAgent() bool {
	for _, s := range rb.Steps {
		if s.Action == ActionExec {
			return true
		}
	}
	return false
}
