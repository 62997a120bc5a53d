package service

import (
	"context"
	"errors"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Runbooks is what running and deciding runbooks needs: the execution
// package's Executor is one.
type Runbooks interface {
	runbook.Starter
	Runbooks() *runbook.Library
	Approve(ctx context.Context, tenant, id string, by execution.Approver, comment string) (store.Execution, error)
	Deny(ctx context.Context, tenant, id string, by execution.Approver, comment string) (store.Execution, error)
	Cancel(ctx context.Context, tenant, id, actor, comment string) (store.Execution, error)
}

// Decision is what a person decides on an execution.
type Decision string

const (
	Approve Decision = "approve"
	Deny    Decision = "deny"
	Cancel  Decision = "cancel"
)

// MaxDecisionComment bounds the comment of a decision.
const MaxDecisionComment = 4096

// DecideExecution approves, denies or cancels execution id as the caller
// (the executor checks the caller may approve, and audits the decision).
func (s *Service) DecideExecution(ctx context.Context, c Caller, id string, d Decision, comment string) error {
	if s.runbooks == nil {
		return errorf(Unavailable, "this server runs no runbooks")
	}
	if len(comment) > MaxDecisionComment {
		return errorf(Invalid, "comment is longer than %d characters", MaxDecisionComment)
	}
	p := c.Principal
	by := execution.Approver{Actor: p.Actor(), Name: p.TokenName, Role: p.Role}
	var err error
	switch d {
	case Approve:
		_, err = s.runbooks.Approve(ctx, c.Tenant, id, by, comment)
	case Deny:
		_, err = s.runbooks.Deny(ctx, c.Tenant, id, by, comment)
	case Cancel:
		_, err = s.runbooks.Cancel(ctx, c.Tenant, id, p.Actor(), comment)
	default:
		return errorf(Invalid, "decision %q is not one of approve, deny, cancel", d)
	}
	if err != nil {
		return executionError(err)
	}
	return nil
}

// Bounds on the targets one run may name.
const (
	MaxRunTargets  = 10_000
	MaxRunTargetID = 256
)

// RunRequest asks to run a runbook.
type RunRequest struct {
	Runbook    string
	Parameters map[string]any
	// Targets are resource IDs, replacing the runbook's own targeting.
	Targets []string
	// OpsItem links the execution to an OpsItem; running a runbook for
	// one is a person's handling of it (its timeline says so).
	OpsItem string
	// DryRun renders every step and runs nothing.
	DryRun bool
	// Approval makes the execution wait for an approval first.
	Approval bool
}

// Runbook finds a runbook the caller's tenant may run.
func (s *Service) Runbook(c Caller, name string) (*runbook.Runbook, error) {
	if s.runbooks == nil {
		return nil, errorf(Unavailable, "this server runs no runbooks")
	}
	rb, ok := s.runbooks.Runbooks().Get(c.Tenant, name)
	if !ok {
		return nil, errorf(NotFound, "runbook %q not found", name)
	}
	return rb, nil
}

// StartRun checks rq and starts (or dry-runs) the runbook, recording the
// run on its OpsItem in the same transaction; it returns the execution ID.
// A runbook that runs commands on hosts needs the host-commands
// permission unless it is a dry run.
func (s *Service) StartRun(ctx context.Context, c Caller, rq RunRequest) (string, error) {
	if len(rq.Targets) > MaxRunTargets {
		return "", errorf(Invalid, "targets: %d given; the limit is %d", len(rq.Targets), MaxRunTargets)
	}
	for i, t := range rq.Targets {
		if strings.TrimSpace(t) == "" {
			return "", errorf(Invalid, "targets[%d] is empty", i)
		}
		if len(t) > MaxRunTargetID {
			return "", errorf(Invalid, "targets[%d] is longer than %d bytes", i, MaxRunTargetID)
		}
	}
	rb, err := s.Runbook(c, rq.Runbook)
	if err != nil {
		return "", err
	}
	if p := c.Principal; !rq.DryRun && !p.Can(store.PermHostCommands) && s.runbooks.Runbooks().RunsOnHosts(c.Tenant, rb) {
		return "", errorf(Forbidden, "runbook %s runs commands on hosts; this action needs the %s permission: admins hold it, "+
			"other tokens when created with --allow %[2]s; the token has role %s without it (a dry run needs none)", rb.Name, store.PermHostCommands, p.Role)
	}
	req := runbook.StartRequest{TenantID: c.Tenant, Runbook: rb.Name, Parameters: rq.Parameters, Targets: rq.Targets,
		OpsItemID: rq.OpsItem, DryRun: rq.DryRun, Mode: runbook.ModeAuto, StartedBy: c.Actor()}
	if rq.Approval {
		req.Mode = runbook.ModeApproval
	}
	var id string
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if id, err = s.runbooks.Start(ctx, tx, req); err != nil || rq.OpsItem == "" || rq.DryRun {
			return err
		}
		return opsitem.RecordRun(ctx, tx, c.Tenant, rq.OpsItem, req.StartedBy, rb.Name, id, s.now())
	})
	if err != nil {
		return "", executionError(err)
	}
	return id, nil
}

// executionError gives the executor's refusals their kind.
func executionError(err error) error {
	switch {
	case errors.Is(err, execution.ErrUnknownRunbook):
		return wrap(NotFound, err)
	case errors.Is(err, execution.ErrInvalid), runbook.IsParamError(err):
		return wrap(Invalid, err)
	case errors.Is(err, execution.ErrState):
		return wrap(Conflict, err)
	case errors.Is(err, execution.ErrNotApprover):
		return wrap(Forbidden, err)
	case errors.Is(err, store.ErrNotFound):
		return wrap(NotFound, err)
	}
	return err
}
