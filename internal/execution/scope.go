package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// errRunbookGone: the execution's runbook (in its version) is no longer
// defined, so it cannot go on; it ends as failed.
var errRunbookGone = errors.New("cannot continue")

// decodeJSON decodes stored JSON for expressions (integral numbers as
// int64).
func decodeJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return runbook.Normalize(v), nil
}

func decodeMap(b []byte) (map[string]any, error) {
	v, err := decodeJSON(b)
	if err != nil || v == nil {
		return map[string]any{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("stored value is %T, not an object", v)
	}
	return m, nil
}

func decodeTargets(b []byte) ([]Target, error) {
	var ts []Target
	if len(b) == 0 {
		return ts, nil
	}
	err := json.Unmarshal(b, &ts)
	return ts, err
}

// executionScope is `execution` in expressions.
func executionScope(e store.Execution, targets []Target) map[string]any {
	ids := make([]any, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return map[string]any{
		"id": e.ID, "runbook": e.Runbook, "version": int64(e.RunbookVersion), "started_by": e.StartedBy,
		"rule": e.Rule, "mode": e.Mode, "dry_run": e.DryRun, "opsitem_id": e.OpsItemID, "targets": ids,
		"parent_id": e.ParentID, "created_at": e.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// opsItemScope is `opsitem` in expressions.
func opsItemScope(o store.OpsItem, rs []store.OpsItemResource) map[string]any {
	res := make([]any, len(rs))
	for i, r := range rs {
		res[i] = map[string]any{"type": r.Type, "id": r.ID}
	}
	data, _ := decodeMap(o.OperationalData)
	return map[string]any{
		"id": o.ID, "title": o.Title, "description": o.Description, "category": o.Category, "severity": o.Severity,
		"status": o.Status, "source": o.Source, "rule": o.Rule, "group_key": o.GroupKey, "occurrences": o.Occurrences,
		"resources": res, "data": data,
	}
}

// state is everything a step needs from the store: the execution, its
// runbook, its targets and step rows, and the expression scope.
type state struct {
	e       store.Execution
	rb      *runbook.Runbook
	targets []Target
	rows    []store.ExecutionStep
	scope   runbook.Scope
}

// load reads an execution's state in tx (or outside one, with the store).
//
// When the runbook is gone (or changed version), it returns the state with
// only the execution and its rows, and an error wrapping errRunbookGone:
// enough to end the execution.
func (x *Executor) load(ctx context.Context, r store.Reader, e store.Execution) (*state, error) {
	rb, ok := x.Runbooks().Get(e.TenantID, e.Runbook)
	var gone error
	switch {
	case !ok:
		gone = fmt.Errorf("%w: runbook %q is no longer defined", errRunbookGone, e.Runbook)
	case rb.Version != e.RunbookVersion && !e.DryRun:
		// Steps are addressed by index: another version could put another
		// step at the cursor.
		gone = fmt.Errorf("%w: runbook %s changed from version %d to %d while the execution ran", errRunbookGone, e.Runbook, e.RunbookVersion, rb.Version)
	}
	if gone != nil {
		rows, err := r.ListExecutionSteps(ctx, e.TenantID, e.ID)
		if err != nil {
			return nil, err
		}
		return &state{e: e, rows: rows}, gone
	}
	s := &state{e: e, rb: rb}
	var err error
	if s.targets, err = decodeTargets(e.Targets); err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	if s.rows, err = r.ListExecutionSteps(ctx, e.TenantID, e.ID); err != nil {
		return nil, err
	}
	params, err := decodeMap(e.Parameters)
	if err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	s.scope = runbook.Scope{Params: params, Execution: executionScope(e, s.targets), Steps: stepsScope(s.rows)}
	if e.OpsItemID != "" {
		o, err := r.GetOpsItem(ctx, e.TenantID, e.OpsItemID)
		if err != nil {
			return nil, fmt.Errorf("OpsItem %s: %w", e.OpsItemID, err)
		}
		rs, err := r.ListOpsItemResources(ctx, e.TenantID, e.OpsItemID)
		if err != nil {
			return nil, err
		}
		s.scope.OpsItem = opsItemScope(o, rs)
	}
	return s, nil
}

// stepsScope is `steps` in expressions: each step's latest finished
// visit, or status "pending" for a step not run yet.
func stepsScope(rows []store.ExecutionStep) map[string]any {
	out := map[string]any{}
	for _, r := range rows {
		if r.TargetID != "" {
			continue
		}
		if r.Status == runbook.StatusPending || r.Status == runbook.StatusRunning {
			if _, seen := out[r.Name]; !seen {
				out[r.Name] = map[string]any{"status": r.Status, "outputs": map[string]any{}, "error": ""}
			}
			continue
		}
		outputs, err := decodeMap(r.Outputs)
		if err != nil {
			outputs = map[string]any{}
		}
		out[r.Name] = map[string]any{"status": r.Status, "outputs": outputs, "error": r.Error}
	}
	return out
}

// visit returns the rows of the current visit: the step's own and its
// targets'.
func (s *state) visit() (own *store.ExecutionStep, targets []store.ExecutionStep) {
	for i := range s.rows {
		r := &s.rows[i]
		if r.Seq != s.e.Seq {
			continue
		}
		if r.TargetID == "" {
			own = r
		} else {
			targets = append(targets, *r)
		}
	}
	return own, targets
}
