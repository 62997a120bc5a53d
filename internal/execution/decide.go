package execution

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Approver is who decides on an approval: the actor as audit records name
// it ("token:<id>"), the token's name (gates may list "name:<name>") and
// the caller's role.
type Approver struct {
	Actor string
	Name  string
	Role  store.Role
}

// maxParentWalk bounds the walk from a nested execution to the one a
// principal started (nesting is bounded well below it).
const maxParentWalk = 32

// ownExecution says why actor may not approve e ("" when it may): four
// eyes. The principal that started the execution — or the execution it is
// nested in — may not approve it, nor may a token whose event is on the
// OpsItem an automation rule started it for (the sender would approve what
// its own event set off).
func (x *Executor) ownExecution(ctx context.Context, tx store.Tx, e store.Execution, actor string) (string, error) {
	root := e
	for i := 0; root.ParentID != "" && i < maxParentWalk; i++ {
		p, err := tx.GetExecution(ctx, root.TenantID, root.ParentID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return "", err
		}
		root = p
	}
	if root.StartedBy == actor {
		if root.ID != e.ID {
			return "started execution " + root.ID + ", which this one is nested in", nil
		}
		return "started this execution", nil
	}
	if root.Rule == "" || root.OpsItemID == "" {
		return "", nil
	}
	evs, _, err := tx.ListEvents(ctx, root.TenantID, store.EventFilter{OpsItemID: root.OpsItemID}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return "", err
	}
	for _, ev := range evs {
		if ev.Labels[event.SenderLabel] == actor {
			return fmt.Sprintf("sent event %s, on which rule %s started this execution", ev.ID, root.Rule), nil
		}
	}
	return "", nil
}

// startGate is the approval an execution started in approval mode waits
// for before its first step.
var startGate = &runbook.Approve{Approvers: []string{string(store.RoleOperator)}, MinApprovals: 1}

// StartGate is the gate at the start of e (started in approval mode): the
// approvers its rule names, or operators.
func (x *Executor) StartGate(e store.Execution) *runbook.Approve {
	if e.Rule != "" && x.opts.RuleApprovers != nil {
		if who := x.opts.RuleApprovers(e.TenantID, e.Rule); len(who) > 0 {
			return &runbook.Approve{Approvers: who, MinApprovals: 1}
		}
	}
	return startGate
}

// Approve records by's approval of the gate the execution waits at; once
// the gate has its minimum of distinct approvals the execution goes on.
func (x *Executor) Approve(ctx context.Context, tenant, id string, by Approver, comment string) (store.Execution, error) {
	return x.decide(ctx, tenant, id, by, comment, true)
}

// Deny records by's denial; the execution ends as denied.
func (x *Executor) Deny(ctx context.Context, tenant, id string, by Approver, comment string) (store.Execution, error) {
	return x.decide(ctx, tenant, id, by, comment, false)
}

// maxComment bounds an approval comment.
const maxComment = 4096

