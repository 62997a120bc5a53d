package runbook

import "slices"

// Execution statuses.
const (
	StatusPending         = "pending"
	StatusWaitingApproval = "waiting_approval"
	StatusRunning         = "running"
	StatusSucceeded       = "succeeded"
	StatusFailed          = "failed"
	StatusCancelled       = "cancelled"
	StatusDenied          = "denied"
	StatusTimedOut        = "timed_out"
	// StatusIneffective: every step ran, but the runbook's verify
	// condition found the problem not fixed (see Verify).
	StatusIneffective = "ineffective"
)

// ExecutionStatuses lists every execution status.
var ExecutionStatuses = []string{StatusPending, StatusWaitingApproval, StatusRunning, StatusSucceeded,
	StatusFailed, StatusCancelled, StatusDenied, StatusTimedOut, StatusIneffective}

// TerminalStatuses are the statuses an execution ends in.
var TerminalStatuses = []string{StatusSucceeded, StatusFailed, StatusCancelled, StatusDenied, StatusTimedOut, StatusIneffective}

// IsTerminal reports whether an execution status is final.
func IsTerminal(status string) bool { return slices.Contains(TerminalStatuses, status) }

// Step statuses (pending, running, succeeded, failed, cancelled as above).
const (
	StepSkipped = "skipped"
)

// StepStatuses lists every step status.
var StepStatuses = []string{StatusPending, StatusRunning, StatusSucceeded, StatusFailed, StepSkipped, StatusCancelled}
