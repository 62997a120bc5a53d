// Package app assembles a whole Flywheel server — store, job queue, API, UI —
// from a config.Config, and runs it with one lifecycle: New, Start, Stop.
// cmd/flywheel handles signals and calls Run; tests embed the App directly
// and start a complete server in-process on a loopback port.
package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/flywheel-ops/flywheel/internal/application"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/intake/registry"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/retention"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
	"github.com/flywheel-ops/flywheel/internal/web"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// Options configure New.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// Out receives the one-time admin token notice on first start.
	Out io.Writer
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Fleet tunes the host-agent fleet: heartbeat misses, the drift
	// check, agent builds for self-update.
	Fleet FleetOptions
	// BodyTimeout is how long a request's body may take to arrive
	// (default 1m; tests shorten it).
	BodyTimeout time.Duration
}

// App is a running (or ready to run) Flywheel server.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	now      func() time.Time
	st       store.Store
	registry *prometheus.Registry
	api      *api.Server
	handler  http.Handler
	srv      *http.Server
	ln       net.Listener
	tls      *tls.Config // nil: plain HTTP
	caPEM    []byte      // the CA agents pin (tls auto)
	serveErr chan error

	live atomic.Pointer[loaded] // the content in force (reload.go)
	// complianceLib is the config rules and packs in force (a reload
	// swaps it).
	complianceLib atomic.Pointer[compliance.Library]
	reloadMu      sync.Mutex // one content reload at a time
	intakeReg     atomic.Pointer[registry.Registry]
	actions       runbook.ActionLookup // the I/O actions runbooks are compiled against
	watch         contentWatch
	engine        *pipeline.Engine
	processor     *pipeline.Processor
	committer     *pipeline.Committer
	intake        intakeService
	jobs          *jobs.Queue
	fleet         *fleet.Service
	exec          *execution.Executor
	runbooks      hostRunbooks // exec, resolving OpsItems' host references
	rules         *rule.Engine
	notify        appNotifications
	bodyTimeout   time.Duration
	outbound      *outbound.Guard  // outbound_allow: what webhooks and http steps may reach
	checks        []doctor.Checker // the setup check's, gathered while building
	doctor        *doctor.Doctor
	windows       *windowrun.Runner
	patch         *patch.Service
	backup        *backup.Service
	backupPlans   *backup.Catalog
	compliance    *compliance.Service
	// awsFactory makes every AWS configuration (aws.go).
	awsFactory   *provider.Factory
	awsInventory *provider.Inventory
	costs        *cost.Runner
	forecasts    *forecast.Engine

	stopOnce sync.Once
	stopErr  error
}

