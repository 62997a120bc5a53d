package cost_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

// held keeps the jobs the executor enqueues: executions are created (and
// checked here) but no step runs.
type held struct{}

func (held) InsertTx(context.Context, store.Tx, river.JobArgs, *river.InsertOpts) error { return nil }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type fixture struct {
	t   *testing.T
	st  store.Store
	r   *cost.Runner
	clk *clock
}

// newFixture loads the built-in library (the schedule runbooks) and the
// given schedules as content, over a real SQLite store and executor.
func newFixture(t *testing.T, schedules string) *fixture {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	clk := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: clk.now()})
	}); err != nil {
		t.Fatal(err)
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops",
		FS: fstest.MapFS{"schedules.yaml": {Data: []byte(schedules)}}})
	if err != nil {
		t.Fatal(err)
	}
	actions := registry.New(registry.Options{}).Get
	lib, err := runbook.NewLibrary(set, actions)
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: held{}, Runbooks: lib, Actions: actions, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cost.CompileSet(set)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cost.New(cost.Options{Store: st, Starter: x, Schedules: scheds, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, r: r, clk: clk}
}

func (f *fixture) resource(id, typ string, tags map[string]string, config string) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutResource(ctx, store.Resource{ID: id, TenantID: tenant, Type: typ, Name: id, Tags: tags, Config: json.RawMessage(config),
			CreatedAt: f.clk.now(), UpdatedAt: f.clk.now()})
	}); err != nil {
		f.t.Fatal(err)
	}
}

// tick runs the leader's tick at a UTC instant and returns what changed:
// "resource action" for each step that was not "none", sorted.
func (f *fixture) tick(at string) map[string]cost.Step {
	f.t.Helper()
	tm, err := time.Parse(time.RFC3339, at)
	if err != nil {
		f.t.Fatal(err)
	}
	f.clk.set(tm)
	if err := f.r.Tick(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	steps, err := f.r.Reconcile(context.Background(), tenant, tm, true)
	if err != nil {
		f.t.Fatal(err)
	}
	// After a tick, a dry run at the same instant has nothing left to do.
	for _, s := range steps {
		if s.Action != "none" {
			f.t.Errorf("%s: after the tick a dry run still wants %s on %s", at, s.Action, s.ResourceID)
		}
	}
	states, err := f.st.ListScheduleStates(context.Background(), tenant, "")
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]cost.Step{}
	for _, s := range states {
		if s.ChangedAt.Equal(tm) {
			out[s.Schedule+"/"+s.ResourceID] = cost.Step{Want: s.State, ExecutionID: s.ExecutionID, Reason: s.Reason}
		}
	}
	return out
}

