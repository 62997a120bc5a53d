// Package agent is the Flywheel host agent (`flywheel agent run`): it
// enrolls once with a one-time token, keeps its credential 0600 in its state
// directory, heartbeats, long-polls the server for commands and runs them in
// their own process groups with timeouts, output caps and streaming, reports
// the host's inventory, and replaces itself when the server offers a newer
// build. Every connection is agent-initiated HTTP(S), so hosts need no
// inbound port. The server side is internal/fleet; the messages are in
// fleet/wire.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch/apt"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// Config configures an Agent. Zero values take the defaults noted.
type Config struct {
	// Server is the Flywheel server's URL. Required to enroll; afterwards
	// it must match the server in the state (or be empty).
	Server string
	// EnrollToken is the one-time token to enroll with when the state
	// directory holds no credential.
	EnrollToken string
	// StateDir holds the credential and update state.
	StateDir string // default /var/lib/flywheel-agent
	// Tags are sent at enrollment.
	Tags map[string]string
	// Hostname overrides os.Hostname (tests run several agents on one host).
	Hostname string
	// Interval is the heartbeat period; the server counts missed ones.
	// Unset, the agent starts at 10s and adopts the interval the server's
	// heartbeat answers give (agent_heartbeat).
	Interval time.Duration // default 10s
	// PollWait is how long each long-poll waits for work.
	PollWait time.Duration // default 30s
	// MaxConcurrency bounds how many commands run at once.
	MaxConcurrency int // default 4
	// OutputCap is how many bytes of a command's output are sent.
	OutputCap int // default 1 MiB
	// KillGrace is the time between SIGTERM and SIGKILL for a process group.
	KillGrace time.Duration // default 5s
	// InventoryInterval is how often inventory is collected; only changes
	// are sent. Negative disables inventory.
	InventoryInterval time.Duration // default 10m
	// Collect gathers the inventory sections; default CollectInventory
	// (its security sections read under SecurityRoot).
	Collect func(ctx context.Context) map[string]any
	// SecurityRoot is the root the default Collect reads the security
	// sections (sshd_config, sysctl, file modes, users) under; default /.
	SecurityRoot string
	// Apt configures the patch backend (scan and install on Debian and
	// Ubuntu): its root and options; the zero value uses the system's.
	Apt apt.Options
	// SelfUpdate lets the agent install builds the server offers.
	SelfUpdate bool
	// Restart replaces the running process after a self-update; default
	// re-executes the (new) binary in place.
	Restart func() error
	// Executable is the binary a self-update replaces; default the running
	// one (os.Executable).
	Executable string
	// Version overrides version.Version (tests).
	Version string
	// MinBackoff and MaxBackoff bound reconnection delays.
	MinBackoff time.Duration // default 200ms
	MaxBackoff time.Duration // default 30s
	// HTTPClient is used for every request (TLS settings, proxies).
	HTTPClient *http.Client
	// CACert holds PEM certificates (a private CA, or the server's own
	// self-signed certificate) that https connections must chain to,
	// instead of the system's roots. Given at enrollment it is kept in the
	// state and used on every later start: the agent stays pinned to the
	// server it enrolled with. Ignored when HTTPClient is set.
	CACert []byte
	// Insecure allows plain http:// to a server that is not on loopback,
	// where the agent's credential and commands cross the network in
	// clear (--insecure).
	Insecure bool
	Logger   *slog.Logger
}