func (x *Executor) decide(ctx context.Context, tenant, id string, by Approver, comment string, approve bool) (store.Execution, error) {
	if len(comment) > maxComment {
		return store.Execution{}, invalid("comment is longer than %d bytes", maxComment)
	}
	decision, verb := "approve", "Approved"
	if !approve {
		decision, verb = "deny", "Denied"
	}
	var out store.Execution
	var refused map[string]any
	var gone error
	err := x.st.InTx(ctx, func(tx store.Tx) error {
		e, err := tx.LockExecution(ctx, tenant, id)
		if err != nil {
			return err
		}
		if e.Status != runbook.StatusWaitingApproval {
			return fmt.Errorf("%w: execution %s is %s, not waiting for approval", ErrState, id, e.Status)
		}
		s, err := x.load(ctx, tx, e)
		if errors.Is(err, errRunbookGone) {
			gone = err
			return x.finish(ctx, tx, s, runbook.StatusFailed, err.Error())
		}
		if err != nil {
			return err
		}
		gate, stepName := x.StartGate(e), ""
		var st *runbook.Step
		if e.Seq >= 0 {
			st = s.rb.Steps[e.Cursor]
			a, ok := st.Control.(*runbook.Approve)
			if !ok {
				return fmt.Errorf("%w: step %s is not an approval", ErrState, st.Name)
			}
			gate, stepName = a, st.Name
		}
		if !gate.Allows(by.Actor, by.Role) && !gate.Allows("name:"+by.Name, by.Role) {
			refused = map[string]any{"step": stepName, "approvers": gate.Approvers}
			return fmt.Errorf("%w: the approvers of this gate are %v", ErrNotApprover, gate.Approvers)
		}
		if approve {
			why, err := x.ownExecution(ctx, tx, e, by.Actor)
			if err != nil {
				return err
			}
			if why != "" {
				refused = map[string]any{"step": stepName, "four_eyes": why}
				return fmt.Errorf("%w: four eyes: %s %s, so another principal must approve", ErrNotApprover, by.Actor, why)
			}
		}
		now := x.now()
		err = tx.AddApproval(ctx, store.Approval{TenantID: tenant, ExecutionID: id, Seq: e.Seq, Step: stepName, Approver: by.Actor,
			Decision: decision, Comment: comment, At: now})
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %s has already decided on this approval", ErrState, by.Actor)
		}
		if err != nil {
			return err
		}
		shown, _ := x.Runbooks().Redact(e, nil) // secret parameters never reach the audit
		if err := x.audit(ctx, tx, e, by.Actor, "execution."+decision, "", map[string]any{"step": stepName, "seq": e.Seq,
			"comment": clip(comment, 200), "runbook": e.Runbook, "parameters": clip(string(shown.Parameters), 2000),
			"opsitem": e.OpsItemID, "started_by": e.StartedBy}); err != nil {
			return err
		}
		line := fmt.Sprintf("%s by %s", verb, by.Actor)
		if stepName != "" {
			line += " at step " + stepName
		}
		if comment != "" {
			line += ": " + clip(comment, 300)
		}
		if err := x.timeline(ctx, tx, e, "approval", fmt.Sprintf("Runbook %s: %s", e.Runbook, line), by.Actor); err != nil {
			return err
		}
		own, _ := s.visit()
		if !approve {
			if own != nil && st != nil {
				own.Status, own.EndedAt, own.Error = runbook.StatusFailed, now, clip(line, maxErrorLen)
				if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
					return err
				}
			}
			return x.finish(ctx, tx, s, runbook.StatusDenied, line)
		}
		approvals, err := tx.ListApprovals(ctx, tenant, id)
		if err != nil {
			return err
		}
		var who []any
		for _, a := range approvals {
			if a.Seq == e.Seq && a.Decision == "approve" {
				who = append(who, a.Approver)
			}
		}
		if len(who) < gate.MinApprovals {
			return nil // more approvals needed
		}
		if st == nil {
			// The start gate: run the first step.
			s.e.Status = runbook.StatusPending
			if err := x.enter(ctx, tx, s, 0); err != nil {
				return err
			}
			return x.enqueue(ctx, tx, s.e)
		}
		s.e.Status = runbook.StatusRunning
		more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusSucceeded,
			outputs: map[string]any{"approvers": who}, log: line}, runbook.Next)
		if err != nil || !more {
			return err
		}
		return x.enqueue(ctx, tx, s.e)
	})
	if refused != nil {
		// The refusal is audited on its own: the decision rolled back.
		actx := context.WithoutCancel(ctx)
		if aerr := x.st.InTx(actx, func(tx store.Tx) error {
			return x.audit(actx, tx, store.Execution{ID: id, TenantID: tenant}, by.Actor, "execution."+decision, "denied: not an approver", refused)
		}); aerr != nil {
			x.log.Error("audit refused approval", "execution", id, "error", aerr)
		}
	}
	if err == nil && gone != nil {
		err = fmt.Errorf("%w: %v; the execution has ended", ErrState, gone)
	}
	if err != nil {
		return out, err
	}
	return x.st.GetExecution(ctx, tenant, id)
}