func (f *fixture) execution(id string) store.Execution {
	f.t.Helper()
	e, err := f.st.GetExecution(context.Background(), tenant, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

const officeHours = `apiVersion: flywheel/v1
kind: ResourceSchedule
metadata: {name: office-hours}
spec:
  timezone: Europe/Berlin
  periods: [{begin: "08:00", end: "19:00", weekdays: [mon-fri]}]
  holidays:
    ical: |
      BEGIN:VCALENDAR
      BEGIN:VEVENT
      DTSTART;VALUE=DATE:20261224
      DTEND;VALUE=DATE:20261227
      SUMMARY:Christmas
      END:VEVENT
      END:VCALENDAR
  targets: {tags: {env: dev}, schedule_tag: Schedule}
  units: [nginx.service]
`

// The leader's tick, with an injected clock in Berlin winter time (UTC+1):
// stops the targets at 19:00, leaves them alone through the night, starts
// them at 08:00, and not on a holiday; opted-out and untagged resources
// are never touched. Each stop and start is an execution of the kind's
// runbook with the resource's own parameters.
func TestRunnerStopsAndStarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, officeHours)
	f.resource("res_ec2", "ec2-instance", map[string]string{"env": "dev"},
		`{"InstanceId": "i-0abc12345678def01", "InstanceType": "t3.medium", "Placement": {"AvailabilityZone": "us-east-1a"}, "State": {"Name": "running"}}`)
	f.resource("res_rds", "rds-instance", map[string]string{"Schedule": "office-hours"},
		`{"DBInstanceIdentifier": "dev-db", "DBInstanceClass": "db.t3.medium", "region": "us-east-1", "DBInstanceStatus": "available"}`)
	f.resource("res_host", "host", map[string]string{"env": "dev"}, `{}`)
	f.resource("res_opt", "ec2-instance", map[string]string{"env": "dev", cost.DefaultOptOutTag: "yes"}, `{"InstanceId": "i-0000000000000000f"}`)
	f.resource("res_prod", "ec2-instance", map[string]string{"env": "prod"}, `{"InstanceId": "i-0000000000000000e"}`)

	// Monday 7 December, 10:00 CET: running as wanted; recorded, no action.
	got := f.tick("2026-12-07T09:00:00Z")
	if len(got) != 3 || got["office-hours/res_ec2"].ExecutionID != "" || got["office-hours/res_host"].ExecutionID == "" {
		// The host's state is unknown, so it is started (its units).
		t.Fatalf("10:00: %+v", got)
	}
	// 19:00 CET: all three stop.
	got = f.tick("2026-12-07T18:00:00Z")
	if len(got) != 3 {
		t.Fatalf("19:00: %+v", got)
	}
	for id, want := range map[string]struct{ runbook, params string }{
		"res_ec2":  {cost.RunbookEC2, `{"instance_id":"i-0abc12345678def01","region":"us-east-1","state":"stop"}`},
		"res_rds":  {cost.RunbookRDS, `{"db_instance":"dev-db","region":"us-east-1","state":"stop"}`},
		"res_host": {cost.RunbookHost, `{"state":"stop","units":"nginx.service"}`},
	} {
		s := got["office-hours/"+id]
		e := f.execution(s.ExecutionID)
		if s.Want != cost.Stopped || e.Runbook != want.runbook || string(e.Parameters) != want.params || e.StartedBy != "schedule:office-hours" {
			t.Errorf("%s: state %+v, execution %s %s by %s", id, s, e.Runbook, e.Parameters, e.StartedBy)
		}
	}
	// Through the night nothing happens.
	for _, at := range []string{"2026-12-07T18:01:00Z", "2026-12-08T03:00:00Z", "2026-12-08T06:59:00Z"} {
		if got := f.tick(at); len(got) != 0 {
			t.Errorf("%s: %+v", at, got)
		}
	}
	// Tuesday 08:00 CET: all start.
	got = f.tick("2026-12-08T07:00:00Z")
	if len(got) != 3 || got["office-hours/res_rds"].Want != cost.Running || f.execution(got["office-hours/res_rds"].ExecutionID).Parameters == nil {
		t.Errorf("08:00: %+v", got)
	}
	f.tick("2026-12-23T18:00:00Z") // stopped Wednesday evening
	// Thursday 24 December, 08:00 CET: a holiday; they stay stopped.
	if got := f.tick("2026-12-24T07:00:00Z"); len(got) != 0 {
		t.Errorf("Christmas Eve 08:00: %+v", got)
	}
	// Monday 28 December: back to work.
	if got := f.tick("2026-12-28T07:00:00Z"); len(got) != 3 {
		t.Errorf("28 December 08:00: %+v", got)
	}
	for _, id := range []string{"res_opt", "res_prod"} {
		if _, ok := f.tick("2026-12-28T18:00:00Z")["office-hours/"+id]; ok {
			t.Errorf("%s was acted on", id)
		}
	}
}

