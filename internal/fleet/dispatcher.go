package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Dispatcher runs runbook `exec` steps on agents: it queues the command
// for the target's agent, waits for the result and maps it to the exec
// action's Result.
type Dispatcher struct {
	Service *Service
	// TenantOf returns the tenant the calling execution runs in; when it
	// returns "" (or is nil) the target's own tenant is used. With it set, a
	// target of another tenant is refused.
	TenantOf func(ctx context.Context) string
	// Actor is recorded as the command's creator; default "system:runbook".
	Actor string
}

var _ exec.Dispatcher = (*Dispatcher)(nil)

// AgentOfTarget names the agent behind a target: an agent ID, or the ID of
// the host resource an agent reports.
func AgentOfTarget(id string) (string, bool) {
	switch {
	case strings.HasPrefix(id, "agt_"):
		return id, true
	case strings.HasPrefix(id, "res_"):
		return "agt_" + strings.TrimPrefix(id, "res_"), true
	}
	return "", false
}

// Dispatch implements exec.Dispatcher.
func (d *Dispatcher) Dispatch(ctx context.Context, target action.Target, cmd exec.Command) (exec.Result, error) {
	s := d.Service
	agentID, ok := AgentOfTarget(target.ID)
	if !ok {
		return exec.Result{}, fmt.Errorf("%w: %q is not an agent's host", runbook.ErrTargetUnavailable, target.ID)
	}
	cred, err := s.st.AgentCredential(ctx, agentID)
	if errors.Is(err, store.ErrNotFound) {
		return exec.Result{}, fmt.Errorf("%w: %q: %w", runbook.ErrTargetUnavailable, target.ID, ErrAgentGone)
	}
	if err != nil {
		return exec.Result{}, err
	}
	tenant := cred.TenantID
	if d.TenantOf != nil {
		if t := d.TenantOf(ctx); t != "" && t != tenant {
			return exec.Result{}, fmt.Errorf("%w: %q: %w", runbook.ErrTargetUnavailable, target.ID, ErrAgentGone)
		}
	}
	actor := d.Actor
	if actor == "" {
		actor = "system:runbook"
	}
	spec := store.CommandSpec{Argv: cmd.Argv, Script: cmd.Script, Env: cmd.Env, Dir: cmd.Dir, User: cmd.User, Timeout: cmd.Timeout, Patch: cmd.Patch}
	var c store.AgentCommand
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if c, err = s.NewCommand(ctx, tx, tenant, agentID, spec, actor); errors.Is(err, ErrAgentGone) {
			return fmt.Errorf("%w: %q: %w", runbook.ErrTargetUnavailable, target.ID, err)
		} else if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, tenant, s.now(), audit.Entry{Actor: actor, Action: "command.create", Target: "command/" + c.ID,
			Detail: commandDetail(c)})
		return err
	})
	if err != nil {
		return exec.Result{}, err
	}
	s.Queued(agentID)
	done, err := s.WaitCommand(ctx, tenant, c.ID)
	if err != nil {
		if ctx.Err() != nil {
			// The step was cancelled or timed out: stop the command too.
			bg := context.WithoutCancel(ctx)
			_ = s.st.InTx(bg, func(tx store.Tx) error { _, err := s.CancelCommand(bg, tx, tenant, c.ID); return err })
			s.Queued(agentID)
			if done.Status == store.CommandQueued {
				// The agent never picked it up: the host, not the runbook.
				return exec.Result{}, fmt.Errorf("%w: the agent of %q did not pick the command up: %w", runbook.ErrTargetUnavailable, target.ID, err)
			}
		}
		return exec.Result{}, err
	}
	if done.Status == store.CommandLost || (done.Status != store.CommandSucceeded && done.StartedAt == nil && done.ExitCode == nil) {
		r, err := resultOf(done)
		return r, fmt.Errorf("%w: %w", runbook.ErrTargetUnavailable, err)
	}
	return resultOf(done)
}

// resultOf maps a finished command to the exec action's Result: a process
// that ran and exited is a Result whatever its code; anything else is an
// error.
func resultOf(c store.AgentCommand) (exec.Result, error) {
	r := exec.Result{Stdout: c.Output, StdoutBytes: c.OutputBytes}
	if c.StartedAt != nil && c.EndedAt != nil {
		r.Duration = c.EndedAt.Sub(*c.StartedAt)
		if r.Duration <= 0 {
			r.Duration = time.Microsecond
		}
	}
	switch {
	case c.Status == store.CommandSucceeded || (c.Status == store.CommandFailed && c.ExitCode != nil):
		r.ExitCode = *c.ExitCode
		if r.ExitCode == -1 {
			r.Signal = "killed"
		}
		return r, nil
	case c.Error != "":
		return r, fmt.Errorf("command %s %s: %s", c.ID, c.Status, c.Error)
	}
	return r, fmt.Errorf("command %s %s", c.ID, c.Status)
}

// commandDetail is what the audit log records of a command: never the
// environment's values, which may hold secrets.
func commandDetail(c store.AgentCommand) map[string]any {
	d := map[string]any{"agent": c.AgentID, "timeout": c.Spec.Timeout.String()}
	if p := c.Spec.Patch; p != nil {
		d["patch"] = p.Operation
		d["packages"] = len(p.Install)
	} else if len(c.Spec.Argv) > 0 {
		d["argv"] = c.Spec.Argv
	} else {
		d["script_bytes"] = len(c.Spec.Script)
	}
	if len(c.Spec.Env) > 0 {
		keys := make([]string, 0, len(c.Spec.Env))
		for k := range c.Spec.Env {
			keys = append(keys, k)
		}
		d["env_keys"] = keys
	}
	if c.Spec.User != "" {
		d["user"] = c.Spec.User
	}
	if c.Spec.Dir != "" {
		d["dir"] = c.Spec.Dir
	}
	return d
}

// CommandDetail is the audit detail of a queued command (for the API).
func CommandDetail(c store.AgentCommand) map[string]any { return commandDetail(c) }
