package execution

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// runInline runs a control step that only decides or writes Flywheel's
// own records, inside the transaction that completes it — so it takes
// effect exactly once. A result with an empty status is a store error.
func (x *Executor) runInline(ctx context.Context, tx store.Tx, s *state, st *runbook.Step, ctl any) (result, int) {
	fail := func(format string, args ...any) (result, int) {
		return result{status: runbook.StatusFailed, err: fmt.Sprintf(format, args...)}, runbook.Next
	}
	switch c := ctl.(type) {
	case *runbook.Branch:
		for i, cs := range c.Cases {
			ok, err := cs.When.EvalBool(ctx, &s.scope)
			if err != nil {
				return fail("cases[%d].when: %v", i, err)
			}
			if ok {
				return result{status: runbook.StatusSucceeded, outputs: map[string]any{"case": int64(i), "goto": cs.Target},
					log: fmt.Sprintf("case %d holds: going to %s", i, cs.Target)}, cs.Goto
			}
		}
		to := c.DefaultName
		if to == "" {
			to = "the next step"
		}
		return result{status: runbook.StatusSucceeded, outputs: map[string]any{"case": int64(-1), "goto": c.DefaultName},
			log: "no case holds: going to " + to}, c.Default
	case *runbook.Assert:
		ok, err := c.That.EvalBool(ctx, &s.scope)
		if err != nil {
			return fail("that: %v", err)
		}
		if ok {
			return result{status: runbook.StatusSucceeded}, runbook.Next
		}
		msg, err := c.Message.Render(ctx, &s.scope)
		if m, _ := msg.(string); err == nil && m != "" {
			return fail("assertion failed: %s", m)
		}
		return fail("assertion failed: %s", c.That)
	case *runbook.Collect:
		v, err := c.Value.Eval(ctx, &s.scope)
		if err != nil {
			return fail("value: %v", err)
		}
		if s.e.OpsItemID == "" {
			return result{status: runbook.StatusSucceeded, outputs: map[string]any{"value": v},
				log: "no OpsItem: the value is kept in the step's outputs only"}, runbook.Next
		}
		if err := x.collect(ctx, tx, s, c.Name, v); err != nil {
			return result{err: err.Error()}, runbook.Next
		}
		return result{status: runbook.StatusSucceeded, outputs: map[string]any{"value": v},
			log: fmt.Sprintf("attached %s to OpsItem %s", c.Name, s.e.OpsItemID)}, runbook.Next
	case *runbook.OpsItemUpdate:
		if s.e.OpsItemID == "" {
			return fail("the execution has no OpsItem to update")
		}
		note, err := c.Note.Render(ctx, &s.scope)
		if err != nil {
			return fail("note: %v", err)
		}
		n, _ := note.(string)
		sev, err := c.RenderSeverity(ctx, &s.scope)
		if err != nil {
			return fail("severity: %v", err)
		}
		res, err := x.updateOpsItem(ctx, tx, s, c, n, sev)
		if err != nil {
			return result{err: err.Error()}, runbook.Next
		}
		return res, runbook.Next
	}
	return fail("unknown control step %T", ctl)
}

// collect sets name in the OpsItem's operational data and notes it on the
// timeline.
func (x *Executor) collect(ctx context.Context, tx store.Tx, s *state, name string, v any) error {
	o, err := tx.GetOpsItem(ctx, s.e.TenantID, s.e.OpsItemID)
	if err != nil {
		return err
	}
	data, err := decodeMap(o.OperationalData)
	if err != nil {
		data = map[string]any{"previous": string(o.OperationalData)}
	}
	data[name] = v
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	o.OperationalData, o.UpdatedAt = b, x.now()
	if err := tx.UpdateOpsItem(ctx, o); err != nil {
		return err
	}
	rs, err := tx.ListOpsItemResources(ctx, s.e.TenantID, o.ID)
	if err != nil {
		return err
	}
	s.scope.OpsItem = opsItemScope(o, rs)
	return x.timeline(ctx, tx, s.e, "diagnostics", fmt.Sprintf("Runbook %s collected %s", s.e.Runbook, name), x.actor(s.e))
}

// updateOpsItem applies an opsitem step. Resolving records who: the
// runbook ("automation:runbook:<name>"; every automated resolution's
// resolved_by starts with "automation:"), so people and the flywheel
// metrics see it was resolved by automation.
func (x *Executor) updateOpsItem(ctx context.Context, tx store.Tx, s *state, c *runbook.OpsItemUpdate, note, severity string) (result, error) {
	o, err := tx.GetOpsItem(ctx, s.e.TenantID, s.e.OpsItemID)
	if err != nil {
		return result{}, err
	}
	now := x.now()
	status := c.Status
	if c.Resolve {
		status = opsitem.StatusResolved
	}
	before := o.Status
	if status != "" && status != o.Status {
		o.Status = status
		if status == opsitem.StatusResolved {
			o.ResolvedAt, o.ResolvedBy = &now, "automation:runbook:"+s.e.Runbook
		} else if !opsitem.IsClosed(status) {
			o.ResolvedAt, o.ResolvedBy = nil, ""
		}
		o.UpdatedAt = now
		if err := tx.UpdateOpsItem(ctx, o); err != nil {
			return result{}, err
		}
		msg := fmt.Sprintf("Status %s → %s by runbook %s", before, status, s.e.Runbook)
		if status == opsitem.StatusResolved {
			msg = fmt.Sprintf("Resolved by runbook %s (execution %s)", s.e.Runbook, s.e.ID)
		}
		if err := x.timeline(ctx, tx, s.e, "status", msg, x.actor(s.e)); err != nil {
			return result{}, err
		}
		if err := x.audit(ctx, tx, s.e, x.actor(s.e), "opsitem.update", "", map[string]any{"opsitem": o.ID, "status": status, "from": before}); err != nil {
			return result{}, err
		}
	}
	if note != "" {
		if err := x.timeline(ctx, tx, s.e, "note", note, x.actor(s.e)); err != nil {
			return result{}, err
		}
	}
	outputs := map[string]any{"status": o.Status, "previous_status": before}
	if severity != "" {
		outputs["severity"], outputs["previous_severity"] = severity, o.Severity
		if severity != o.Severity {
			if err := x.setSeverity(ctx, tx, s, &o, severity); err != nil {
				return result{}, err
			}
		}
	}
	rs, _ := tx.ListOpsItemResources(ctx, s.e.TenantID, o.ID)
	s.scope.OpsItem = opsItemScope(o, rs)
	return result{status: runbook.StatusSucceeded, outputs: outputs}, nil
}

// setSeverity gives the OpsItem a new severity, on its timeline and in the
// audit log.
func (x *Executor) setSeverity(ctx context.Context, tx store.Tx, s *state, o *store.OpsItem, severity string) error {
	before := o.Severity
	o.Severity, o.UpdatedAt = severity, x.now()
	if err := tx.UpdateOpsItem(ctx, *o); err != nil {
		return err
	}
	if err := x.timeline(ctx, tx, s.e, "severity", fmt.Sprintf("Severity %s → %s by runbook %s", before, severity, s.e.Runbook), x.actor(s.e)); err != nil {
		return err
	}
	return x.audit(ctx, tx, s.e, x.actor(s.e), "opsitem.update", "", map[string]any{"opsitem": o.ID, "severity": severity, "from": before})
}
