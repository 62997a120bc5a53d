package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Target is one thing a per-target step acts on.
type Target = action.Target

// LocalTarget is the server host, the target of a runbook with none.
const LocalTarget = "local"

// maxTargets bounds one execution's targets.
const maxTargets = 10_000

// Start validates req, writes the execution and its planned steps, and
// enqueues its first job, all in tx. A dry run renders every step into
// skipped step rows and ends at once. In suggest mode nothing runs: the
// suggestion is recorded on the OpsItem and the ID is "".
func (x *Executor) Start(ctx context.Context, tx store.Tx, req runbook.StartRequest) (string, error) {
	return x.start(ctx, tx, req, nil)
}

// parentRef links a nested execution to its parent's step.
type parentRef struct {
	id    string
	seq   int
	depth int
}

func (x *Executor) start(ctx context.Context, tx store.Tx, req runbook.StartRequest, parent *parentRef) (string, error) {
	rb, ok := x.Runbooks().Get(req.TenantID, req.Runbook)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownRunbook, req.Runbook)
	}
	switch req.Mode {
	case "", runbook.ModeAuto, runbook.ModeApproval, runbook.ModeSuggest:
	default:
		return "", invalid("mode %q is not auto, approval or suggest", req.Mode)
	}
	if req.StartedBy == "" {
		return "", invalid("started_by is required")
	}
	params, err := rb.ResolveParams(req.Parameters)
	if err != nil {
		return "", err
	}
	now := x.now()
	var item *store.OpsItem
	if req.OpsItemID != "" {
		o, err := tx.GetOpsItem(ctx, req.TenantID, req.OpsItemID)
		if errors.Is(err, store.ErrNotFound) {
			return "", invalid("OpsItem %q not found", req.OpsItemID)
		}
		if err != nil {
			return "", err
		}
		item = &o
	}
	if req.Mode == runbook.ModeSuggest {
		return "", x.suggest(ctx, tx, req, rb, item)
	}
	targets, err := x.resolveTargets(ctx, tx, req, rb)
	if err != nil {
		return "", err
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return "", err
	}
	tj, err := json.Marshal(targets)
	if err != nil {
		return "", err
	}
	e := store.Execution{
		ID: store.NewID("ex", now), TenantID: req.TenantID, Runbook: rb.Name, RunbookVersion: rb.Version,
		Status: runbook.StatusPending, Parameters: pj, Targets: tj, OpsItemID: req.OpsItemID, Rule: req.Rule,
		StartedBy: req.StartedBy, Mode: string(req.Mode), DryRun: req.DryRun,
		Cursor: 0, Seq: 0, NextSeq: len(rb.Steps), DueAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if e.Mode == "" {
		e.Mode = string(runbook.ModeAuto)
	}
	if parent != nil {
		if parent.depth+1 > x.opts.MaxDepth {
			return "", invalid("runbooks nest deeper than %d", x.opts.MaxDepth)
		}
		e.ParentID, e.ParentSeq, e.Depth = parent.id, parent.seq, parent.depth+1
	}
	gate := req.Mode == runbook.ModeApproval && !req.DryRun
	if gate {
		e.Status, e.Seq = runbook.StatusWaitingApproval, -1
	}
	if err := tx.CreateExecution(ctx, e); err != nil {
		return "", err
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	if err := x.audit(ctx, tx, e, req.StartedBy, "execution.start", "", map[string]any{
		"runbook": rb.Name, "version": rb.Version, "mode": e.Mode, "dry_run": req.DryRun, "opsitem": req.OpsItemID,
		"rule": req.Rule, "parameters": names, "targets": len(targets), "parent": e.ParentID}); err != nil {
		return "", err
	}
	if req.DryRun {
		return e.ID, x.dryRun(ctx, tx, e, rb, params, targets, item)
	}
	plan := make([]store.ExecutionStep, len(rb.Steps))
	for i, st := range rb.Steps {
		plan[i] = store.ExecutionStep{TenantID: e.TenantID, ExecutionID: e.ID, Seq: i, Index: i, Name: st.Name, Action: st.Action,
			Status: runbook.StatusPending}
	}
	if err := tx.PutExecutionSteps(ctx, plan); err != nil {
		return "", err
	}
	if item != nil {
		msg := fmt.Sprintf("Runbook %s started (execution %s)", rb.Name, e.ID)
		if gate {
			msg = fmt.Sprintf("Runbook %s is waiting for approval (execution %s)", rb.Name, e.ID)
		}
		if err := x.timeline(ctx, tx, e, "runbook", msg, req.StartedBy); err != nil {
			return "", err
		}
	}
	if gate {
		if err := x.q.InsertTx(ctx, tx, ApprovalTimeoutArgs{TenantID: e.TenantID, ExecutionID: e.ID, Seq: -1},
			&river.InsertOpts{ScheduledAt: now.Add(x.opts.ApprovalTimeout)}); err != nil {
			return "", err
		}
		return e.ID, nil
	}
	if err := x.enqueue(ctx, tx, e); err != nil {
		return "", err
	}
	return e.ID, nil
}

// resolveTargets turns the request's targets, or the runbook's default
// targeting, into targets; with neither, the one target is the server
// host ("local"), which the exec action refuses unless enabled.
func (x *Executor) resolveTargets(ctx context.Context, tx store.Tx, req runbook.StartRequest, rb *runbook.Runbook) ([]Target, error) {
	var out []Target
	switch sel := rb.Targets; {
	case len(req.Targets) > 0:
		for _, id := range req.Targets {
			out = append(out, x.lookupTarget(ctx, tx, req.TenantID, id))
		}
	case len(sel.Resources) > 0:
		for _, id := range sel.Resources {
			out = append(out, x.lookupTarget(ctx, tx, req.TenantID, id))
		}
	case sel.From == "opsitem":
		if req.OpsItemID == "" {
			return nil, invalid("runbook %s targets the OpsItem's resources: give an OpsItem (or targets)", rb.Name)
		}
		rs, err := tx.ListOpsItemResources(ctx, req.TenantID, req.OpsItemID)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			t := x.lookupTarget(ctx, tx, req.TenantID, r.ID)
			if t.Type == "" {
				t.Type = r.Type
			}
			out = append(out, t)
		}
		if len(out) == 0 && needsTargets(rb) {
			return nil, invalid("OpsItem %s has no related resources to run runbook %s on", req.OpsItemID, rb.Name)
		}
	case len(sel.Tags) > 0 || sel.Group != "":
		if x.opts.Targets == nil {
			return nil, invalid("runbook %s targets by tag or group, which needs the inventory; give targets", rb.Name)
		}
		ts, err := x.opts.Targets.ResolveTargets(ctx, tx, req.TenantID, sel)
		if err != nil {
			return nil, fmt.Errorf("%w: targets: %v", ErrInvalid, err)
		}
		out = ts
		if len(out) == 0 && needsTargets(rb) {
			return nil, invalid("runbook %s: no resources match its targets", rb.Name)
		}
	default:
		out = []Target{{ID: LocalTarget, Type: LocalTarget}}
	}
	if len(out) > maxTargets {
		return nil, invalid("%d targets; the limit is %d", len(out), maxTargets)
	}
	seen := map[string]bool{}
	uniq := out[:0]
	for _, t := range out {
		if t.ID == "" {
			return nil, invalid("a target has an empty ID")
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			uniq = append(uniq, t)
		}
	}
	if uniq == nil {
		uniq = []Target{}
	}
	return uniq, nil
}

