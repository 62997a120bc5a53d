package execution

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Causes of a step's context ending early.
var (
	errCancelled = errors.New("execution cancelled")
	errLeaseLost = errors.New("lease lost to another worker")
	// errShutdown: the job's own context ended (the server is stopping);
	// the step's outcome is unknown, so nothing is recorded.
	errShutdown = errors.New("worker stopping")
)

// farFuture is the due time of an execution that waits for something
// else to wake it (a nested execution, a scheduled job).
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// runner is one job's hold on one execution.
type runner struct {
	x          *Executor
	tenant, id string
	owner      string
	// jobCtx is the job's context: done when the worker stops. stepCtx
	// is also cancelled, with a cause, on cancellation or a lost lease.
	jobCtx     context.Context
	stepCtx    context.Context
	cancelStep context.CancelCauseFunc
	// s is the execution's state as of the last committed transaction.
	s *state
}

// run takes the execution's lease and runs steps until it waits, ends,
// or has used its time slice.
func (x *Executor) run(ctx context.Context, tenant, id string) error {
	now := x.now()
	owner := x.owner + "/" + store.NewID("j", now)
	var got bool
	err := x.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.LeaseExecution(ctx, tenant, id, owner, now, now.Add(x.opts.LeaseTTL))
		return err
	})
	if err != nil {
		return fmt.Errorf("lease execution %s: %w", id, err)
	}
	if !got {
		return nil // another worker holds it, or it is gone
	}
	ctx = context.WithValue(ctx, tenantKey{}, tenant)
	r := &runner{x: x, tenant: tenant, id: id, owner: owner, jobCtx: ctx}
	r.stepCtx, r.cancelStep = context.WithCancelCause(ctx)
	hbCtx, stopHB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.heartbeat(hbCtx) }()
	defer func() {
		stopHB()
		wg.Wait()
		r.cancelStep(nil)
		if ctx.Err() != nil {
			return // stopping: keep the lease until it expires, as a crash would
		}
		rctx := context.WithoutCancel(ctx)
		if err := x.st.InTx(rctx, func(tx store.Tx) error { return tx.ReleaseExecution(rctx, tenant, id, owner) }); err != nil {
			x.log.Warn("release execution lease", "execution", id, "error", err)
		}
	}()

	deadline := now.Add(x.opts.Slice)
	var done *outcome
	ran := false // each job runs at least one step before handing on
	for {
		next, more, err := r.advance(done)
		done = nil
		if err == nil && next != nil && (!ran || !x.now().After(deadline)) {
			ran = true
			var res result
			if res, err = r.runPhase2(next); err == nil {
				if next.st.PerTarget {
					r.s = nil // the target rows changed outside the cached state
				}
				done = &outcome{p: next, res: res}
				continue
			}
		}
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("execution %s: %w", id, ctx.Err())
		case errors.Is(err, errLeaseLost):
			x.log.Warn("execution lease lost; another worker continues it", "execution", id)
			return nil
		case err != nil:
			return fmt.Errorf("execution %s: %w", id, err)
		case !more && next == nil:
			return nil
		}
		// Out of time: hand on to a fresh job so others get a turn (a step
		// begun but not run yet is begun again there).
		return x.st.InTx(ctx, func(tx store.Tx) error {
			e, err := r.owned(ctx, tx)
			if err != nil {
				return err
			}
			return x.enqueue(ctx, tx, e)
		})
	}
}

