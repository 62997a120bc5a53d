package execution_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

var drivers = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		s := sqlitetest.Open(t)
		return s
	}},
	{"postgres", func(t testing.TB) store.Store { return postgres.OpenTest(t) }},
}

// forEachDriver runs fn on a fresh store of every driver, in parallel.
func forEachDriver(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			st := d.open(t)
			seedTenant(t, st)
			fn(t, st)
		})
	}
}

func seedTenant(t testing.TB, st store.Store) {
	t.Helper()
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		return tx.CreateTenant(context.Background(), store.Tenant{ID: tenant, Name: "ACME", CreatedAt: time.Now().UTC()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func logger() *slog.Logger {
	if os.Getenv("EXEC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// fake is a test action: fn decides each call; calls are counted.
type fake struct {
	name  string
	fn    func(ctx context.Context, in action.Input) (action.Output, error)
	calls atomic.Int64
}

func (f *fake) Name() string                  { return f.name }
func (f *fake) Validate(map[string]any) error { return nil }
func (f *fake) Run(ctx context.Context, in action.Input) (action.Output, error) {
	f.calls.Add(1)
	if f.fn == nil {
		return action.Output{Values: map[string]any{"with": in.With}}, nil
	}
	return f.fn(ctx, in)
}

// actions is a test action registry.
type actions map[string]action.Action

func (a actions) lookup(name string) (action.Action, bool) {
	act, ok := a[name]
	return act, ok
}

func newActions(fakes ...*fake) actions {
	a := actions{}
	for _, f := range fakes {
		a[f.name] = f
	}
	return a
}

// library loads runbook YAML documents (separated by ---) with the given
// action names.
func library(t testing.TB, acts actions, docs ...string) *runbook.Library {
	t.Helper()
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(acts.lookup))
	reg.RegisterCheck(runbook.CheckRefs)
	fsys := fstest.MapFS{}
	for i, d := range docs {
		fsys[fmt.Sprintf("rb%d.yaml", i)] = &fstest.MapFile{Data: []byte(d)}
	}
	set, err := content.Load(reg, content.Source{Name: "test", FS: fsys})
	if err != nil {
		t.Fatalf("load runbooks:\n%v", err)
	}
	lib, err := runbook.NewLibrary(set, acts.lookup)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// node is one executor and its queue: a "server process".
type node struct {
	x *execution.Executor
	q *jobs.Queue
}

type nodeOpts struct {
	leaseTTL time.Duration
	slice    time.Duration
	workers  int
	// ruleApprovers is Options.RuleApprovers.
	ruleApprovers func(tenant, rule string) []string
}

// startNode builds an executor on st with its own job queue and starts it;
// the queue stops at cleanup unless the test stopped it.
func startNode(t testing.TB, st store.Store, lib *runbook.Library, acts actions, o nodeOpts) *node {
	t.Helper()
	ctx := context.Background()
	if o.leaseTTL == 0 {
		o.leaseTTL = 2 * time.Second
	}
	q, err := jobs.New(ctx, st, jobs.Options{Logger: logger(), PollInterval: 20 * time.Millisecond, HardStopTimeout: 2 * time.Second,
		Workers: max(o.workers, 10)})
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: q, Runbooks: lib, Actions: acts.lookup, Logger: logger(),
		LeaseTTL: o.leaseTTL, RecoverEvery: o.leaseTTL, Slice: o.slice, RuleApprovers: o.ruleApprovers})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return &node{x: x, q: q}
}

// kill stops a node the hard way: running jobs' contexts are cancelled at
// once, as a crash would end them.
func (n *node) kill(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.q.Stop(ctx)
}

// start starts an execution of rb in its own transaction.
func start(t testing.TB, st store.Store, x *execution.Executor, req runbook.StartRequest) string {
	t.Helper()
	id, err := startErr(st, x, req)
	if err != nil {
		t.Fatalf("Start(%s): %v", req.Runbook, err)
	}
	return id
}

func startErr(st store.Store, x *execution.Executor, req runbook.StartRequest) (string, error) {
	if req.TenantID == "" {
		req.TenantID = tenant
	}
	if req.StartedBy == "" {
		req.StartedBy = "token:tok_test"
	}
	var id string
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		id, err = x.Start(context.Background(), tx, req)
		return err
	})
	return id, err
}

// waitStatus polls until the execution has one of statuses.
func waitStatus(t testing.TB, st store.Store, id string, statuses ...string) store.Execution {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		e, err := st.GetExecution(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(statuses, e.Status) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s (error %q), want %v\nsteps:\n%s", id, e.Status, e.Error, statuses, dumpSteps(t, st, id))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLimit bounds the polls: generous, because CI also runs these tests
// under the race detector (several times slower) on a busy machine, where
// TestRateControl's 100-target execution once took more than 20 seconds.
const waitLimit = 60 * time.Second

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func steps(t testing.TB, st store.Store, id string) []store.ExecutionStep {
	t.Helper()
	rows, err := st.ListExecutionSteps(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// own returns the step-level rows (not per-target ones) by step name,
// the latest visit winning.
func own(t testing.TB, st store.Store, id string) map[string]store.ExecutionStep {
	out := map[string]store.ExecutionStep{}
	for _, r := range steps(t, st, id) {
		if r.TargetID == "" {
			out[r.Name] = r
		}
	}
	return out
}

func dumpSteps(t testing.TB, st store.Store, id string) string {
	var b strings.Builder
	rows, _ := st.ListExecutionSteps(context.Background(), tenant, id)
	for _, r := range rows {
		if r.TargetID != "" && r.Status == runbook.StatusSucceeded {
			continue
		}
		fmt.Fprintf(&b, "  seq %d %s[%s] %s attempt %d err=%q out=%s log=%q\n", r.Seq, r.Name, r.TargetID, r.Status, r.Attempt, r.Error, r.Outputs, r.Log)
	}
	return b.String()
}

// auditActions lists the tenant's audit actions on an execution, oldest
// first.
func auditOf(t testing.TB, st store.Store, id string) []store.AuditRecord {
	t.Helper()
	var out []store.AuditRecord
	err := st.ScanAudit(context.Background(), tenant, 0, func(r store.AuditRecord) error {
		if r.Target == "execution/"+id {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := audit.Verify(context.Background(), st, tenant); err != nil || !rep.OK() {
		t.Errorf("audit chain: %+v, %v", rep, err)
	}
	return out
}

func countActions(recs []store.AuditRecord, action string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action {
			n++
		}
	}
	return n
}

// gate blocks callers until opened.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate  { return &gate{ch: make(chan struct{})} }
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }
func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errBoom = errors.New("boom")
