package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// FleetOptions tune the agent fleet of a server beyond its configuration
// (tests). Zero values take the configuration's (agent_misses,
// agent_version, agent_binaries) or the defaults noted.
type FleetOptions struct {
	// Misses is how many heartbeat intervals may pass before an agent is
	// "not reporting".
	Misses int // default agent_misses
	// CheckEvery is how often the leader runs the drift check.
	CheckEvery time.Duration // default 5s
	// FlushEvery is how often buffered heartbeats are written.
	FlushEvery time.Duration // default 2s
	// DesiredVersion is the agent version the fleet should run; default
	// this server's version. "-" disables version drift.
	DesiredVersion string
	// AgentBinaries holds agent builds flywheel-<os>-<arch> (+ .sha256)
	// offered to outdated agents; default <data>/agent-binaries.
	AgentBinaries string
	// UnmanagedEvery is how often the drift check looks for hosts without
	// an agent (default 1m).
	UnmanagedEvery time.Duration
}

// AgentBinariesDir is the default directory of agent builds, in the data
// directory.
const AgentBinariesDir = "agent-binaries"

// AgentUpdateKeyFile is the default file of the key that signs agent
// builds, in the data directory.
const AgentUpdateKeyFile = "agent-update.key"

// buildFleet makes the fleet service and schedules its drift check on the
// leader; its "agent not reporting" events go through the intake pipeline.
// The server's TLS is set up first: enrollment bundles carry its CA.
func (a *App) buildFleet(o FleetOptions) error {
	if err := a.setupTLS(); err != nil {
		return err
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = 5 * time.Second
	}
	if o.Misses == 0 {
		o.Misses = a.cfg.AgentMisses
	}
	if o.DesiredVersion == "" {
		o.DesiredVersion = a.cfg.AgentVersion
	}
	if o.AgentBinaries == "" {
		o.AgentBinaries = a.cfg.AgentBinaries
	}
	switch o.DesiredVersion {
	case "":
		o.DesiredVersion = version.Version
	case "-":
		o.DesiredVersion = ""
	}
	if o.AgentBinaries == "" {
		o.AgentBinaries = filepath.Join(a.cfg.DataDir, AgentBinariesDir)
	}
	keyPath := cmp.Or(a.cfg.AgentUpdateKey, filepath.Join(a.cfg.DataDir, AgentUpdateKeyFile))
	updateKey, created, err := fleet.LoadUpdateKey(keyPath)
	if err != nil {
		return err
	}
	if created {
		a.log.Info("created the key that signs agent builds; agents pin it at enrollment (replicas must share it)", "path", keyPath)
	}
	// On SQLite this process is the only server on its database: work is
	// always queued here and wakes a waiting poll at once, so polls need
	// not look in the store while they wait. With PostgreSQL replicas they
	// do, every 5 s (the fleet's default).
	var recheck time.Duration
	if a.st.Driver() == "sqlite" {
		recheck = 30 * time.Second
	}
	svc, err := fleet.New(fleet.Options{
		Store: a.st, Logger: a.log.With("component", "fleet"), Clock: a.now, Sink: intakeSink{a.intake},
		Misses: o.Misses, FlushEvery: o.FlushEvery, DesiredVersion: o.DesiredVersion, Binaries: o.AgentBinaries,
		Recheck: recheck, Registerer: a.registry, Interval: a.cfg.AgentHeartbeat, RequiredServices: a.cfg.AgentRequiredServices,
		CACert: a.caPEM, UpdateKey: updateKey,
		Unmanaged: fleet.UnmanagedOptions{Disabled: a.cfg.UnmanagedHosts == "off", ExcludeTag: a.cfg.UnmanagedExcludeTag, Every: o.UnmanagedEvery},
	})
	if err != nil {
		return err
	}
	if err := jobs.AddWorker(a.jobs, &fleet.CheckWorker{Service: svc}); err != nil {
		return err
	}
	if err := a.jobs.AddPeriodic(fleet.PeriodicCheck(o.CheckEvery)); err != nil {
		return err
	}
	if fi, err := os.Stat(o.AgentBinaries); err == nil && fi.IsDir() {
		a.log.Info("serving agent builds for self-update", "dir", o.AgentBinaries, "version", o.DesiredVersion)
	}
	a.fleet = svc
	return nil
}

// Fleet returns the server's fleet service.
func (a *App) Fleet() *fleet.Service { return a.fleet }

// intakeSink submits the server's own events (the fleet's, compliance
// evaluation's) as generic intake deliveries, so they are stored durably,
// deduplicated and correlated like any other, and re-parsed identically if
// the server restarts before processing them. Their source is the event's
// (generic:fleet, generic:compliance).
type intakeSink struct{ in intakeService }

func (s intakeSink) Submit(ctx context.Context, tenant string, ev event.Event) error {
	al := generic.Alert{Source: ev.Source, Title: ev.Title, Severity: string(ev.Severity), Status: string(ev.Status),
		Labels: ev.Labels, Description: ev.Description, Timestamp: ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		Kind: string(ev.Kind), Fingerprint: ev.Fingerprint}
	if len(ev.Resources) > 0 {
		al.Resource, al.ResourceType = ev.Resources[0].ID, ev.Resources[0].Type
	}
	body, err := json.Marshal(al)
	if err != nil {
		return err
	}
	ad, ok := s.in.Adapter("generic")
	if !ok {
		return errors.New("no generic intake adapter")
	}
	res, err := ad.Parse(ctx, intake.Request{Body: body})
	if err != nil {
		return fmt.Errorf("%s event: %w", ev.Source, err)
	}
	return s.in.Submit(ctx, tenant, "generic", body, nil, res.Events)
}