// DefaultStateDir is where a packaged agent keeps its state.
const DefaultStateDir = "/var/lib/flywheel-agent"

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.PollWait == 0 {
		c.PollWait = 30 * time.Second
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = 4
	}
	if c.OutputCap == 0 {
		c.OutputCap = 1 << 20
	}
	if c.KillGrace == 0 {
		c.KillGrace = 5 * time.Second
	}
	if c.InventoryInterval == 0 {
		c.InventoryInterval = 10 * time.Minute
	}
	if c.Collect == nil {
		root := c.SecurityRoot
		c.Collect = func(ctx context.Context) map[string]any { return collectInventory(ctx, root) }
	}
	if c.Version == "" {
		c.Version = version.Version
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Executable == "" {
		c.Executable = runningBinary()
	}
	if c.Restart == nil {
		exe := c.Executable
		c.Restart = func() error { return reexec(exe) }
	}
	c.Server = strings.TrimRight(c.Server, "/")
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Server != "" {
		u, err := url.Parse(c.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("server %q must be an http:// or https:// URL", c.Server))
		}
	}
	if err := checkPlainHTTP(c.Server, c.Insecure); err != nil {
		errs = append(errs, err)
	}
	if c.Interval < 100*time.Millisecond || c.Interval > time.Hour {
		errs = append(errs, fmt.Errorf("heartbeat interval %s must be from 100ms to 1h", c.Interval))
	}
	if c.PollWait < 0 || c.PollWait > time.Minute {
		errs = append(errs, fmt.Errorf("poll wait %s must be from 0 to 1m", c.PollWait))
	}
	if c.MaxConcurrency < 1 || c.MaxConcurrency > 1000 {
		errs = append(errs, fmt.Errorf("max concurrency %d must be from 1 to 1000", c.MaxConcurrency))
	}
	if c.OutputCap < 1024 {
		errs = append(errs, fmt.Errorf("output cap %d must be at least 1024 bytes", c.OutputCap))
	}
	if c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff {
		errs = append(errs, fmt.Errorf("backoff %s..%s is not a range", c.MinBackoff, c.MaxBackoff))
	}
	return errors.Join(errs...)
}

// Agent is a running host agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	st      State
	c       *client
	started time.Time
	host    wire.Host
	// instance identifies this process to the server's long-poll.
	instance string
	// interval is the current heartbeat period; followServer says whether
	// the server's answers may change it (no Interval was configured).
	interval     atomic.Int64
	followServer bool

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	// outcome is the last self-update outcome, sent with heartbeats;
	// updating is set while one is being installed.
	outcome  string
	updating bool
	// restart is closed when a self-update wants the process replaced.
	restart chan struct{}
	// freed is signalled when a command ends and frees a slot.
	freed chan struct{}
	wg    sync.WaitGroup
}

