package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

type clock struct{ ns atomic.Int64 }

func newClock() *clock                   { c := &clock{}; c.ns.Store(t0.UnixNano()); return c }
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// sink records submitted events.
type sink struct {
	mu     sync.Mutex
	events []event.Event
	tenant []string
	fail   error
}

func (s *sink) Submit(_ context.Context, tenant string, ev event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.events = append(s.events, ev)
	s.tenant = append(s.tenant, tenant)
	return nil
}

func (s *sink) got() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.events...)
}

var drivers = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		st := sqlitetest.Open(t)
		return st
	}},
	{"postgres", func(t testing.TB) store.Store { return postgres.OpenTest(t) }},
}

// enrolled creates tenant acme and enrolls an agent on host through svc.
func enrolled(t testing.TB, st store.Store, svc *fleet.Service, host string) fleet.Agent {
	t.Helper()
	ctx := context.Background()
	var secret string
	err := st.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.GetTenant(ctx, "acme"); errors.Is(err, store.ErrNotFound) {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
				return err
			}
		}
		var err error
		_, secret, err = svc.CreateEnrollToken(ctx, tx, fleet.NewEnrollToken{TenantID: "acme"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := svc.Enroll(ctx, wire.EnrollRequest{Token: secret, Host: wire.Host{Hostname: host, Version: "v1", OS: "linux", Arch: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Authenticate(ctx, wire.AuthScheme+" "+resp.AgentID+":"+resp.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCheck drives the heartbeat check with a fixed clock: an agent that
// stops beating for its misses raises one firing event, its return one
// resolved event, and the event is retried when the sink fails.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			st := d.open(t)
			clk := newClock()
			sk := &sink{}
			svc, err := fleet.New(fleet.Options{Store: st, Clock: clk.now, Sink: sk, Misses: 3})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			a := enrolled(t, st, svc, "web-1")
			b := enrolled(t, st, svc, "web-2")
			names := map[string]string{a.ID: "web-1", b.ID: "web-2"} // as enrolled
			beat := func(ag fleet.Agent) {
				t.Helper()
				if _, err := svc.Heartbeat(ctx, ag, wire.Heartbeat{Host: wire.Host{Hostname: names[ag.ID], Version: "v1"}, StartedAt: t0, Interval: 10 * time.Second}); err != nil {
					t.Fatal(err)
				}
			}
			check := func() fleet.CheckResult {
				t.Helper()
				r, err := svc.Check(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			beat(a)
			beat(b)
			clk.advance(29 * time.Second)
			beat(b)
			if r := check(); len(r.NotReporting) != 0 {
				t.Fatalf("29s after the last heartbeat: %+v", r)
			}
			clk.advance(2 * time.Second) // a: 31s > 3 × 10s
			r := check()
			if len(r.NotReporting) != 1 || r.NotReporting[0] != a.ID {
				t.Fatalf("check = %+v", r)
			}
			evs := sk.got()
			if len(evs) != 1 || evs[0].Status != event.StatusFiring || evs[0].Fingerprint != fleet.NotReportingFingerprint(a.ID) ||
				evs[0].Kind != event.KindHealth || !strings.Contains(evs[0].Title, "web-1") || sk.tenant[0] != "acme" {
				t.Fatalf("events = %+v", evs)
			}
			// Raised once, not on every check.
			clk.advance(time.Minute)
			beat(b)
			if r := check(); len(r.NotReporting) != 0 || len(sk.got()) != 1 {
				t.Errorf("second check raised again: %+v", r)
			}
			// It returns: resolved once. A failing sink is retried next time.
			beat(a)
			sk.fail = errors.New("pipeline overloaded")
			if _, err := svc.Check(ctx); err == nil {
				t.Error("a failed submission was not reported")
			}
			sk.fail = nil
			r = check()
			if len(r.Returned) != 1 || r.Returned[0] != a.ID {
				t.Fatalf("check = %+v", r)
			}
			evs = sk.got()
			if len(evs) != 2 || evs[1].Status != event.StatusResolved || evs[1].Fingerprint != evs[0].Fingerprint {
				t.Errorf("events = %+v", evs)
			}
			if r := check(); len(r.Returned)+len(r.NotReporting) != 0 {
				t.Errorf("third check: %+v", r)
			}
			if ag, _ := st.GetAgent(ctx, "acme", a.ID); ag.NotReportingSince != nil {
				t.Errorf("agent = %+v", ag)
			}
		})
	}
}

// TestHeartbeatsAreBatched proves heartbeats cost no write until a flush,
// and a flush writes the newest per agent.
func TestHeartbeatsAreBatched(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	clk := newClock()
	svc, err := fleet.New(fleet.Options{Store: st, Clock: clk.now, DesiredVersion: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := enrolled(t, st, svc, "db-1")
	for i := range 100 {
		clk.advance(time.Second)
		resp, err := svc.Heartbeat(ctx, a, wire.Heartbeat{Host: wire.Host{Hostname: "db-1", Version: "v1", OS: "linux", Arch: "amd64"}, StartedAt: t0,
			Interval: time.Second, Update: "failed: checksum"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && (resp.DesiredVersion != "v2" || resp.Update != nil) {
			t.Errorf("response = %+v (no binaries: no update)", resp)
		}
	}
	if ag, _ := st.GetAgent(ctx, "acme", a.ID); ag.LastSeenAt != nil {
		t.Errorf("a heartbeat was written before the flush: %+v", ag)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ag, _ := st.GetAgent(ctx, "acme", a.ID)
	if ag.LastSeenAt == nil || !ag.LastSeenAt.Equal(t0.Add(100*time.Second)) || ag.Update != "failed: checksum" || !svc.Outdated(ag.Version) {
		t.Errorf("after flush: %+v", ag)
	}
	if _, err := svc.Heartbeat(ctx, a, wire.Heartbeat{Host: wire.Host{Hostname: "db-1"}, Interval: time.Millisecond}); !errors.Is(err, fleet.ErrInvalid) {
		t.Errorf("1ms interval: %v", err)
	}
}

// TestPollFindsWorkQueuedOnAnotherReplica: a command queued through one
// Service (replica) reaches a long-poll waiting on another by the recheck.
func TestPollFindsWorkQueuedOnAnotherReplica(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	one, err := fleet.New(fleet.Options{Store: st, Recheck: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	two, err := fleet.New(fleet.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := enrolled(t, st, one, "app-1")
	got := make(chan wire.Poll, 1)
	go func() {
		p, err := one.Poll(ctx, a, fleet.PollRequest{Wait: 10 * time.Second, Slots: 1})
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	time.Sleep(50 * time.Millisecond)
	err = st.InTx(ctx, func(tx store.Tx) error {
		_, err := two.NewCommand(ctx, tx, "acme", a.ID, store.CommandSpec{Argv: []string{"true"}}, "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	two.Queued(a.ID) // wakes nothing on replica one
	select {
	case p := <-got:
		if len(p.Commands) != 1 {
			t.Errorf("poll = %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the poll did not find the command")
	}
	// A poll of an agent process that died (its connection not yet seen
	// closed) ends when the new process polls, and takes no work.
	stale := make(chan wire.Poll, 1)
	go func() {
		p, _ := one.Poll(ctx, a, fleet.PollRequest{Wait: time.Minute, Slots: 1, Instance: "old", First: true})
		stale <- p
	}()
	for !one.Polling(a.ID, "old") {
		time.Sleep(10 * time.Millisecond)
	}
	fresh := make(chan wire.Poll, 1)
	go func() {
		p, _ := one.Poll(ctx, a, fleet.PollRequest{Wait: 10 * time.Second, Slots: 1, Instance: "new", First: true})
		fresh <- p
	}()
	select {
	case p := <-stale:
		if len(p.Commands) != 0 {
			t.Errorf("the stale poll took %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stale poll was not released")
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		_, err := one.NewCommand(ctx, tx, "acme", a.ID, store.CommandSpec{Argv: []string{"true"}}, "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	one.Queued(a.ID)
	if p := <-fresh; len(p.Commands) != 1 {
		t.Errorf("the new instance's poll = %+v", p)
	}
	if p, _ := one.Poll(ctx, a, fleet.PollRequest{Wait: time.Second, Slots: 1, Instance: "old"}); len(p.Commands)+len(p.Cancel) != 0 {
		t.Errorf("a late poll of the old instance = %+v", p)
	}
	// Stop releases a waiting poll at once.
	done := make(chan struct{})
	go func() { one.Poll(ctx, a, fleet.PollRequest{Wait: time.Minute, Slots: 1}); close(done) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	one.Stop(ctx)
	select {
	case <-done:
		if d := time.Since(start); d > time.Second {
			t.Errorf("released after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not release the poll")
	}
}

// TestDispatcher runs runbook exec steps on a real agent through the
// Dispatcher: a result for any exit code, an error for what did not run.
func TestDispatcher(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	svc, err := fleet.New(fleet.Options{Store: st, Recheck: 200 * time.Millisecond, FlushEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc.Start(ctx)
	t.Cleanup(func() { svc.Stop(ctx) })
	srv := httptest.NewServer(api.New(api.Options{Store: st, Fleet: svc}))
	t.Cleanup(srv.Close)
	var secret string
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "globex", Name: "Globex", CreatedAt: t0}); err != nil {
			return err
		}
		_, secret, err = svc.CreateEnrollToken(ctx, tx, fleet.NewEnrollToken{TenantID: "acme"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	ag, err := agent.New(actx, agent.Config{Server: srv.URL, EnrollToken: secret, StateDir: t.TempDir(), Hostname: "runbook-host",
		Interval: 100 * time.Millisecond, PollWait: 2 * time.Second, InventoryInterval: -1, KillGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { ag.Run(actx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	d := &fleet.Dispatcher{Service: svc}
	target := action.Target{ID: ag.State().ResourceID, Type: "host"}
	res, err := d.Dispatch(ctx, target, exec.Command{Script: "echo cleaned $N files; exit 2", Env: map[string]string{"N": "3"}, Timeout: 10 * time.Second})
	if err != nil || res.ExitCode != 2 || res.Stdout != "cleaned 3 files\n" || res.Duration <= 0 {
		t.Errorf("Dispatch = %+v, %v", res, err)
	}
	// By agent ID too.
	if res, err := d.Dispatch(ctx, action.Target{ID: ag.ID()}, exec.Command{Argv: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Errorf("Dispatch by agent ID = %+v, %v", res, err)
	}
	// A timeout is an error, not a result.
	if _, err := d.Dispatch(ctx, target, exec.Command{Argv: []string{"sleep", "30"}, Timeout: time.Second}); err == nil || !strings.Contains(err.Error(), "timed") {
		t.Errorf("timeout: %v", err)
	}
	// The caller giving up cancels the command on the agent.
	cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = d.Dispatch(cctx, target, exec.Command{Argv: []string{"sleep", "30"}, Timeout: time.Minute})
	ccancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled dispatch: %v", err)
	}
	waitCancelled := time.Now().Add(10 * time.Second)
	for {
		l, _, _ := st.ListAgentCommands(ctx, "acme", store.AgentCommandFilter{}, store.Page{Limit: 1})
		if len(l) == 1 && l[0].Status == store.CommandCancelled {
			break
		}
		if time.Now().After(waitCancelled) {
			t.Fatalf("the abandoned command was not cancelled: %+v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Another tenant's execution cannot reach this agent; unknown targets fail.
	other := &fleet.Dispatcher{Service: svc, TenantOf: func(context.Context) string { return "globex" }}
	if _, err := other.Dispatch(ctx, target, exec.Command{Argv: []string{"true"}}); !errors.Is(err, fleet.ErrAgentGone) {
		t.Errorf("cross-tenant dispatch: %v", err)
	}
	if _, err := d.Dispatch(ctx, action.Target{ID: "i-0abc"}, exec.Command{Argv: []string{"true"}}); err == nil {
		t.Error("dispatch to a non-agent target succeeded")
	}
}

// TestRequiredServices: a host whose required service stops raises an
// event with every inventory report that shows it stopped, and a resolved
// one when it runs again; a failed submission fails the report, so the
// agent's retry raises it again.
func TestRequiredServices(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	sk := &sink{}
	svc, err := fleet.New(fleet.Options{Store: st, Sink: sk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var secret string
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
			return err
		}
		_, secret, err = svc.CreateEnrollToken(ctx, tx, fleet.NewEnrollToken{TenantID: "acme", Tags: map[string]string{fleet.RequiredServicesTag: "nginx postgresql.service"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := svc.Enroll(ctx, wire.EnrollRequest{Token: secret, Host: wire.Host{Hostname: "web-1"}})
	if err != nil {
		t.Fatal(err)
	}
	a := fleet.Agent{ID: resp.AgentID, TenantID: "acme"}
	services := func(nginx string) json.RawMessage {
		return json.RawMessage(`{"count":2,"units":{"nginx.service":{"load":"loaded","active":"` + nginx + `","sub":"x"},"postgresql.service":{"load":"loaded","active":"active","sub":"running"}}}`)
	}
	report := func(full bool, nginx string) error {
		return svc.Inventory(ctx, a, wire.Inventory{Full: full, Sections: map[string]json.RawMessage{"services": services(nginx), "host": json.RawMessage(`{}`)}})
	}
	if err := report(true, "active"); err != nil {
		t.Fatal(err)
	}
	if n := len(sk.got()); n != 0 {
		t.Fatalf("%d events while everything runs", n)
	}
	sk.fail = errors.New("overloaded")
	if err := report(false, "failed"); err == nil {
		t.Fatal("a report whose event could not be submitted succeeded")
	}
	sk.fail = nil
	if err := report(false, "failed"); err != nil {
		t.Fatal(err)
	}
	evs := sk.got()
	if len(evs) != 1 || evs[0].Status != event.StatusFiring || evs[0].Fingerprint != fleet.ServiceStoppedFingerprint(a.ID, "nginx.service") ||
		evs[0].Labels["active"] != "failed" {
		t.Fatalf("events = %+v", evs)
	}
	// A report without the services section says nothing about them.
	if err := svc.Inventory(ctx, a, wire.Inventory{Sections: map[string]json.RawMessage{"host": json.RawMessage(`{"x":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := report(false, "active"); err != nil {
		t.Fatal(err)
	}
	evs = sk.got()
	if len(evs) != 2 || evs[1].Status != event.StatusResolved || evs[1].Fingerprint != evs[0].Fingerprint {
		t.Fatalf("events = %+v", evs)
	}
	if got := fleet.RequiredServices(map[string]string{fleet.RequiredServicesTag: "a;b.timer|a"}); strings.Join(got, ",") != "a.service,b.timer" {
		t.Errorf("RequiredServices = %v", got)
	}
}