// New opens the store (migrating it), bootstraps the default tenant and
// admin token, and builds the HTTP handler. It does not listen yet.
func New(ctx context.Context, o Options) (*App, error) {
	cfg := o.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	guard, err := outbound.New(cfg.OutboundAllow)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.DB, sqlite.Options{IntakeSync: cfg.IntakeSync})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: o.Logger, now: o.Clock, st: st, registry: prometheus.NewRegistry(), outbound: guard,
		bodyTimeout: o.BodyTimeout}
	if err := a.loadContent(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.bootstrap(ctx, o.Out); err != nil {
		st.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := a.syncTenants(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("tenants from content: %w", err)
	}
	if err := a.syncWindows(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("maintenance windows from content: %w", err)
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := a.buildPipeline(); err != nil {
		st.Close()
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	a.jobs, err = jobs.New(ctx, st, jobs.Options{Logger: o.Logger, Clock: o.Clock, AuditCheckpointEvery: cfg.AuditCheckpointEvery,
		RetentionEvery: cfg.Retention.Every})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	if err := a.buildFleet(o.Fleet); err != nil {
		st.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if err := a.buildPatch(cfg.MaintenanceTick); err != nil {
		st.Close()
		return nil, fmt.Errorf("patch: %w", err)
	}
	a.buildAWS()
	if err := a.buildBackup(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := a.buildRunbooks(); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.buildAutomation(); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.buildCompliance(); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.buildWindows(cfg.MaintenanceTick); err != nil {
		st.Close()
		return nil, fmt.Errorf("maintenance windows: %w", err)
	}
	if err := retention.New(st, cfg.Retention, o.Logger.With("component", "retention")).Register(a.jobs); err != nil {
		st.Close()
		return nil, fmt.Errorf("retention: %w", err)
	}
	if err := a.buildCost(cfg.MaintenanceTick); err != nil {
		st.Close()
		return nil, fmt.Errorf("resource schedules: %w", err)
	}
	a.doctor = doctor.New(a.checks...)
	apps, err := application.Compile(a.currentContent().Items(application.KindName))
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("applications: %w", err)
	}
	a.api = api.New(api.Options{Doctor: a.doctor, Applications: apps,
		Store: st, Logger: o.Logger, Clock: o.Clock, Registerer: a.registry, Gatherer: a.registry,
		BodyLimit: cfg.BodyLimit, Intake: a.intake, Fleet: a.fleet, Runbooks: a.runbooks, Rules: a.rules.Current(), Breakers: a.rules,
		ContentDir: cfg.ContentDir, Windows: a.windows, Patch: a.patch, Backup: a.backup, AWS: a.awsInventory, Cost: a.costs, Forecasts: a.forecasts, Content: a, PackContent: a,
		Channels: notification.Types(a.notify.channels),
	})
	ui, err := web.New(web.Options{Doctor: a.doctor, Store: st, Logger: o.Logger, Clock: o.Clock, Runbooks: a.runbooks, Breakers: a.rules, ContentDir: cfg.ContentDir,
		DesiredVersion: a.fleet.Options().DesiredVersion, Secure: cfg.TLSMode() != config.TLSOff, Patch: a.patch, Backup: a.backup, Costs: a.costs, Forecasts: a.forecasts,
		Rules: a.rules, Channels: notification.Types(a.notify.channels), TokenRevoked: a.api.TokensChanged})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("web ui: %w", err)
	}
	a.handler = a.routes(ui)
	return a, nil
}

// routes splits API paths from UI paths, by prefix: each side's own mux
// routes (and cleans) the path, so a request is matched against routes
// once, not twice. Under TLS every response carries HSTS.
func (a *App) routes(ui http.Handler) http.Handler {
	tls := a.cfg.TLSMode() != config.TLSOff
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tls {
			// Browsers that reached the server over HTTPS once refuse
			// plain HTTP to it for a year (no includeSubDomains: other
			// services may share the domain).
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/api/"), p == "/api", p == "/healthz", p == "/readyz", p == "/metrics":
			a.api.ServeHTTP(w, r)
		default:
			ui.ServeHTTP(w, r)
		}
	})
}

// Store returns the app's store.
func (a *App) Store() store.Store { return a.st }

// Handler returns the root HTTP handler (API and UI).
func (a *App) Handler() http.Handler { return a.handler }

// Config returns the effective configuration.
func (a *App) Config() config.Config { return a.cfg }

// Start listens on the configured address and serves in the background.
func (a *App) Start(ctx context.Context) error {
	ln, err := a.listen()
	if err != nil {
		return err
	}
	a.ln = ln
	a.srv = &http.Server{
		Handler:           withDeadlines(a.handler, cmp.Or(a.bodyTimeout, defaultBodyTimeout)),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if err := a.jobs.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("start jobs: %w", err)
	}
	a.processor.Start(ctx)
	a.committer.Start(ctx)
	a.fleet.Start(ctx)
	a.watch.start(ctx, a)
	a.serveErr = make(chan error, 1)
	go func() { a.serveErr <- a.srv.Serve(ln) }()
	a.log.Info("flywheel serving", "addr", a.URL(), "store", a.st.Driver(), "data", a.cfg.DataDir, "job_client", a.jobs.ClientID())
	return nil
}

// Addr returns the address the server listens on (useful with port 0).
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Stop shuts down gracefully: in-flight requests and jobs get until ctx's
// deadline (or the configured shutdown timeout), then are cut. Safe to call
// more than once.
func (a *App) Stop(ctx context.Context) error {
	a.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, a.cfg.ShutdownTimeout)
		defer cancel()
		var errs []error
		a.watch.stop()
		if a.srv != nil {
			// Long-polling agents are answered now, not at the timeout.
			a.fleet.Release()
			if err := a.srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
				a.srv.Close()
			}
			// Deliveries already accepted are committed; the processor
			// finishes what it holds and leaves the rest for the next start.
			if err := a.committer.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("intake stop: %w", err))
			}
			if err := a.processor.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("pipeline stop: %w", err))
			}
			if err := a.jobs.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("jobs stop: %w", err))
			}
			if err := a.fleet.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("fleet stop: %w", err))
			}
		}
		errs = append(errs, a.st.Close())
		a.stopErr = errors.Join(errs...)
	})
	return a.stopErr
}

// Run starts the app and blocks until ctx is cancelled, then stops it.
func Run(ctx context.Context, o Options) error {
	a, err := New(ctx, o)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		a.Stop(context.Background())
		return err
	}
	stopHangup := a.reloadOnHangup(ctx) // SIGHUP reloads the content
	select {
	case <-ctx.Done():
		stopHangup()
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	case err := <-a.serveErr:
		stopHangup()
		a.Stop(context.Background())
		return fmt.Errorf("http server: %w", err)
	}
	return a.Stop(context.WithoutCancel(ctx))
}