// approvalTimeout ends an execution still waiting at gate seq.
func (x *Executor) approvalTimeout(ctx context.Context, tenant, id string, seq int) error {
	return x.st.InTx(ctx, func(tx store.Tx) error {
		e, err := tx.LockExecution(ctx, tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Status != runbook.StatusWaitingApproval || e.Seq != seq {
			return nil
		}
		s, err := x.load(ctx, tx, e)
		if errors.Is(err, errRunbookGone) {
			err = nil // s holds the rows: enough to end it
		}
		if err != nil {
			return err
		}
		msg := "approval timed out"
		if own, _ := s.visit(); own != nil && seq >= 0 {
			if a, ok := stepControl(s).(*runbook.Approve); ok {
				msg = fmt.Sprintf("approval timed out after %s", a.Timeout)
			}
			own.Status, own.EndedAt, own.Error = runbook.StatusFailed, x.now(), msg
			if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
				return err
			}
		}
		if err := x.audit(ctx, tx, e, x.actor(e), "execution.approval_timeout", "timed_out", map[string]any{"seq": seq}); err != nil {
			return err
		}
		return x.finish(ctx, tx, s, runbook.StatusTimedOut, msg)
	})
}

// Cancel stops an execution: at once when no worker is running it (it
// waits for approval, sleeps, or is queued), otherwise at the running
// worker's next lease renewal, which cancels the running action's context.
// A nested execution the current step waits for is cancelled too. The
// comment goes into the audit record.
func (x *Executor) Cancel(ctx context.Context, tenant, id, actor, comment string) (store.Execution, error) {
	if len(comment) > maxComment {
		return store.Execution{}, invalid("comment is longer than %d bytes", maxComment)
	}
	err := x.st.InTx(ctx, func(tx store.Tx) error { return x.cancelIn(ctx, tx, tenant, id, actor, comment, 0) })
	if err != nil {
		return store.Execution{}, err
	}
	return x.st.GetExecution(ctx, tenant, id)
}

func (x *Executor) cancelIn(ctx context.Context, tx store.Tx, tenant, id, actor, comment string, depth int) error {
	e, err := tx.LockExecution(ctx, tenant, id)
	if err != nil {
		return err
	}
	if runbook.IsTerminal(e.Status) {
		if depth > 0 {
			return nil
		}
		return fmt.Errorf("%w: execution %s has already ended (%s)", ErrState, id, e.Status)
	}
	if e.CancelRequested && depth > 0 {
		return nil
	}
	if err := x.audit(ctx, tx, e, actor, "execution.cancel", "", map[string]any{"status": e.Status, "step": e.Cursor, "comment": clip(comment, 200)}); err != nil {
		return err
	}
	// Recorded first, so a nested execution ending below leaves this one
	// alone (childEnded) instead of moving it on.
	e.CancelRequested, e.UpdatedAt = true, x.now()
	if err := tx.UpdateExecution(ctx, e); err != nil {
		return err
	}
	s, err := x.load(ctx, tx, e)
	if errors.Is(err, errRunbookGone) {
		err = nil // cancelling needs no runbook; s holds the rows
	}
	if err != nil {
		return err
	}
	if own, _ := s.visit(); own != nil && own.Status == runbook.StatusRunning && own.Action == runbook.ActionRunbook {
		out, _ := decodeMap(own.Outputs)
		if child, _ := out["execution"].(string); child != "" {
			if err := x.cancelIn(ctx, tx, tenant, child, actor, comment, depth+1); err != nil {
				return err
			}
		}
	}
	if e.LeaseOwner != "" && e.LeaseUntil.After(x.now()) {
		return nil // the worker holding it stops it
	}
	return x.finish(ctx, tx, s, runbook.StatusCancelled, "cancelled by "+actor)
}

// stepControl is the current step's control action (nil without one, or
// without the runbook).
func stepControl(s *state) any {
	if s.rb == nil || s.e.Cursor < 0 || s.e.Cursor >= len(s.rb.Steps) {
		return nil
	}
	return s.rb.Steps[s.e.Cursor].Control
}
