// Package action defines what a runbook step action is. The executor
// (internal/execution) renders a step's inputs, then calls the action's Run
// with them; each I/O action lives in its own package under action/<name>
// and one place (action/registry) lists them all.
//
// Control-flow steps (approve, branch, wait_for, runbook, sleep) are handled
// by the executor itself, because they pause or redirect the execution
// rather than do I/O.
package action

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Target is one thing a step acts on: a host (through the agent, or the
// server itself for the `local` target), a cloud resource, an URL.
type Target struct {
	// ID is the inventory resource ID, or "local" for the server host.
	ID string `json:"id"`
	// Type is the resource type ("host", "ec2-instance", …).
	Type string `json:"type,omitempty"`
	// Tags are the resource's tags, for rendering.
	Tags map[string]string `json:"tags,omitempty"`
}

// Input is what Run receives.
type Input struct {
	// With are the step's inputs, already rendered (expressions evaluated).
	With map[string]any
	// Target is set for steps that run per target.
	Target *Target
	// TenantID is the tenant the execution belongs to (whose AWS
	// accounts an aws step may reach).
	TenantID string
	// ExecutionID and Step identify the call (for idempotency keys and logs).
	ExecutionID string
	Step        string
	// Attempt counts from 1.
	Attempt int
	Logger  *slog.Logger
	Now     func() time.Time
}

// Output is what a step produced. Values are visible to later steps as
// steps.<name>.outputs.<key>; Log is stored with the step (size-capped by
// the executor).
type Output struct {
	Values map[string]any
	Log    string
}

// Action is one kind of step.
type Action interface {
	// Name is the `action:` value in a runbook step ("exec", "http").
	Name() string
	// Validate checks a step's inputs when the runbook loads; values may
	// still be unrendered expressions (strings containing "${{").
	Validate(with map[string]any) error
	// Run performs the step. It must honour ctx (timeout, cancellation).
	// A returned error fails the attempt; the executor retries per the
	// step's retry policy, unless the error is Permanent.
	Run(ctx context.Context, in Input) (Output, error)
}

// permanentError marks a failure that would repeat the same way.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent marks err as a failure that retrying cannot fix — the remote
// side refused the request (most 4xx answers) or the inputs are invalid —
// so the executor fails the step at once instead of spending its retries.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
