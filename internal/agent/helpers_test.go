package agent_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// testServer is the API with the fleet service on a real loopback port,
// which can be stopped and started again on the same address.
type testServer struct {
	t    *testing.T
	st   store.Store
	svc  *fleet.Service
	api  *api.Server
	addr string
	url  string

	mu  sync.Mutex
	srv *http.Server
}

const tenant = "acme"

func newTestServer(t *testing.T, o fleet.Options) *testServer {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "Acme", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	o.Store = st
	if o.FlushEvery == 0 {
		o.FlushEvery = 50 * time.Millisecond
	}
	if o.Recheck == 0 {
		o.Recheck = 200 * time.Millisecond
	}
	svc, err := fleet.New(o)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start(ctx)
	t.Cleanup(func() { svc.Stop(context.Background()) })
	s := &testServer{t: t, st: st, svc: svc, api: api.New(api.Options{Store: st, Fleet: svc})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.url = "http://" + s.addr
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = &http.Server{Handler: s.api}
	go s.srv.Serve(ln)
}

// stop closes the listener and every connection, like a crashed server.
func (s *testServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// start serves again on the same address.
func (s *testServer) start() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// token issues a one-time enrollment token.
func (s *testServer) token(tags map[string]string) string {
	s.t.Helper()
	var secret string
	err := s.st.InTx(context.Background(), func(tx store.Tx) (err error) {
		_, secret, err = s.svc.CreateEnrollToken(context.Background(), tx, fleet.NewEnrollToken{TenantID: tenant, Tags: tags})
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// command queues spec on agent and returns its ID.
func (s *testServer) command(agentID string, spec store.CommandSpec) string {
	s.t.Helper()
	var c store.AgentCommand
	err := s.st.InTx(context.Background(), func(tx store.Tx) (err error) {
		c, err = s.svc.NewCommand(context.Background(), tx, tenant, agentID, spec, "test")
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.svc.Queued(agentID)
	return c.ID
}

// wait waits for command id to end.
func (s *testServer) wait(id string, within time.Duration) store.AgentCommand {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := s.svc.WaitCommand(ctx, tenant, id)
	if err != nil {
		s.t.Fatalf("command %s: %v (status %s)", id, err, c.Status)
	}
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runningAgent is an agent running in a goroutine.
type runningAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned err
	err    error
}

func (r *runningAgent) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not stop")
		return nil
	}
}

// startAgent builds and runs an agent with cfg over s.
func startAgent(t *testing.T, cfg agent.Config) *runningAgent {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.PollWait == 0 {
		cfg.PollWait = 2 * time.Second
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	if cfg.Collect == nil {
		cfg.Collect = func(context.Context) map[string]any {
			return map[string]any{"host": map[string]string{"hostname": cfg.Hostname}}
		}
	}
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &runningAgent{Agent: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = a.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
		}
	})
	return r
}

func isRejected(err error) bool { return errors.Is(err, agent.ErrRejected) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