// New prepares an agent: it loads the state, or enrolls with the server
// when there is none. Enrollment is retried with backoff on network errors
// until ctx ends; a rejected token is final.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	customClient := cfg.HTTPClient != nil
	followServer := cfg.Interval == 0
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	st, stErr := LoadState(cfg.StateDir)
	if len(cfg.CACert) == 0 && stErr == nil {
		cfg.CACert = []byte(st.CACert)
	}
	if len(cfg.CACert) > 0 && !customClient {
		c, err := pinnedClient(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		cfg.HTTPClient = c
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, started: time.Now().UTC(), instance: newInstance(), running: map[string]context.CancelCauseFunc{}, restart: make(chan struct{}),
		freed: make(chan struct{}, 1), followServer: followServer}
	a.interval.Store(int64(cfg.Interval))
	hostname := cfg.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	a.host = wire.Host{Hostname: hostname, Version: cfg.Version, OS: runtime.GOOS, Arch: runtime.GOARCH}
	var err error
	switch {
	case stErr == nil:
		if cfg.Server != "" && cfg.Server != st.Server {
			return nil, fmt.Errorf("agent: enrolled with %s, not %s; to move it, remove %s/%s and enroll again", st.Server, cfg.Server, cfg.StateDir, StateFile)
		}
		if err := checkPlainHTTP(st.Server, cfg.Insecure); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		a.st = st
		if string(cfg.CACert) != st.CACert {
			// A new --ca-file replaces the pin (the state is root's alone).
			a.st.CACert = string(cfg.CACert)
			if err := SaveState(cfg.StateDir, a.st); err != nil {
				return nil, fmt.Errorf("agent: %w", err)
			}
		}
	case errors.Is(stErr, os.ErrNotExist):
		if cfg.Server == "" || cfg.EnrollToken == "" {
			return nil, fmt.Errorf("agent: not enrolled yet (no %s in %s): give --server and --enroll-token", StateFile, cfg.StateDir)
		}
		if a.st, err = a.enroll(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("agent: %w", stErr)
	}
	a.c = &client{base: a.st.Server, http: cfg.HTTPClient, auth: wire.AuthScheme + " " + a.st.AgentID + ":" + a.st.Secret}
	a.finishUpdate()
	return a, nil
}

// Interval is the current heartbeat period.
func (a *Agent) Interval() time.Duration { return time.Duration(a.interval.Load()) }

// Instance identifies this agent process to the server (random, per start).
func (a *Agent) Instance() string { return a.instance }

// ID returns the agent's ID.
func (a *Agent) ID() string { return a.st.AgentID }

// State returns the agent's state (its credential included).
func (a *Agent) State() State { return a.st }

func (a *Agent) enroll(ctx context.Context) (State, error) {
	c := &client{base: a.cfg.Server, http: a.cfg.HTTPClient}
	req := wire.EnrollRequest{Token: a.cfg.EnrollToken, Host: a.host, Tags: a.cfg.Tags}
	b := backoff{min: a.cfg.MinBackoff, max: a.cfg.MaxBackoff}
	for {
		var resp wire.EnrollResponse
		err := c.do(ctx, "POST", wire.PathEnroll, req, &resp)
		if err == nil {
			st := State{Server: a.cfg.Server, AgentID: resp.AgentID, Secret: resp.Secret, TenantID: resp.TenantID,
				ResourceID: resp.ResourceID, EnrolledAt: time.Now().UTC(), CACert: string(a.cfg.CACert), UpdateKey: resp.UpdateKey}
			if err := SaveState(a.cfg.StateDir, st); err != nil {
				return st, fmt.Errorf("agent: enrolled as %s but could not save the credential: %w", resp.AgentID, err)
			}
			a.log.Info("enrolled", "agent", resp.AgentID, "tenant", resp.TenantID, "server", a.cfg.Server)
			return st, nil
		}
		if errors.Is(err, ErrRejected) || statusOf(err) == http.StatusBadRequest {
			return State{}, fmt.Errorf("agent: enrollment refused: %w", err)
		}
		if untrusted(err) {
			return State{}, fmt.Errorf("agent: the server's certificate is not trusted (give its CA with --ca-file): %w", err)
		}
		d := b.next()
		a.log.Warn("enrollment failed; retrying", "error", err, "in", d)
		if !sleep(ctx, d) {
			return State{}, ctx.Err()
		}
	}
}

// Run runs the agent until ctx ends, its credential is rejected
// (ErrRejected), or a self-update replaces it (ErrRestart is returned after
// Restart failed; on success Restart does not return).
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	a.log.Info("agent running", "agent", a.st.AgentID, "server", a.st.Server, "version", a.cfg.Version, "interval", a.Interval())
	var loops sync.WaitGroup
	fail := func(err error) {
		if errors.Is(err, ErrRejected) {
			cancel(err)
		}
	}
	loops.Add(2)
	go func() { defer loops.Done(); fail(a.heartbeatLoop(ctx)) }()
	go func() { defer loops.Done(); fail(a.pollLoop(ctx)) }()
	if a.cfg.InventoryInterval > 0 {
		loops.Add(1)
		go func() { defer loops.Done(); fail(a.inventoryLoop(ctx)) }()
	}
	var err error
	select {
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-a.restart:
		err = ErrRestart
	}
	cancel(err)
	loops.Wait()
	a.stopCommands()
	if errors.Is(err, ErrRejected) {
		a.log.Error("credential rejected; stopping", "error", err)
		return err
	}
	if errors.Is(err, ErrRestart) {
		a.log.Info("restarting into the new version")
		if rerr := a.cfg.Restart(); rerr != nil {
			return fmt.Errorf("%w: %v", ErrRestart, rerr)
		}
		return ErrRestart
	}
	return nil
}

