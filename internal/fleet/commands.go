package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Bounds on one command.
const (
	DefaultCommandTimeout = 5 * time.Minute
	MaxCommandTimeout     = 24 * time.Hour
	maxArgs               = 1024
	maxArgLen             = 64 << 10
	maxScript             = 1 << 20
	maxEnv                = 256
	maxChunk              = 1 << 20
)

// ErrAgentGone is returned when a command targets an agent that does not
// exist in the tenant or is revoked.
var ErrAgentGone = errors.New("no such agent")

// CheckSpec validates a command and applies the default timeout.
func CheckSpec(spec *store.CommandSpec) error {
	if spec.Patch != nil {
		if len(spec.Argv) > 0 || spec.Script != "" {
			return invalidf("patch excludes argv and script")
		}
		if err := spec.Patch.Check(); err != nil {
			return invalidf("%v", err)
		}
	}
	switch {
	case spec.Patch != nil:
	case len(spec.Argv) == 0 && spec.Script == "":
		return invalidf("one of argv, script or patch is required")
	case len(spec.Argv) > 0 && spec.Script != "":
		return invalidf("argv and script are exclusive")
	case len(spec.Argv) > maxArgs:
		return invalidf("argv has %d elements; at most %d", len(spec.Argv), maxArgs)
	case len(spec.Script) > maxScript:
		return invalidf("script is longer than %d bytes", maxScript)
	case len(spec.Env) > maxEnv:
		return invalidf("env has %d variables; at most %d", len(spec.Env), maxEnv)
	case spec.Shell != "" && spec.Script == "":
		return invalidf("shell is only for a script")
	}
	if len(spec.Argv) > 0 && strings.TrimSpace(spec.Argv[0]) == "" {
		return invalidf("argv[0] (the program) is empty")
	}
	for i, a := range spec.Argv {
		if len(a) > maxArgLen || strings.ContainsRune(a, 0) {
			return invalidf("argv[%d] is longer than %d bytes or holds a NUL byte", i, maxArgLen)
		}
	}
	for k, v := range spec.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) || len(k)+len(v) > maxArgLen {
			return invalidf("env %q: invalid name or value", k)
		}
	}
	for name, v := range map[string]string{"dir": spec.Dir, "user": spec.User, "shell": spec.Shell} {
		if len(v) > 4096 || strings.ContainsRune(v, 0) {
			return invalidf("%s is invalid", name)
		}
	}
	if spec.Timeout == 0 {
		spec.Timeout = DefaultCommandTimeout
	}
	if spec.Timeout < time.Second || spec.Timeout > MaxCommandTimeout {
		return invalidf("timeout %s must be from 1s to %s", spec.Timeout, MaxCommandTimeout)
	}
	return nil
}

// NewCommand queues spec for an agent of tenant in tx. Call Queued after
// the transaction commits so a waiting long-poll picks it up at once.
func (s *Service) NewCommand(ctx context.Context, tx store.Tx, tenant, agentID string, spec store.CommandSpec, by string) (store.AgentCommand, error) {
	if err := CheckSpec(&spec); err != nil {
		return store.AgentCommand{}, err
	}
	a, err := tx.GetAgent(ctx, tenant, agentID)
	if errors.Is(err, store.ErrNotFound) {
		return store.AgentCommand{}, fmt.Errorf("%w %q", ErrAgentGone, agentID)
	}
	if err != nil {
		return store.AgentCommand{}, err
	}
	if a.RevokedAt != nil {
		return store.AgentCommand{}, fmt.Errorf("%w: agent %q is revoked", ErrAgentGone, agentID)
	}
	now := s.now()
	c := store.AgentCommand{ID: store.NewID("cmd", now), TenantID: tenant, AgentID: agentID, Spec: spec, Status: store.CommandQueued,
		CreatedAt: now, CreatedBy: by, Deadline: now.Add(s.opts.QueueTimeout)}
	if err := tx.CreateAgentCommand(ctx, c); err != nil {
		return store.AgentCommand{}, err
	}
	return c, nil
}

// Queued wakes agent's waiting long-poll: work was committed for it.
func (s *Service) Queued(agentID string) { s.hub.wakeAgent(agentID) }

// CancelCommand cancels a command in tx: a queued one ends now; a running
// one is flagged and its agent kills it. Call Queued(agent) after commit.
func (s *Service) CancelCommand(ctx context.Context, tx store.Tx, tenant, id string) (store.AgentCommand, error) {
	c, err := tx.RequestAgentCommandCancel(ctx, tenant, id, s.now())
	if err == nil && store.CommandFinal(c.Status) {
		defer s.hub.commandEnded(c.ID)
	}
	return c, err
}

// PollRequest is an agent's long-poll.
type PollRequest struct {
	// Wait is how long to hold the request open without work.
	Wait time.Duration
	// Slots is how many more commands the agent will run now.
	Slots int
	// First is set on the agent process's first poll: commands the store
	// holds as running on it were lost with the previous process.
	First bool
	// Instance identifies the agent process (random, per start). A poll
	// of an older instance still waiting on this replica — its process
	// died before the server noticed the connection close — is answered
	// empty instead of taking work the new process would never see.
	Instance string
}