// heartbeat renews the lease and watches for cancellation.
func (r *runner) heartbeat(ctx context.Context) {
	every := max(r.x.opts.LeaseTTL/3, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.x.now()
		var ok, cancel bool
		err := r.x.st.InTx(ctx, func(tx store.Tx) error {
			var err error
			if ok, err = tx.LeaseExecution(ctx, r.tenant, r.id, r.owner, now, now.Add(r.x.opts.LeaseTTL)); err != nil || !ok {
				return err
			}
			e, err := tx.GetExecution(ctx, r.tenant, r.id)
			cancel = e.CancelRequested
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.x.log.Warn("renew execution lease", "execution", r.id, "error", err)
		case !ok:
			r.cancelStep(errLeaseLost)
			return
		case cancel:
			r.cancelStep(errCancelled)
		}
	}
}

// owned locks the execution and checks this runner still holds it.
func (r *runner) owned(ctx context.Context, tx store.Tx) (store.Execution, error) {
	e, err := tx.LockExecution(ctx, r.tenant, r.id)
	if err != nil {
		return e, err
	}
	if e.LeaseOwner != r.owner {
		return e, errLeaseLost
	}
	return e, nil
}

// phase2 is a step to run outside the transaction that started it.
type phase2 struct {
	s   *state
	st  *runbook.Step
	own store.ExecutionStep
}

// outcome is a step run outside a transaction, to record.
type outcome struct {
	p   *phase2
	res result
}

// maxInline bounds the steps one transaction moves through.
const maxInline = 50

// advance runs one transaction: it records done, if given, then moves the
// execution through every step that completes inside a transaction (skips,
// branches, asserts, collect, opsitem) up to the next step to run outside
// one (returned), a wait, or the end. more reports whether there is more
// to do now.
func (r *runner) advance(done *outcome) (next *phase2, more bool, err error) {
	ctx, x := r.jobCtx, r.x
	err = x.st.InTx(ctx, func(tx store.Tx) error {
		next, more = nil, false
		e, err := r.owned(ctx, tx)
		if err != nil {
			return err
		}
		if runbook.IsTerminal(e.Status) || e.Status == runbook.StatusWaitingApproval {
			return nil
		}
		s, err := r.state(ctx, tx, e)
		if errors.Is(err, errRunbookGone) {
			return x.finish(ctx, tx, s, runbook.StatusFailed, err.Error())
		}
		if err != nil {
			return err
		}
		if done != nil {
			own, _ := s.visit()
			if own == nil || own.Seq != done.p.own.Seq {
				return fmt.Errorf("execution %s moved on from step row %d", e.ID, done.p.own.Seq)
			}
			// This runner alone wrote the row since; its copy is current.
			*own = done.p.own
			if done.res.status == runbook.StatusCancelled {
				return x.finish(ctx, tx, s, runbook.StatusCancelled, "cancelled")
			}
			if more, err = x.complete(ctx, tx, s, done.p.st, own, done.res, runbook.Next); err != nil || !more {
				return err
			}
		}
		for range maxInline {
			if next, more, err = x.stepIn(ctx, tx, s); err != nil || next != nil || !more {
				return err
			}
		}
		more = true
		return nil
	})
	if err != nil {
		r.s = nil
	}
	return next, more, err
}

// state returns the execution's state: the runner's copy while nothing
// but the runner changed it (it holds the lease; others only set the
// cancel flag, which e carries), else loaded.
func (r *runner) state(ctx context.Context, tx store.Tx, e store.Execution) (*state, error) {
	if c := r.s; c != nil && c.e.ID == e.ID && c.e.Cursor == e.Cursor && c.e.Seq == e.Seq && c.e.NextSeq == e.NextSeq && c.e.Status == e.Status {
		c.e = e
		return c, nil
	}
	s, err := r.x.load(ctx, tx, e)
	if err != nil {
		r.s = nil
		return s, err
	}
	r.s = s
	return s, nil
}

// stepIn handles the current step inside tx.
func (x *Executor) stepIn(ctx context.Context, tx store.Tx, s *state) (*phase2, bool, error) {
	if s.e.CancelRequested {
		return nil, false, x.finish(ctx, tx, s, runbook.StatusCancelled, "cancelled")
	}
	now := x.now()
	if s.e.Status == runbook.StatusPending {
		s.e.Status, s.e.StartedAt = runbook.StatusRunning, now
		if err := x.audit(ctx, tx, s.e, x.actor(s.e), "execution.running", "", map[string]any{"runbook": s.rb.Name}); err != nil {
			return nil, false, err
		}
	}
	if s.e.Cursor < 0 || s.e.Cursor >= len(s.rb.Steps) {
		return nil, false, x.finish(ctx, tx, s, runbook.StatusSucceeded, "")
	}
	st := s.rb.Steps[s.e.Cursor]
	own, _ := s.visit()
	if own == nil {
		return nil, false, fmt.Errorf("step row %d of execution %s is missing", s.e.Seq, s.e.ID)
	}
	switch own.Status {
	case runbook.StatusPending:
		if own.Attempt == 0 && st.When != nil {
			ok, err := st.When.EvalBool(ctx, &s.scope)
			if err != nil {
				more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: "when: " + err.Error()}, runbook.Next)
				return nil, more, err
			}
			if !ok {
				own.Log = "skipped: when is false"
				more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StepSkipped}, runbook.Next)
				return nil, more, err
			}
		}
		more, next, err := x.begin(ctx, tx, s, st, own)
		return next, more, err
	case runbook.StatusRunning:
		more, next, err := x.resume(ctx, tx, s, st, own)
		return next, more, err
	}
	// A finished row whose transition did not happen (cannot normally
	// occur: both commit together); move on from it.
	more, err := x.transition(ctx, tx, s, st, own.Status, runbook.Next)
	return nil, more, err
}