// heartbeatLoop sends a heartbeat every interval (jittered ±10%).
func (a *Agent) heartbeatLoop(ctx context.Context) error {
	failures := 0
	for {
		err := a.heartbeat(ctx)
		switch {
		case errors.Is(err, ErrRejected):
			return err
		case err != nil && ctx.Err() == nil:
			failures++
			if failures == 1 || failures%30 == 0 {
				a.log.Warn("heartbeat failed", "error", err, "failures", failures)
			}
		case err == nil && failures > 0:
			a.log.Info("heartbeat delivered again", "after_failures", failures)
			failures = 0
		}
		if !sleep(ctx, jitter(a.Interval())) {
			return nil
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(a.Interval(), 5*time.Second))
	defer cancel()
	a.mu.Lock()
	outcome := a.outcome
	a.mu.Unlock()
	var resp wire.HeartbeatResponse
	err := a.c.do(ctx, "POST", wire.PathHeartbeat, wire.Heartbeat{Host: a.host, StartedAt: a.started, Interval: a.Interval(), Update: outcome}, &resp)
	if err != nil {
		return err
	}
	if a.followServer && resp.Interval >= 100*time.Millisecond && resp.Interval <= time.Hour && resp.Interval != a.Interval() {
		a.log.Info("heartbeat interval set by the server", "interval", resp.Interval)
		a.interval.Store(int64(resp.Interval))
	}
	if resp.Update != nil && a.cfg.SelfUpdate {
		a.maybeUpdate(ctx, *resp.Update)
	}
	return nil
}

// pollLoop long-polls for work, reconnecting with jittered exponential
// backoff when the server is unreachable.
func (a *Agent) pollLoop(ctx context.Context) error {
	b := backoff{min: a.cfg.MinBackoff, max: a.cfg.MaxBackoff}
	first := true
	client := *a.c
	client.http = &http.Client{Transport: a.cfg.HTTPClient.Transport, Timeout: a.cfg.PollWait + 30*time.Second}
	for ctx.Err() == nil {
		slots := a.cfg.MaxConcurrency - a.runningCount()
		q := url.Values{"wait": {a.cfg.PollWait.String()}, "slots": {fmt.Sprint(slots)}, "instance": {a.instance}}
		if first {
			q.Set("first", "1")
		}
		// With every slot busy the poll still waits for cancellations, but
		// ends as soon as a command finishes so the free slot is offered.
		pctx, pcancel := context.WithCancel(ctx)
		if slots <= 0 {
			go func() {
				select {
				case <-a.freed:
					pcancel()
				case <-pctx.Done():
				}
			}()
		}
		var p wire.Poll
		err := client.do(pctx, "GET", wire.PathCommands+"?"+q.Encode(), nil, &p)
		freed := pctx.Err() != nil && ctx.Err() == nil
		pcancel()
		if err != nil {
			if errors.Is(err, ErrRejected) || ctx.Err() != nil {
				return err
			}
			if freed {
				continue
			}
			d := b.next()
			a.log.Warn("poll failed; reconnecting", "error", err, "in", d)
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		b.reset()
		first = false
		for _, id := range p.Cancel {
			a.cancelCommand(id)
		}
		for _, c := range p.Commands {
			a.startCommand(ctx, c)
		}
	}
	return nil
}

func (a *Agent) runningCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.running)
}

// newInstance is a random ID for this agent process.
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkPlainHTTP refuses an http:// server that is not on loopback unless
// insecure: the agent's secret and the commands it runs would cross the
// network in clear.
func checkPlainHTTP(server string, insecure bool) error {
	u, err := url.Parse(server)
	if server == "" || err != nil || u.Scheme != "http" || insecure {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("server %s is plain http:// on another host: the agent's credential and commands would cross the network in clear; use https://, or --insecure behind a trusted network", server)
}