// Poll returns work for agent a: queued commands (at most Slots, now
// running) and cancellations, waiting up to Wait for some to arrive. It
// returns an empty Poll when the wait ends, the server stops or ctx ends.
func (s *Service) Poll(ctx context.Context, a Agent, req PollRequest) (wire.Poll, error) {
	if req.Wait > s.opts.MaxWait {
		req.Wait = s.opts.MaxWait
	}
	if req.First {
		err := s.st.InTx(ctx, func(tx store.Tx) error {
			n, err := tx.FailAgentCommands(ctx, a.ID, nil, s.now())
			if n > 0 {
				s.log.Warn("agent restarted; its running commands are lost", "agent", a.ID, "commands", n)
			}
			return err
		})
		if err != nil {
			return wire.Poll{}, err
		}
	}
	if !s.hub.current(a.ID, req.Instance, req.First) {
		return wire.Poll{}, nil
	}
	wakeup, unwatch := s.hub.watchAgent(a.ID)
	defer unwatch()
	s.m.polls.Inc()
	defer s.m.polls.Dec()
	deadline := time.NewTimer(req.Wait)
	defer deadline.Stop()
	for {
		// A superseded instance, or a client that went away, takes no work.
		if ctx.Err() != nil || !s.hub.current(a.ID, req.Instance, false) {
			return wire.Poll{}, nil
		}
		p, err := s.pollOnce(ctx, a, req.Slots)
		if err != nil || len(p.Commands) > 0 || len(p.Cancel) > 0 {
			return p, err
		}
		recheck := time.NewTimer(s.opts.Recheck)
		select {
		case <-wakeup:
			// Work, or a revocation: check the credential still holds.
			if c, err := s.st.AgentCredential(ctx, a.ID); err != nil || c.RevokedAt != nil {
				recheck.Stop()
				return wire.Poll{}, fmt.Errorf("%w: agent credential revoked", ErrUnauthenticated)
			}
		case <-recheck.C:
		case <-deadline.C:
			recheck.Stop()
			return wire.Poll{}, nil
		case <-s.hub.done():
			recheck.Stop()
			return wire.Poll{}, nil
		case <-ctx.Done():
			recheck.Stop()
			return wire.Poll{}, nil
		}
		recheck.Stop()
	}
}

// Polling reports whether agent's process instance (any, when instance is
// "") has polled this replica and a poll of the agent is waiting: work
// queued now goes to that process.
func (s *Service) Polling(agentID, instance string) bool { return s.hub.polling(agentID, instance) }

// pollOnce looks for work with one read, and writes only when there is some.
func (s *Service) pollOnce(ctx context.Context, a Agent, slots int) (wire.Poll, error) {
	queued, cancels, err := s.st.PendingAgentCommands(ctx, a.ID)
	if err != nil {
		return wire.Poll{}, err
	}
	var p wire.Poll
	if cancels {
		ids, err := s.st.CancelRequestedCommands(ctx, a.ID)
		if err != nil {
			return p, err
		}
		p.Cancel = s.hub.undelivered(a.ID, ids)
	}
	if queued && slots > 0 {
		var cmds []store.AgentCommand
		err := s.st.InTx(ctx, func(tx store.Tx) (err error) {
			cmds, err = tx.ClaimAgentCommands(ctx, a.ID, slots, s.now(), s.opts.CommandGrace)
			return err
		})
		if err != nil {
			return p, err
		}
		for _, c := range cmds {
			p.Commands = append(p.Commands, wire.Command{ID: c.ID, Spec: c.Spec})
		}
		s.m.dispatched.Add(float64(len(cmds)))
	}
	return p, nil
}

// Output appends a chunk of a running command's output.
func (s *Service) Output(ctx context.Context, a Agent, id string, o wire.Output) error {
	if len(o.Data) > maxChunk || o.Offset < 0 {
		return invalidf("output chunk larger than %d bytes or negative offset", maxChunk)
	}
	return s.st.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAgentCommandOutput(ctx, a.ID, id, o.Offset, o.Data, s.opts.OutputLimit)
	})
}

// Finish records a running command's result and audits it.
func (s *Service) Finish(ctx context.Context, a Agent, id string, r wire.Result) error {
	switch r.Status {
	case store.CommandSucceeded, store.CommandFailed, store.CommandTimedOut, store.CommandCancelled:
	default:
		return invalidf("status %q is not succeeded, failed, timed-out or cancelled", r.Status)
	}
	if len(r.Error) > 4096 {
		r.Error = r.Error[:4096]
	}
	now := s.now()
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.FinishAgentCommand(ctx, a.ID, id, store.AgentCommandResult{Status: r.Status, ExitCode: r.ExitCode, Error: r.Error, At: now, OutputBytes: r.OutputBytes}); err != nil {
			return err
		}
		detail := map[string]any{"status": r.Status, "output_bytes": r.OutputBytes}
		if r.ExitCode != nil {
			detail["exit_code"] = *r.ExitCode
		}
		_, err := audit.Append(ctx, tx, a.TenantID, now, audit.Entry{Actor: a.Actor(), Action: "agent.command.finish",
			Target: "command/" + id, Result: resultWord(r), Detail: detail})
		return err
	})
	if err == nil {
		s.hub.commandEnded(id)
		s.m.results.WithLabelValues(r.Status).Inc()
	}
	return err
}

func resultWord(r wire.Result) string {
	if r.Status == store.CommandSucceeded {
		return "ok"
	}
	return "failed: " + r.Status
}

// WaitCommand waits until command id of tenant has ended and returns it.
// It wakes at once for results reported to this replica and rechecks the
// store for results reported elsewhere.
func (s *Service) WaitCommand(ctx context.Context, tenant, id string) (store.AgentCommand, error) {
	ended, unwatch := s.hub.watchCommand(id)
	defer unwatch()
	for {
		c, err := s.st.GetAgentCommand(ctx, tenant, id)
		if err != nil || store.CommandFinal(c.Status) {
			return c, err
		}
		t := time.NewTimer(s.opts.Recheck)
		select {
		case <-ended:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return c, ctx.Err()
		}
		t.Stop()
	}
}
