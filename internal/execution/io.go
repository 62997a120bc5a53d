package execution

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// runPhase2 runs an I/O or wait_for step outside any transaction. Its
// outcome is recorded by the next advance.
func (r *runner) runPhase2(p *phase2) (result, error) {
	switch {
	case p.st.Action == runbook.ActionWaitFor:
		return r.waitFor(p)
	case p.st.PerTarget:
		return r.fanOut(p)
	}
	return r.runUnit(p.s, p.st, &p.own, nil)
}

// unitStop classifies why an attempt's context ended early: nil when it
// did not (the action failed on its own or timed out).
func (r *runner) unitStop() error {
	if r.jobCtx.Err() != nil {
		return errShutdown
	}
	switch cause := context.Cause(r.stepCtx); {
	case errors.Is(cause, errCancelled):
		return errCancelled
	case errors.Is(cause, errLeaseLost):
		return errLeaseLost
	}
	return nil
}

// runUnit runs an I/O step for one target (or once): attempts with retries
// and backoff, each attempt's start persisted before the action runs. It
// returns an error only when the outcome must not be recorded (the worker
// is stopping, the lease is lost).
func (r *runner) runUnit(s *state, st *runbook.Step, row *store.ExecutionStep, target *Target) (result, error) {
	x := r.x
	scope := s.scope
	if target != nil {
		scope.Target = runbook.TargetScope(*target)
	}
	act, ok := x.opts.Actions(st.Action)
	if x.opts.Actions == nil || !ok || act == nil {
		return result{status: runbook.StatusFailed, err: fmt.Sprintf("action %q is not available on this server", st.Action)}, nil
	}
	for {
		if stop := r.unitStop(); stop != nil {
			if stop == errCancelled {
				return result{status: runbook.StatusCancelled}, nil
			}
			return result{}, stop
		}
		with, err := st.Render(r.stepCtx, &scope)
		if err != nil {
			return result{status: runbook.StatusFailed, err: "inputs: " + err.Error()}, nil
		}
		now := x.now()
		row.Status, row.Attempt, row.Inputs, row.WakeAt = runbook.StatusRunning, row.Attempt+1, mustJSON(with), time.Time{}
		if row.StartedAt.IsZero() {
			row.StartedAt = now
		}
		if err := r.saveRow(row, "execution.step.start", ""); err != nil {
			return result{}, err
		}
		out, err := r.call(act, st, with, target, row.Attempt, st.Timeout)
		log := out.Log
		if row.Attempt > 1 || st.Retry.Max > 0 {
			log = fmt.Sprintf("--- attempt %d ---\n%s", row.Attempt, log)
		}
		row.Log = capLog(row.Log+log, x.opts.LogLimit)
		if err == nil {
			return result{status: runbook.StatusSucceeded, outputs: out.Values}, nil
		}
		if stop := r.unitStop(); stop != nil {
			if stop == errCancelled {
				row.Log = appendLog(row.Log, "cancelled", x.opts.LogLimit)
				return result{status: runbook.StatusCancelled, err: "cancelled"}, nil
			}
			return result{}, stop
		}
		if row.Attempt > st.Retry.Max || action.IsPermanent(err) {
			if row.Attempt <= st.Retry.Max {
				row.Log = appendLog(row.Log, fmt.Sprintf("attempt %d failed: %v; not retrying: the failure is permanent", row.Attempt, err), x.opts.LogLimit)
			}
			return result{status: runbook.StatusFailed, outputs: out.Values, err: err.Error()}, nil
		}
		delay := st.Retry.Delay(row.Attempt)
		row.Status, row.Error, row.WakeAt = runbook.StatusPending, clip(err.Error(), maxErrorLen), x.now().Add(delay)
		row.Log = appendLog(row.Log, fmt.Sprintf("attempt %d failed: %v; retrying in %s", row.Attempt, err, delay), x.opts.LogLimit)
		if err := r.saveRow(row, "", ""); err != nil {
			return result{}, err
		}
		t := time.NewTimer(delay)
		select {
		case <-r.stepCtx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// saveRow writes a row under the lease, with an optional audit record.
func (r *runner) saveRow(row *store.ExecutionStep, auditAction, auditRes string) error {
	ctx := r.jobCtx
	return r.x.st.InTx(ctx, func(tx store.Tx) error {
		e, err := r.owned(ctx, tx)
		if err != nil {
			return err
		}
		if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*row}); err != nil {
			return err
		}
		if auditAction == "" {
			return nil
		}
		return r.x.stepAudit(ctx, tx, e, row, auditAction, auditRes)
	})
}

// call runs one attempt of an action with the step's timeout, turning a
// panic into an error.
func (r *runner) call(act action.Action, st *runbook.Step, with map[string]any, target *Target, attempt int, timeout time.Duration) (out action.Output, err error) {
	ctx, cancel := context.WithTimeout(r.stepCtx, timeout)
	defer cancel()
	x := r.x
	defer func() {
		if p := recover(); p != nil {
			x.log.Error("runbook action panicked", "action", st.Action, "step", st.Name, "execution", r.id, "panic", p, "stack", string(debug.Stack()))
			out, err = action.Output{}, fmt.Errorf("action %s panicked: %v", st.Action, p)
		}
	}()
	logger := x.log.With("execution", r.id, "step", st.Name)
	if target != nil {
		logger = logger.With("target", target.ID)
	}
	out, err = act.Run(ctx, action.Input{With: with, Target: target, TenantID: r.tenant, ExecutionID: r.id, Step: st.Name, Attempt: attempt,
		Logger: logger, Now: x.now})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.stepCtx.Err() == nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	out.Values = normalizeMap(out.Values)
	return out, err
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := runbook.Normalize(m).(map[string]any)
	return out
}

// fanOut runs a per-target step on every target, at most max_concurrency at
// once, and stops starting targets once more than max_errors have failed;
// targets not started then are skipped. Each target's row is claimed
// (marked running) before its action starts, so the running rows in the
// store never outnumber the limit.
func (r *runner) fanOut(p *phase2) (result, error) {
	x, s, st := r.x, p.s, p.st
	n := len(s.targets)
	limit := s.rb.MaxConcurrency.Of(n, true)
	maxErr := s.rb.MaxErrors.Of(n, false)
	byID := map[string]*Target{}
	for i := range s.targets {
		byID[s.targets[i].ID] = &s.targets[i]
	}
	var rows []store.ExecutionStep
	for _, row := range s.rows {
		if row.Seq == s.e.Seq && row.TargetID != "" {
			rows = append(rows, row)
		}
	}
	failed, succeeded := 0, 0
	byTarget := map[string]any{}
	var todo []store.ExecutionStep
	for _, row := range rows {
		if row.Status == runbook.StatusFailed || row.Status == runbook.StatusSucceeded {
			byTarget[row.TargetID] = targetResult(row)
		}
		switch row.Status {
		case runbook.StatusFailed:
			failed++
		case runbook.StatusSucceeded:
			succeeded++
		case runbook.StatusPending:
			todo = append(todo, row)
		case runbook.StatusRunning:
			if st.Idempotent {
				row.Log = appendLog(row.Log, fmt.Sprintf("attempt %d was interrupted; running again (the step is idempotent)", row.Attempt), x.opts.LogLimit)
				todo = append(todo, row)
				continue
			}
			row.Status, row.Error, row.EndedAt = runbook.StatusFailed, errInterrupted, x.now()
			if err := r.saveRow(&row, "execution.step.end", "failed: "+errInterrupted); err != nil {
				return result{}, err
			}
			failed++
		}
	}
	type done struct {
		row store.ExecutionStep
		res result
		err error
	}
	results := make(chan done)
	inflight, next := 0, 0
	var stopErr error
	stopped := ""
	for next < len(todo) || inflight > 0 {
		if stopped == "" && next < len(todo) {
			switch stop := r.unitStop(); {
			case stop == errCancelled:
				stopped = "cancelled"
			case stop != nil:
				stopped, stopErr = "stopping", stop
			case failed > maxErr:
				stopped = fmt.Sprintf("not run: %d targets failed, more than max_errors %s allows", failed, s.rb.MaxErrors)
			}
		}
		if stopped == "" && next < len(todo) && inflight < limit {
			row := todo[next]
			next++
			inflight++
			go func() {
				res, err := r.runUnit(s, st, &row, byID[row.TargetID])
				if err == nil && res.status != runbook.StatusCancelled {
					row.Status, row.EndedAt, row.Error = res.status, x.now(), clip(res.err, maxErrorLen)
					if b, msg := x.encodeOutputs(res.outputs); msg != "" {
						row.Status, row.Error = runbook.StatusFailed, msg
					} else {
						row.Outputs = b
					}
					err = r.saveRow(&row, "execution.step.end", auditResult(row.Status, row.Error))
				}
				results <- done{row: row, res: res, err: err}
			}()
			continue
		}
		if inflight == 0 {
			break
		}
		d := <-results
		inflight--
		switch {
		case d.err != nil:
			if stopErr == nil {
				stopErr = d.err
			}
			stopped = "stopping"
		case d.res.status == runbook.StatusCancelled:
			stopped = "cancelled"
		case d.row.Status == runbook.StatusFailed:
			failed++
			byTarget[d.row.TargetID] = targetResult(d.row)
		case d.row.Status == runbook.StatusSucceeded:
			succeeded++
			byTarget[d.row.TargetID] = targetResult(d.row)
		}
	}
	if stopErr != nil {
		return result{}, stopErr
	}
	// Targets never started: skipped (or cancelled).
	var left []store.ExecutionStep
	for _, row := range todo[next:] {
		row.Status = runbook.StepSkipped
		if stopped == "cancelled" {
			row.Status = runbook.StatusCancelled
		}
		row.Log = appendLog(row.Log, stopped, x.opts.LogLimit)
		left = append(left, row)
	}
	if len(left) > 0 {
		ctx := r.jobCtx
		if err := x.st.InTx(ctx, func(tx store.Tx) error {
			if _, err := r.owned(ctx, tx); err != nil {
				return err
			}
			return tx.PutExecutionSteps(ctx, left)
		}); err != nil {
			return result{}, err
		}
	}
	if stopped == "cancelled" {
		return result{status: runbook.StatusCancelled}, nil
	}
	skipped := len(left)
	res := result{status: runbook.StatusSucceeded, outputs: map[string]any{
		"targets": int64(n), "succeeded": int64(succeeded), "failed": int64(failed), "skipped": int64(skipped)}}
	res.log = fmt.Sprintf("%d targets: %d succeeded, %d failed, %d skipped (max_concurrency %s = %d, max_errors %s = %d)",
		n, succeeded, failed, skipped, s.rb.MaxConcurrency, limit, s.rb.MaxErrors, maxErr)
	// Each target's outputs, when they fit; the target rows keep them anyway.
	res.outputs["by_target"] = byTarget
	if _, msg := x.encodeOutputs(res.outputs); msg != "" {
		delete(res.outputs, "by_target")
		res.log += "; by_target left out of the outputs (too large): see the target rows"
	}
	if failed > maxErr {
		res.status = runbook.StatusFailed
		res.err = fmt.Sprintf("%d of %d targets failed (max_errors %s); %d not run", failed, n, s.rb.MaxErrors, skipped)
	} else if failed > 0 {
		res.err = fmt.Sprintf("%d of %d targets failed (tolerated: max_errors %s)", failed, n, s.rb.MaxErrors)
	}
	return res, nil
}

// waitFor probes until the condition holds or the step's wait times out.
// The deadline counts from the step's start, so a resumed wait does not
// start over.
func (r *runner) waitFor(p *phase2) (result, error) {
	x, s, st := r.x, p.s, p.st
	wf := st.Control.(*runbook.WaitFor)
	act, ok := x.opts.Actions(wf.Probe)
	if x.opts.Actions == nil || !ok || act == nil {
		return result{status: runbook.StatusFailed, err: fmt.Sprintf("probe action %q is not available on this server", wf.Probe)}, nil
	}
	row := &p.own
	now := x.now()
	if row.Status != runbook.StatusRunning {
		row.Status, row.StartedAt, row.Attempt = runbook.StatusRunning, now, 0
		if err := r.saveRow(row, "execution.step.start", ""); err != nil {
			return result{}, err
		}
	}
	deadline := row.StartedAt.Add(wf.Timeout)
	probeStep := &runbook.Step{Name: st.Name, Action: wf.Probe, With: wf.ProbeWith, Timeout: st.Timeout}
	var last string
	for {
		if stop := r.unitStop(); stop != nil {
			if stop == errCancelled {
				return result{status: runbook.StatusCancelled}, nil
			}
			return result{}, stop
		}
		with, err := wf.ProbeWith.RenderMap(r.stepCtx, &s.scope)
		if err != nil {
			return result{status: runbook.StatusFailed, err: "probe inputs: " + err.Error()}, nil
		}
		row.Attempt++
		out, perr := r.call(act, probeStep, with, nil, row.Attempt, min(st.Timeout, max(time.Until(deadline), time.Second)))
		if stop := r.unitStop(); stop != nil {
			continue
		}
		probe := map[string]any{"outputs": nonNil(out.Values), "ok": perr == nil, "error": ""}
		if perr != nil {
			probe["error"] = perr.Error()
			last = perr.Error()
		}
		scope := s.scope
		scope.Probe = probe
		met, cerr := wf.Condition.EvalBool(r.stepCtx, &scope)
		switch {
		case cerr != nil && perr == nil:
			last = "condition: " + cerr.Error()
		case met:
			row.Log = appendLog(row.Log, fmt.Sprintf("condition met after %d probes", row.Attempt), x.opts.LogLimit)
			return result{status: runbook.StatusSucceeded, outputs: out.Values}, nil
		}
		if !x.now().Add(wf.Interval).Before(deadline) {
			msg := fmt.Sprintf("condition %s not met within %s (%d probes)", wf.Condition, wf.Timeout, row.Attempt)
			if last != "" {
				msg += "; last: " + last
			}
			return result{status: runbook.StatusFailed, outputs: out.Values, err: msg}, nil
		}
		if row.Attempt%10 == 0 {
			if err := r.saveRow(row, "", ""); err != nil {
				return result{}, err
			}
		}
		t := time.NewTimer(wf.Interval)
		select {
		case <-r.stepCtx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// targetResult is one target's entry in a per-target step's by_target
// output: its status, error and outputs.
func targetResult(row store.ExecutionStep) map[string]any {
	out, _ := decodeMap(row.Outputs)
	return map[string]any{"status": row.Status, "error": row.Error, "outputs": out}
}