// begin starts a pending step. Steps that are only bookkeeping finish in
// tx; waiting steps arrange their wake-up and stop the runner; I/O steps
// and wait_for are returned to run outside tx.
func (x *Executor) begin(ctx context.Context, tx store.Tx, s *state, st *runbook.Step, own *store.ExecutionStep) (bool, *phase2, error) {
	now := x.now()
	// I/O steps render their inputs per attempt (and per target); control
	// steps here.
	var inputs map[string]any
	var rerr error
	if st.Control != nil {
		if inputs, rerr = st.Render(ctx, &s.scope); rerr == nil {
			own.Inputs = mustJSON(inputs)
		}
	}
	if rerr != nil && (st.Action == runbook.ActionSleep || st.Action == runbook.ActionRunbook || st.Action == runbook.ActionApprove) {
		own.StartedAt = now
		more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: "inputs: " + rerr.Error()}, runbook.Next)
		return more, nil, err
	}
	switch c := st.Control.(type) {
	case nil, *runbook.WaitFor:
		if st.PerTarget {
			if err := x.ensureTargetRows(ctx, tx, s, st); err != nil {
				return false, nil, err
			}
			own.Status, own.StartedAt, own.Attempt = runbook.StatusRunning, now, 1
			if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
				return false, nil, err
			}
			if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.start", ""); err != nil {
				return false, nil, err
			}
		}
		if err := tx.UpdateExecution(ctx, s.e); err != nil {
			return false, nil, err
		}
		return false, &phase2{s: s, st: st, own: *own}, nil
	case *runbook.Branch, *runbook.Assert, *runbook.Collect, *runbook.OpsItemUpdate:
		own.StartedAt, own.Attempt = now, 1
		if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.start", ""); err != nil {
			return false, nil, err
		}
		res, jump := x.runInline(ctx, tx, s, st, c)
		if res.status == "" && res.err != "" {
			return false, nil, errors.New(res.err) // store error: retry the job
		}
		more, err := x.complete(ctx, tx, s, st, own, res, jump)
		return more, nil, err
	case *runbook.Sleep:
		d, err := time.ParseDuration(fmt.Sprint(inputs["duration"]))
		if err != nil || d < 0 || d > runbook.MaxSleep {
			own.StartedAt = now
			more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed,
				err: fmt.Sprintf("duration %q is not a duration up to %s", inputs["duration"], runbook.MaxSleep)}, runbook.Next)
			return more, nil, err
		}
		own.Status, own.StartedAt, own.Attempt, own.WakeAt = runbook.StatusRunning, now, 1, now.Add(d)
		if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.start", ""); err != nil {
			return false, nil, err
		}
		return false, nil, x.wait(ctx, tx, s, own, own.WakeAt, true)
	case *runbook.Approve:
		own.Status, own.StartedAt, own.Attempt = runbook.StatusRunning, now, 1
		if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.start", ""); err != nil {
			return false, nil, err
		}
		s.e.Status = runbook.StatusWaitingApproval
		if err := x.q.InsertTx(ctx, tx, ApprovalTimeoutArgs{TenantID: s.e.TenantID, ExecutionID: s.e.ID, Seq: s.e.Seq},
			&river.InsertOpts{ScheduledAt: now.Add(c.Timeout)}); err != nil {
			return false, nil, err
		}
		msg := fmt.Sprintf("Runbook %s is waiting for approval at step %s", s.rb.Name, st.Name)
		if m, _ := inputs["message"].(string); m != "" {
			msg += ": " + m
		}
		if err := x.timeline(ctx, tx, s.e, "runbook", msg, x.actor(s.e)); err != nil {
			return false, nil, err
		}
		return false, nil, x.wait(ctx, tx, s, own, farFuture, false)
	case *runbook.Nested:
		own.Status, own.StartedAt, own.Attempt = runbook.StatusRunning, now, 1
		params, _ := inputs["parameters"].(map[string]any)
		child, err := x.start(ctx, tx, runbook.StartRequest{TenantID: s.e.TenantID, Runbook: c.Runbook, Parameters: params,
			OpsItemID: s.e.OpsItemID, Mode: runbook.ModeAuto, StartedBy: x.actor(s.e), Rule: s.e.Rule},
			&parentRef{id: s.e.ID, seq: s.e.Seq, depth: s.e.Depth})
		if err != nil {
			if isRequestError(err) {
				more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: "nested runbook: " + err.Error()}, runbook.Next)
				return more, nil, err
			}
			return false, nil, err
		}
		own.Outputs = mustJSON(map[string]any{"execution": child})
		if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.start", ""); err != nil {
			return false, nil, err
		}
		return false, nil, x.wait(ctx, tx, s, own, farFuture, false)
	}
	return false, nil, fmt.Errorf("step %s: unknown control action %T", st.Name, st.Control)
}