// lookupTarget fills a target's type and tags from the inventory when it
// knows the resource.
func (x *Executor) lookupTarget(ctx context.Context, tx store.Tx, tenant, id string) Target {
	t := Target{ID: id}
	if id == LocalTarget {
		t.Type = LocalTarget
		return t
	}
	if r, err := tx.GetResource(ctx, tenant, id); err == nil {
		t.Type, t.Tags = r.Type, r.Tags
	}
	return t
}

func needsTargets(rb *runbook.Runbook) bool {
	return slices.ContainsFunc(rb.Steps, func(s *runbook.Step) bool { return s.PerTarget })
}

// suggest records a suggested runbook on the OpsItem.
func (x *Executor) suggest(ctx context.Context, tx store.Tx, req runbook.StartRequest, rb *runbook.Runbook, item *store.OpsItem) error {
	if item == nil {
		return invalid("suggest mode needs an OpsItem to record the suggestion on")
	}
	by := req.StartedBy
	msg := fmt.Sprintf("Suggested runbook: %s", rb.Name)
	if req.Rule != "" {
		msg += fmt.Sprintf(" (rule %s)", req.Rule)
	}
	if err := x.timeline(ctx, tx, store.Execution{TenantID: req.TenantID, OpsItemID: item.ID}, "suggestion", msg, by); err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, req.TenantID, x.now(), audit.Entry{Actor: by, Action: "runbook.suggest", Target: "opsitem/" + item.ID,
		Detail: map[string]any{"runbook": rb.Name, "rule": req.Rule}})
	return err
}

