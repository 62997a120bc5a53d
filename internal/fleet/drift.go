package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The "agent not reporting" event: one fingerprint per agent, so the
// pipeline deduplicates repeats and a resolved event resolves its OpsItem.
const (
	EventSource          = event.FleetSource
	NotReportingTitle    = "Agent not reporting"
	notReportingFPPrefix = event.NotReportingPrefix
)

// NotReportingFingerprint is the fingerprint of agent's not-reporting event.
func NotReportingFingerprint(agentID string) string { return notReportingFPPrefix + agentID }

// NotReportingEvent is the event the check raises (firing) or clears
// (resolved) for agent a at at.
func NotReportingEvent(a store.Agent, status event.Status, at time.Time) event.Event {
	seen := "never"
	if a.LastSeenAt != nil {
		seen = a.LastSeenAt.Format(time.RFC3339)
	}
	desc := fmt.Sprintf("No heartbeat from agent %s on %s since %s (interval %s).", a.ID, a.Hostname, seen, a.Interval)
	switch {
	case status == event.StatusResolved && a.RevokedAt != nil:
		desc = fmt.Sprintf("Agent %s on %s was revoked; it is no longer expected to report.", a.ID, a.Hostname)
	case status == event.StatusResolved:
		desc = fmt.Sprintf("Agent %s on %s is reporting again.", a.ID, a.Hostname)
	}
	return event.Event{
		Source: EventSource, Kind: event.KindHealth, Severity: event.SeverityHigh, Status: status,
		Title: NotReportingTitle + ": " + a.Hostname, Description: desc,
		Resources:   []event.ResourceRef{{Type: ResourceTypeHost, ID: a.Hostname}},
		Labels:      map[string]string{"alertname": "AgentNotReporting", "agent": a.ID, "hostname": a.Hostname, "resource_id": a.ResourceID},
		OccurredAt:  at,
		Fingerprint: NotReportingFingerprint(a.ID),
	}
}

// CheckResult says what one heartbeat check did.
type CheckResult struct {
	NotReporting []string // agents newly found not reporting
	Returned     []string // agents reporting again
	Expired      int64    // commands that timed out on the server's side
	// Unmanaged is what the look for hosts without an agent found, when it ran.
	Unmanaged UnmanagedResult
}

// checkBatch bounds how many agents one check handles per direction; the
// rest wait for the next run.
const checkBatch = 500

// Check is the fleet's periodic drift check (leader only): it flushes
// buffered heartbeats, times out commands past their deadline, raises an
// "agent not reporting" event for every agent whose heartbeats stopped and
// resolves it for every agent that came back (or was revoked meanwhile). The event is submitted
// before the agent's state changes, so a failure repeats the submission on
// the next run instead of losing it (the pipeline deduplicates).
func (s *Service) Check(ctx context.Context) (CheckResult, error) {
	var res CheckResult
	if err := s.Flush(ctx); err != nil {
		return res, err
	}
	now := s.now()
	err := s.st.InTx(ctx, func(tx store.Tx) (err error) {
		res.Expired, err = tx.ExpireAgentCommands(ctx, now)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("expire commands: %w", err)
	}
	stale, err := s.st.AgentsStaleAt(ctx, now, checkBatch)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, a := range stale {
		if err := s.transition(ctx, a, false, now); err != nil {
			errs = append(errs, err)
			continue
		}
		res.NotReporting = append(res.NotReporting, a.ID)
	}
	back, err := s.st.AgentsReturnedAt(ctx, now, checkBatch)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	for _, a := range back {
		if err := s.transition(ctx, a, true, now); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Returned = append(res.Returned, a.ID)
	}
	if s.unmanagedDue(now) {
		u, err := s.CheckUnmanaged(ctx)
		res.Unmanaged = u
		if err != nil {
			errs = append(errs, fmt.Errorf("unmanaged hosts: %w", err))
		}
	}
	return res, errors.Join(errs...)
}

// unmanagedDue reports whether the unmanaged-host look should run now (at
// most every Unmanaged.Every), and if so notes that it does.
func (s *Service) unmanagedDue(now time.Time) bool {
	if s.opts.Unmanaged.Disabled {
		return false
	}
	s.umu.Lock()
	defer s.umu.Unlock()
	if !s.unmanagedAt.IsZero() && now.Sub(s.unmanagedAt) < s.opts.Unmanaged.Every {
		return false
	}
	s.unmanagedAt = now
	return true
}

func (s *Service) transition(ctx context.Context, a store.Agent, reporting bool, now time.Time) error {
	status := event.StatusFiring
	if reporting {
		status = event.StatusResolved
	}
	if s.opts.Sink != nil {
		if err := s.opts.Sink.Submit(ctx, a.TenantID, NotReportingEvent(a, status, now)); err != nil {
			return fmt.Errorf("agent %s: submit %s event: %w", a.ID, status, err)
		}
		s.m.events.WithLabelValues("agent-not-reporting", string(status)).Inc()
	}
	err := s.st.InTx(ctx, func(tx store.Tx) error { return tx.SetAgentReporting(ctx, a.TenantID, a.ID, reporting, now) })
	if err != nil {
		return fmt.Errorf("agent %s: %w", a.ID, err)
	}
	if reporting {
		s.log.Info("agent reporting again", "agent", a.ID, "hostname", a.Hostname)
	} else {
		s.log.Warn("agent not reporting", "agent", a.ID, "hostname", a.Hostname, "last_seen", a.LastSeenAt)
	}
	return nil
}

// CheckArgs is the periodic job that runs Check on the leader.
type CheckArgs struct{}

// Kind implements river.JobArgs.
func (CheckArgs) Kind() string { return "fleet_check" }

// InsertOpts implements river.JobArgsWithInsertOpts: one attempt; the next
// period retries anyway.
func (CheckArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// CheckWorker runs the drift check as a River job.
type CheckWorker struct {
	river.WorkerDefaults[CheckArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *CheckWorker) Work(ctx context.Context, _ *river.Job[CheckArgs]) error {
	_, err := w.Service.Check(ctx)
	return err
}

// PeriodicCheck is the River schedule of the check, every interval.
func PeriodicCheck(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckArgs{}, nil },
		&river.PeriodicJobOpts{ID: CheckArgs{}.Kind(), RunOnStart: true})
}
