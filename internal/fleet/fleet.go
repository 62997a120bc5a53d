// Package fleet is the server side of Flywheel's host agents: one-time
// enrollment tokens traded for per-agent credentials, heartbeats (batched
// into the store), the per-agent command queue that agents long-poll,
// inventory reports kept as host Resources, and the drift check that turns
// missing heartbeats into "agent not reporting" events and outdated agents
// into self-updates.
//
// The HTTP endpoints live in internal/api (fleet.go); the agent process in
// internal/agent; the messages between them in fleet/wire. Service holds no
// state that matters across restarts beyond a few seconds of unflushed
// heartbeats: everything else is in the store, so agents may talk to any
// replica.
package fleet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// EventSink receives the events the fleet raises ("agent not reporting",
// firing and resolved) in the agent's tenant; the app feeds them through the
// event pipeline so deduplication, correlation and OpsItems apply.
type EventSink interface {
	Submit(ctx context.Context, tenant string, ev event.Event) error
}

// Options configure a Service. Zero values take the defaults noted.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	Clock  func() time.Time
	// Sink receives the heartbeat check's events; nil drops them.
	Sink EventSink
	// Misses is how many heartbeat intervals may pass without one before an
	// agent counts as not reporting.
	Misses int // default 3
	// FlushEvery is how often buffered heartbeats are written, in one
	// transaction for all agents.
	FlushEvery time.Duration // default 2s
	// MaxWait caps a long-poll's ?wait.
	MaxWait time.Duration // default 60s
	// Recheck is how often a waiting long-poll looks in the store for work
	// queued on another replica (work queued on this one wakes it at once).
	Recheck time.Duration // default 5s
	// OutputLimit is how many bytes of a command's output are kept.
	OutputLimit int // default 256 KiB
	// CommandGrace is added to a command's timeout before the server
	// gives up on hearing its result.
	CommandGrace time.Duration // default 30s
	// QueueTimeout is how long a command may wait for its agent to take it.
	QueueTimeout time.Duration // default 1h
	// EnrollTTL is an enrollment token's default lifetime; MaxEnrollTTL
	// the longest allowed.
	EnrollTTL    time.Duration // default 24h
	MaxEnrollTTL time.Duration // default 30 days
	// DesiredVersion is the agent version the fleet should run; agents
	// reporting another are flagged outdated (and updated when Binaries
	// has a build for them). "" disables version drift.
	DesiredVersion string
	// Registerer receives the fleet's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Binaries is a directory of agent builds named flywheel-<os>-<arch>,
	// each optionally with a flywheel-<os>-<arch>.sha256 beside it; ""
	// disables self-update.
	Binaries string
	// UpdateKey signs the builds offered to agents, whose public half
	// agents pin at enrollment; nil: agents are offered no build.
	UpdateKey ed25519.PrivateKey
	// Interval is the heartbeat interval the server gives agents that were
	// not started with one of their own (0: agents keep theirs).
	Interval time.Duration
	// RequiredServices are the systemd units that must run on hosts whose
	// agent has no required-services tag.
	RequiredServices []string
	// CACert is the PEM of the CA the server's certificate chains to, put
	// in enrollment bundles for agents to pin (nil: none).
	CACert []byte
	// Unmanaged configures the detection of hosts without an agent.
	Unmanaged UnmanagedOptions
}

// WithDefaults returns o with every unset field given its default.
func (o Options) WithDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Misses == 0 {
		o.Misses = 3
	}
	if o.FlushEvery == 0 {
		o.FlushEvery = 2 * time.Second
	}
	if o.MaxWait == 0 {
		o.MaxWait = 60 * time.Second
	}
	if o.Recheck == 0 {
		o.Recheck = 5 * time.Second
	}
	if o.OutputLimit == 0 {
		o.OutputLimit = 256 << 10
	}
	if o.CommandGrace == 0 {
		o.CommandGrace = 30 * time.Second
	}
	if o.QueueTimeout == 0 {
		o.QueueTimeout = time.Hour
	}
	if o.EnrollTTL == 0 {
		o.EnrollTTL = 24 * time.Hour
	}
	if o.MaxEnrollTTL == 0 {
		o.MaxEnrollTTL = 30 * 24 * time.Hour
	}
	if o.Unmanaged.ExcludeTag == "" {
		o.Unmanaged.ExcludeTag = "flywheel-no-agent"
	}
	if o.Unmanaged.Every == 0 {
		o.Unmanaged.Every = time.Minute
	}
	if o.Unmanaged.MaxRaises <= 0 {
		o.Unmanaged.MaxRaises = 100
	}
	if o.Unmanaged.Lookback == 0 {
		o.Unmanaged.Lookback = 24 * time.Hour
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if o.Misses < 1 || o.Misses > 100 {
		errs = append(errs, fmt.Errorf("misses: %d is out of range 1..100", o.Misses))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"flush interval", o.FlushEvery}, {"max wait", o.MaxWait}, {"recheck", o.Recheck},
		{"command grace", o.CommandGrace}, {"queue timeout", o.QueueTimeout},
		{"enrollment token lifetime", o.EnrollTTL}, {"max enrollment token lifetime", o.MaxEnrollTTL},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %s is negative", d.name, d.v))
		}
	}
	if o.Interval != 0 && (o.Interval < MinInterval || o.Interval > MaxInterval) {
		errs = append(errs, fmt.Errorf("heartbeat interval: %s must be from %s to %s", o.Interval, MinInterval, MaxInterval))
	}
	if o.OutputLimit < 1024 {
		errs = append(errs, fmt.Errorf("output limit: %d bytes is too small (minimum 1024)", o.OutputLimit))
	}
	return errors.Join(errs...)
}

// Service is the fleet's server side.
type Service struct {
	st   store.Store
	opts Options
	log  *slog.Logger

	hub  *hub
	beat *beats
	ids  *enrolledIDs
	bins *binaries
	m    *metrics

	// umu guards the unmanaged-host look's state: the events read up to
	// (unmanagedSince) and when it last ran.
	umu            sync.Mutex
	unmanagedSince time.Time
	unmanagedAt    time.Time

	startOnce sync.Once
	stopOnce  sync.Once
	running   atomic.Bool
	stop      chan struct{}
	done      chan struct{}
}

// New returns a Service; call Start to begin flushing heartbeats.
func New(o Options) (*Service, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	s := &Service{st: o.Store, opts: o, log: o.Logger, hub: newHub(), beat: newBeats(), ids: newEnrolledIDs(),
		bins: &binaries{dir: o.Binaries}, m: newMetrics(o.Registerer), stop: make(chan struct{}), done: make(chan struct{})}
	return s, nil
}

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

func (s *Service) now() time.Time { return s.opts.Clock().UTC().Truncate(time.Microsecond) }

// Start runs the heartbeat flusher until Stop.
func (s *Service) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		s.running.Store(true)
		go s.flushLoop(context.WithoutCancel(ctx))
	})
}

// Stop ends waiting long-polls, flushes buffered heartbeats and stops the
// flusher. It is safe to call more than once, and without Start.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.Release()
		s.startOnce.Do(func() {}) // a Start after Stop does nothing
		close(s.stop)
		if s.running.Load() {
			select {
			case <-s.done:
			case <-ctx.Done():
				err = ctx.Err()
				return
			}
		}
		err = s.Flush(context.WithoutCancel(ctx))
	})
	return err
}

// Release answers every waiting long-poll now (the server is shutting down:
// agents reconnect, to this server when it is back or to another replica).
func (s *Service) Release() { s.hub.release() }

func (s *Service) flushLoop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Error("flush agent heartbeats", "error", err)
			}
		}
	}
}