// dryRun renders every step into skipped rows and ends the execution.
func (x *Executor) dryRun(ctx context.Context, tx store.Tx, e store.Execution, rb *runbook.Runbook, params map[string]any, targets []Target, item *store.OpsItem) error {
	scope := runbook.Scope{Params: params, Execution: executionScope(e, targets)}
	if item != nil {
		rs, err := tx.ListOpsItemResources(ctx, e.TenantID, item.ID)
		if err != nil {
			return err
		}
		scope.OpsItem = opsItemScope(*item, rs)
	}
	var rows []store.ExecutionStep
	for _, r := range rb.DryRun(ctx, scope, targets) {
		st := rb.Steps[r.Index]
		if st.PerTarget && (len(rows) == 0 || rows[len(rows)-1].Index != r.Index) {
			rows = append(rows, store.ExecutionStep{TenantID: e.TenantID, ExecutionID: e.ID, Seq: r.Index, Index: r.Index, Name: st.Name,
				Action: st.Action, Status: runbook.StepSkipped, Log: "dry run: per target"})
		}
		in, err := json.Marshal(r.With)
		if err != nil {
			return err
		}
		log := "dry run"
		if r.When != nil && !*r.When {
			log += "; when is false: the step would be skipped"
		}
		if r.Note != "" {
			log += "; " + r.Note
		}
		rows = append(rows, store.ExecutionStep{TenantID: e.TenantID, ExecutionID: e.ID, Seq: r.Index, Index: r.Index, Name: st.Name,
			Action: st.Action, TargetID: r.Target, Status: runbook.StepSkipped, Inputs: in, Log: log})
	}
	if err := tx.PutExecutionSteps(ctx, rows); err != nil {
		return err
	}
	now := x.now()
	e.Status, e.StartedAt, e.EndedAt, e.UpdatedAt, e.Seq = runbook.StatusSucceeded, now, now, now, -1
	if err := tx.UpdateExecution(ctx, e); err != nil {
		return err
	}
	return x.audit(ctx, tx, e, x.actor(e), "execution.end", "", map[string]any{"status": e.Status, "dry_run": true})
}

// enqueue puts the execution's next job on the queue.
func (x *Executor) enqueue(ctx context.Context, tx store.Tx, e store.Execution) error {
	return x.q.InsertTx(ctx, tx, AdvanceArgs{TenantID: e.TenantID, ExecutionID: e.ID}, nil)
}

// actor names the execution in audit records of its automated actions.
func (x *Executor) actor(e store.Execution) string { return "execution:" + e.ID }

func (x *Executor) audit(ctx context.Context, tx store.Tx, e store.Execution, actor, action, result string, detail any) error {
	_, err := audit.Append(ctx, tx, e.TenantID, x.now(), audit.Entry{Actor: actor, Action: action, Target: "execution/" + e.ID,
		Result: result, Detail: detail})
	return err
}

func (x *Executor) timeline(ctx context.Context, tx store.Tx, e store.Execution, kind, msg, actor string) error {
	if e.OpsItemID == "" {
		return nil
	}
	now := x.now()
	return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", now), TenantID: e.TenantID, OpsItemID: e.OpsItemID,
		At: now, Kind: kind, Message: msg, Actor: actor})
}
