package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// result is how a step (or one target of it) ended.
type result struct {
	status  string
	outputs map[string]any
	log     string
	err     string
}

// maxErrorLen caps a stored error message.
const maxErrorLen = 4096

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// appendLog adds a line to a step log, keeping its tail within limit.
func appendLog(log, line string, limit int) string {
	if line == "" {
		return capLog(log, limit)
	}
	if log != "" && !strings.HasSuffix(log, "\n") {
		log += "\n"
	}
	return capLog(log+line+"\n", limit)
}

// capLog keeps the last limit bytes of a log, saying how much went.
func capLog(log string, limit int) string {
	if len(log) <= limit {
		return log
	}
	cut := len(log) - limit + 64
	for cut < len(log) && !utf8Start(log[cut]) {
		cut++
	}
	return fmt.Sprintf("[… %d bytes truncated]\n", cut) + log[cut:]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": "unencodable value: " + err.Error()})
	}
	return b
}

// encodeOutputs stores outputs within the limit.
func (x *Executor) encodeOutputs(outputs map[string]any) (json.RawMessage, string) {
	if outputs == nil {
		return nil, ""
	}
	b, err := json.Marshal(runbook.Normalize(outputs))
	if err != nil {
		return nil, "outputs: " + err.Error()
	}
	if len(b) > x.opts.OutputLimit {
		return nil, fmt.Sprintf("outputs are %d bytes of JSON; the limit is %d", len(b), x.opts.OutputLimit)
	}
	return b, ""
}

// stepAudit records a step's start or end.
func (x *Executor) stepAudit(ctx context.Context, tx store.Tx, e store.Execution, row *store.ExecutionStep, action, result string) error {
	d := map[string]any{"step": row.Name, "action": row.Action, "seq": row.Seq, "attempt": row.Attempt}
	if row.TargetID != "" {
		d["target"] = row.TargetID
	}
	if action == "execution.step.end" {
		d["status"] = row.Status
		if row.Error != "" {
			d["error"] = clip(row.Error, 500)
		}
	}
	return x.audit(ctx, tx, e, x.actor(e), action, result, d)
}

// complete records how the current step ended and moves the execution on:
// to jump (a branch's target) or the next step on success, per on_failure
// on failure. It reports whether there is more to run now.
func (x *Executor) complete(ctx context.Context, tx store.Tx, s *state, st *runbook.Step, own *store.ExecutionStep, res result, jump int) (bool, error) {
	now := x.now()
	own.Status, own.EndedAt = res.status, now
	if own.StartedAt.IsZero() && res.status != runbook.StepSkipped {
		own.StartedAt = now
	}
	if b, msg := x.encodeOutputs(res.outputs); msg != "" {
		own.Status, res.err = runbook.StatusFailed, msg
	} else if b != nil {
		own.Outputs = b
	}
	own.Error = clip(res.err, maxErrorLen)
	own.Log = appendLog(own.Log, res.log, x.opts.LogLimit)
	if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{*own}); err != nil {
		return false, err
	}
	if err := x.stepAudit(ctx, tx, s.e, own, "execution.step.end", auditResult(own.Status, own.Error)); err != nil {
		return false, err
	}
	outputs, _ := decodeMap(own.Outputs)
	if s.scope.Steps == nil {
		s.scope.Steps = map[string]any{}
	}
	s.scope.Steps[st.Name] = map[string]any{"status": own.Status, "outputs": outputs, "error": own.Error}
	for i := range s.rows {
		if s.rows[i].Seq == own.Seq && s.rows[i].TargetID == "" {
			s.rows[i] = *own
		}
	}
	if own.Status == runbook.StatusFailed {
		switch st.OnFailure.Kind {
		case runbook.FailContinue:
			jump = runbook.Next
		case runbook.FailGoto:
			jump = st.OnFailure.Goto
		default:
			return false, x.finish(ctx, tx, s, runbook.StatusFailed, fmt.Sprintf("step %s failed: %s", st.Name, own.Error))
		}
	}
	return x.transition(ctx, tx, s, st, own.Status, jump)
}