// Enforced: a target found running off-hours (started by hand) is
// stopped again at the next tick. Retain running: a target already
// running when its period begins is left running when it ends.
func TestRunnerEnforcedAndRetainRunning(t *testing.T) {
	t.Parallel()
	sched := strings.NewReplacer("name: office-hours", "name: enforced", "  units: [nginx.service]\n", "  enforced: true\n").Replace(officeHours) +
		"---\n" + strings.NewReplacer("name: office-hours", "name: retain", "{env: dev}", "{env: lab}", "  units: [nginx.service]\n", "  retain_running: true\n").Replace(officeHours)
	f := newFixture(t, sched)
	stopped := `{"InstanceId": "i-0abc12345678def01", "State": {"Name": "stopped"}}`
	running := `{"InstanceId": "i-0abc12345678def01", "State": {"Name": "running"}}`
	f.resource("res_e", "ec2-instance", map[string]string{"env": "dev"}, stopped)
	f.resource("res_r", "ec2-instance", map[string]string{"env": "lab"}, running)

	// 20:00 CET Monday: res_e is stopped as wanted (recorded); res_r is
	// running and is stopped.
	got := f.tick("2026-12-07T19:00:00Z")
	if got["enforced/res_e"].ExecutionID != "" || got["retain/res_r"].ExecutionID == "" {
		t.Fatalf("20:00: %+v", got)
	}
	// Someone starts res_e by hand at 21:00; the enforced schedule stops
	// it again at the next tick (the inventory reports it at 21:00).
	f.clk.set(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC))
	f.resource("res_e", "ec2-instance", map[string]string{"env": "dev"}, running)
	got = f.tick("2026-12-07T20:05:00Z")
	if s := got["enforced/res_e"]; s.ExecutionID == "" || s.Want != cost.Stopped {
		t.Errorf("enforced, started by hand: %+v", got)
	}
	// res_r is started by hand before its period; at 08:00 it is already
	// running: retained, nothing started ...
	f.resource("res_r", "ec2-instance", map[string]string{"env": "lab"}, running)
	got = f.tick("2026-12-08T07:00:00Z")
	if s := got["retain/res_r"]; s.ExecutionID != "" || s.Want != cost.Running {
		t.Errorf("retain at 08:00: %+v", got)
	}
	// ... and at 19:00 it is left running.
	got = f.tick("2026-12-08T18:00:00Z")
	if s := got["retain/res_r"]; s.ExecutionID != "" || !strings.HasPrefix(s.Reason, "retained") {
		t.Errorf("retain at 19:00: %+v", got)
	}
}

// The savings report: office hours on a t3.medium in us-east-1 for
// December 2026 in Berlin: 23 weekdays less the holidays 24 and 25
// December (Boxing Day is a Saturday) leave 21 days of 11 hours running of
// the month's 744, and the price table's $0.0416 an hour prices the rest.
func TestSavingsReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, officeHours)
	f.resource("res_ec2", "ec2-instance", map[string]string{"env": "dev"},
		`{"InstanceId": "i-0abc12345678def01", "InstanceType": "t3.medium", "Placement": {"AvailabilityZone": "us-east-1a"}}`)
	rows, err := f.r.Savings(context.Background(), tenant, "", time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC))
	if err != nil || len(rows) != 1 {
		t.Fatalf("%+v, %v", rows, err)
	}
	r := rows[0]
	const saved = 744 - 21*11.0
	if r.Month != "2026-12" || r.Hours != 744 || r.SavedHours != saved || !r.Priced || r.Saved != 21.34 || r.Currency != "USD" {
		t.Errorf("row = %+v; want %v saved hours at 0.0416 = %.2f", r, saved, saved*0.0416)
	}
	var b strings.Builder
	if err := cost.WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	if want := "acme,office-hours,2026-12,res_ec2,res_ec2,ec2,t3.medium,us-east-1,744,231,513,68.95,0.0416,true,21.34,USD"; !strings.Contains(b.String(), want) {
		t.Errorf("csv:\n%s\nwant a line %s", b.String(), want)
	}
}