// wait parks the execution: the row is saved, the lease released, and (for
// a sleep) a job scheduled at until.
func (x *Executor) wait(ctx context.Context, tx store.Tx, s *state, own *store.ExecutionStep, until time.Time, schedule bool) error {
	if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
		return err
	}
	s.e.DueAt, s.e.LeaseOwner, s.e.LeaseUntil = until, "", time.Time{}
	s.e.UpdatedAt = x.now()
	if err := tx.UpdateExecution(ctx, s.e); err != nil {
		return err
	}
	if !schedule {
		return nil
	}
	return x.q.InsertTx(ctx, tx, AdvanceArgs{TenantID: s.e.TenantID, ExecutionID: s.e.ID}, &river.InsertOpts{ScheduledAt: until})
}

// resume handles a step found running: a wait that may be over, or a step
// a worker was running when it stopped.
func (x *Executor) resume(ctx context.Context, tx store.Tx, s *state, st *runbook.Step, own *store.ExecutionStep) (bool, *phase2, error) {
	now := x.now()
	switch st.Control.(type) {
	case *runbook.Sleep:
		if now.Before(own.WakeAt) {
			return false, nil, x.wait(ctx, tx, s, own, own.WakeAt, true)
		}
		more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusSucceeded}, runbook.Next)
		return more, nil, err
	case *runbook.Approve:
		s.e.Status = runbook.StatusWaitingApproval
		return false, nil, x.wait(ctx, tx, s, own, farFuture, false)
	case *runbook.Nested:
		out, _ := decodeMap(own.Outputs)
		childID, _ := out["execution"].(string)
		child, err := tx.GetExecution(ctx, s.e.TenantID, childID)
		if err != nil {
			more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: "nested execution lost: " + err.Error()}, runbook.Next)
			return more, nil, err
		}
		if !runbook.IsTerminal(child.Status) {
			return false, nil, x.wait(ctx, tx, s, own, farFuture, false)
		}
		more, err := x.complete(ctx, tx, s, st, own, childResult(child), runbook.Next)
		return more, nil, err
	case *runbook.WaitFor:
		return false, &phase2{s: s, st: st, own: *own}, tx.UpdateExecution(ctx, s.e)
	case nil:
		if st.PerTarget {
			// Each target row carries its own state; the fan-out sorts
			// interrupted ones out.
			return false, &phase2{s: s, st: st, own: *own}, tx.UpdateExecution(ctx, s.e)
		}
		if st.Idempotent {
			own.Status = runbook.StatusPending
			own.Log = appendLog(own.Log, fmt.Sprintf("attempt %d was interrupted; running again (the step is idempotent)", own.Attempt), x.opts.LogLimit)
			if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
				return false, nil, err
			}
			return false, &phase2{s: s, st: st, own: *own}, tx.UpdateExecution(ctx, s.e)
		}
		more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: errInterrupted}, runbook.Next)
		return more, nil, err
	}
	// Inline control steps finish in the transaction that starts them.
	more, err := x.complete(ctx, tx, s, st, own, result{status: runbook.StatusFailed, err: errInterrupted}, runbook.Next)
	return more, nil, err
}

// errInterrupted is the error of a non-idempotent step a crash interrupted.
const errInterrupted = "interrupted; not re-run because the step is not idempotent"

// childResult is a nested execution's outcome as its parent step's.
func childResult(child store.Execution) result {
	out, _ := decodeMap(child.Outputs)
	outputs := map[string]any{"execution": child.ID, "status": child.Status, "outputs": out}
	if child.Status == runbook.StatusSucceeded {
		return result{status: runbook.StatusSucceeded, outputs: outputs}
	}
	msg := fmt.Sprintf("nested execution %s %s", child.ID, child.Status)
	if child.Error != "" {
		msg += ": " + child.Error
	}
	return result{status: runbook.StatusFailed, outputs: outputs, err: msg}
}

func isRequestError(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnknownRunbook) || runbook.IsParamError(err)
}