func auditResult(status, errMsg string) string {
	switch status {
	case runbook.StatusSucceeded, runbook.StepSkipped:
		return "ok"
	}
	if errMsg != "" {
		return status + ": " + clip(errMsg, 200)
	}
	return status
}

// transition moves to step jump (Next: the following one; Finish: the
// end).
func (x *Executor) transition(ctx context.Context, tx store.Tx, s *state, st *runbook.Step, status string, jump int) (bool, error) {
	next := jump
	if next == runbook.Next {
		next = st.Index + 1
	}
	if next == runbook.Finish || next >= len(s.rb.Steps) {
		return false, x.finish(ctx, tx, s, runbook.StatusSucceeded, "")
	}
	if err := x.enter(ctx, tx, s, next); err != nil {
		return false, err
	}
	return true, nil
}

// enter makes step i current: its planned row on a first visit, a new row
// on a revisit (goto).
func (x *Executor) enter(ctx context.Context, tx store.Tx, s *state, i int) error {
	now := x.now()
	st := s.rb.Steps[i]
	seq := -1
	for _, r := range s.rows {
		if r.Seq == i && r.TargetID == "" && r.Status == runbook.StatusPending && r.Attempt == 0 {
			seq = i
		}
	}
	if seq < 0 {
		seq = s.e.NextSeq
		s.e.NextSeq++
		row := store.ExecutionStep{TenantID: s.e.TenantID, ExecutionID: s.e.ID, Seq: seq, Index: i, Name: st.Name, Action: st.Action,
			Status: runbook.StatusPending}
		if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{row}); err != nil {
			return err
		}
		s.rows = append(s.rows, row)
	}
	s.e.Cursor, s.e.Seq, s.e.DueAt, s.e.UpdatedAt = i, seq, now, now
	return tx.UpdateExecution(ctx, s.e)
}

// ensureTargetRows creates the per-target rows of the current visit.
func (x *Executor) ensureTargetRows(ctx context.Context, tx store.Tx, s *state, st *runbook.Step) error {
	have := map[string]bool{}
	for _, r := range s.rows {
		if r.Seq == s.e.Seq && r.TargetID != "" {
			have[r.TargetID] = true
		}
	}
	var rows []store.ExecutionStep
	for _, t := range s.targets {
		if !have[t.ID] {
			rows = append(rows, store.ExecutionStep{TenantID: s.e.TenantID, ExecutionID: s.e.ID, Seq: s.e.Seq, Index: st.Index,
				Name: st.Name, Action: st.Action, TargetID: t.ID, Status: runbook.StatusPending})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	s.rows = append(s.rows, rows...)
	return tx.PutExecutionSteps(ctx, rows)
}

// finish ends the execution: runbook outputs on success, leftover rows
// skipped (or cancelled), the lease released, an audit record, a line on
// the OpsItem, and the parent step of a nested execution completed.
func (x *Executor) finish(ctx context.Context, tx store.Tx, s *state, status, errMsg string) error {
	now := x.now()
	e := &s.e
	leftover := runbook.StepSkipped
	if status == runbook.StatusCancelled {
		leftover = runbook.StatusCancelled
	}
	var rows []store.ExecutionStep
	for _, r := range s.rows {
		switch r.Status {
		case runbook.StatusPending:
			r.Status = leftover
		case runbook.StatusRunning:
			r.Status, r.EndedAt = runbook.StatusCancelled, now
			if r.Error == "" {
				r.Error = "execution " + status
			}
		default:
			continue
		}
		rows = append(rows, r)
		if sc, _ := s.scope.Steps[r.Name].(map[string]any); r.TargetID == "" && sc != nil && sc["status"] == runbook.StatusPending {
			sc["status"] = r.Status
		}
	}
	if status == runbook.StatusSucceeded && s.rb != nil && len(s.rb.Outputs) > 0 {
		out := map[string]any{}
		for _, name := range sortedNames(s.rb.Outputs) {
			v, err := s.rb.Outputs[name].Eval(ctx, &s.scope)
			if err != nil {
				status, errMsg = runbook.StatusFailed, fmt.Sprintf("output %s: %v", name, err)
				break
			}
			out[name] = v
		}
		if status == runbook.StatusSucceeded {
			b, msg := x.encodeOutputs(out)
			if msg != "" {
				status, errMsg = runbook.StatusFailed, msg
			}
			e.Outputs = b
		}
	}
	// A run that did every step but did not fix the problem is
	// ineffective, not succeeded. Dry runs prove nothing either way.
	if status == runbook.StatusSucceeded && s.rb != nil && s.rb.Verify != nil && !e.DryRun {
		out, _ := decodeMap(e.Outputs)
		s.scope.Outputs = out
		if ok, why := s.rb.Verified(ctx, &s.scope); !ok {
			status, errMsg = runbook.StatusIneffective, why
		}
	}
	if err := tx.PutExecutionSteps(ctx, rows); err != nil {
		return err
	}
	e.Status, e.Error, e.EndedAt, e.UpdatedAt = status, clip(errMsg, maxErrorLen), now, now
	if e.StartedAt.IsZero() {
		e.StartedAt = now
	}
	e.LeaseOwner, e.LeaseUntil, e.DueAt = "", time.Time{}, time.Time{}
	if err := tx.UpdateExecution(ctx, *e); err != nil {
		return err
	}
	if err := x.audit(ctx, tx, *e, x.actor(*e), "execution.end", auditResult(status, errMsg),
		map[string]any{"runbook": e.Runbook, "status": status, "error": clip(errMsg, 500)}); err != nil {
		return err
	}
	// Rules hear real outcomes only: not denials, cancellations or dry
	// runs, nor a nested run (its parent reports).
	if r := x.opts.Results; r != nil && e.ParentID == "" && !e.DryRun &&
		(status == runbook.StatusSucceeded || status == runbook.StatusFailed || status == runbook.StatusTimedOut || status == runbook.StatusIneffective) {
		if err := r.RecordResult(ctx, tx, *e); err != nil {
			return fmt.Errorf("record result of %s (rule %q): %w", e.ID, e.Rule, err)
		}
	}
	msg := fmt.Sprintf("Runbook %s %s (execution %s)", e.Runbook, status, e.ID)
	if errMsg != "" {
		msg += ": " + clip(errMsg, 300)
	}
	if err := x.timeline(ctx, tx, *e, "runbook", msg, x.actor(*e)); err != nil {
		return err
	}
	if e.ParentID != "" {
		return x.childEnded(ctx, tx, *e)
	}
	return nil
}

// childEnded completes the parent's runbook step with a nested
// execution's outcome and sets the parent going again.
func (x *Executor) childEnded(ctx context.Context, tx store.Tx, child store.Execution) error {
	pe, err := tx.LockExecution(ctx, child.TenantID, child.ParentID)
	if err != nil {
		return fmt.Errorf("parent of %s: %w", child.ID, err)
	}
	if runbook.IsTerminal(pe.Status) || pe.Seq != child.ParentSeq || pe.CancelRequested {
		return nil
	}
	ps, err := x.load(ctx, tx, pe)
	if errors.Is(err, errRunbookGone) {
		return x.finish(ctx, tx, ps, runbook.StatusFailed, err.Error())
	}
	if err != nil {
		return err
	}
	own, _ := ps.visit()
	if own == nil || own.Status != runbook.StatusRunning {
		return nil
	}
	st := ps.rb.Steps[pe.Cursor]
	more, err := x.complete(ctx, tx, ps, st, own, childResult(child), runbook.Next)
	if err != nil || !more {
		return err
	}
	return x.enqueue(ctx, tx, ps.e)
}

func sortedNames[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
