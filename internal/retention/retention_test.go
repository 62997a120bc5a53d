package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/retention"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

var drivers = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flywheel.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store { return postgres.OpenTest(t) }},
}

func forEachDriver(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d.open(t))
		})
	}
}

var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// fixture is one tenant's data, all made at one instant.
func fixture(t *testing.T, st store.Store, tenant string, at time.Time, events int) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx store.Tx) error {
		if _, err := st.GetTenant(ctx, tenant); err != nil {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: tenant, CreatedAt: at}); err != nil {
				return err
			}
		}
		var evs []store.Event
		for i := range events {
			evs = append(evs, store.Event{ID: store.NewID("ev", at), TenantID: tenant, Source: "test", Fingerprint: fmt.Sprint(i), Kind: "alert",
				Severity: "low", Status: "firing", Title: "t", OccurredAt: at, ReceivedAt: at, Raw: json.RawMessage(`{"big":"payload"}`), Decision: "opened"})
		}
		if err := tx.InsertEvents(ctx, evs); err != nil {
			return err
		}
		end := at
		return tx.CreateAgentCommand(ctx, store.AgentCommand{ID: store.NewID("cmd", at), TenantID: tenant, AgentID: "agt_1",
			Spec: store.CommandSpec{Argv: []string{"true"}}, Status: store.CommandSucceeded, CreatedAt: at, Deadline: at, EndedAt: &end})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type counts struct{ events, raw, commands int }

func count(t *testing.T, st store.Store, tenant string) counts {
	t.Helper()
	ctx := context.Background()
	var c counts
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := st.ListEvents(ctx, tenant, store.EventFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			c.events++
			if full, err := st.GetEvent(ctx, tenant, e.ID); err == nil && len(full.Raw) > 0 {
				c.raw++
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	cmds, _, err := st.ListAgentCommands(ctx, tenant, store.AgentCommandFilter{}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	c.commands = len(cmds)
	return c
}

// The clock moves on; each prune removes what the tenant's policy no longer
// keeps at that time, in batches smaller than the backlog, and a tenant's
// override wins over the server's policy.
func TestPruneFollowsThePolicyAsTimePasses(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		cfg := retention.Config{Batch: 3, Policy: retention.Policy{Events: 10 * retention.Day, RawBodies: 2 * retention.Day, MaxEvents: -1},
			Tenants: map[string]retention.Policy{"keeper": {Events: retention.Forever, AgentCommands: 60 * retention.Day}}}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		p := retention.New(st, cfg, slog.New(slog.DiscardHandler))
		fixture(t, st, "acme", start, 7)
		fixture(t, st, "keeper", start, 7)
		fixture(t, st, "acme", start.Add(5*24*time.Hour), 2)

		pruneAll := func(now time.Time) {
			t.Helper()
			for _, c := range store.RetentionClasses {
				if _, err := p.Prune(ctx, c, now); err != nil {
					t.Fatalf("prune %s at %s: %v", c, now, err)
				}
			}
		}
		check := func(when string, tenant string, want counts) {
			t.Helper()
			if got := count(t, st, tenant); got != want {
				t.Errorf("%s, %s: %+v, want %+v", when, tenant, got, want)
			}
		}

		pruneAll(start.Add(24 * time.Hour))
		check("day 1", "acme", counts{events: 9, raw: 9, commands: 2})
		pruneAll(start.Add(3 * 24 * time.Hour))
		check("day 3", "acme", counts{events: 9, raw: 2, commands: 2})
		check("day 3", "keeper", counts{events: 7, raw: 0, commands: 1})
		pruneAll(start.Add(11 * 24 * time.Hour))
		check("day 11", "acme", counts{events: 2, raw: 0, commands: 2})
		check("day 11", "keeper", counts{events: 7, raw: 0, commands: 1})
		pruneAll(start.Add(40 * 24 * time.Hour))
		check("day 40", "acme", counts{events: 0, raw: 0, commands: 0})
		check("day 40", "keeper", counts{events: 7, raw: 0, commands: 1})
		pruneAll(start.Add(61 * 24 * time.Hour))
		check("day 61", "keeper", counts{events: 7, raw: 0, commands: 0})
	})
}

// MaxEvents bounds a tenant's events however young they are.
func TestPruneBoundsEventCount(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st store.Store) {
		cfg := retention.Config{Batch: 4, Policy: retention.Policy{MaxEvents: 5}}.WithDefaults()
		fixture(t, st, "acme", start, 6)
		fixture(t, st, "acme", start.Add(time.Minute), 6)
		n, err := retention.New(st, cfg, nil).Prune(context.Background(), store.RetainEvents, start.Add(time.Hour))
		if err != nil || n != 7 {
			t.Errorf("Prune = %d, %v; want 7 removed", n, err)
		}
		list, _, _ := st.ListEvents(context.Background(), "acme", store.EventFilter{}, store.Page{})
		for _, e := range list {
			if !e.ReceivedAt.Equal(start.Add(time.Minute)) {
				t.Errorf("kept %s received %s: the oldest should have gone first", e.ID, e.ReceivedAt)
			}
		}
		if len(list) != 5 {
			t.Errorf("%d events left, want 5", len(list))
		}
	})
}

// Registered on the job queue, the pruners run on the leader with the
// queue's clock: the expired data is gone without anyone calling Prune.
func TestRegisterRunsOnTheQueue(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		fixture(t, st, "acme", start, 3)
		now := start.Add(40 * 24 * time.Hour)
		q, err := jobs.New(ctx, st, jobs.Options{Logger: slog.New(slog.DiscardHandler), Clock: func() time.Time { return now },
			PollInterval: 20 * time.Millisecond, RetentionEvery: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := retention.New(st, retention.Config{}.WithDefaults(), nil).Register(q); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			q.Stop(sctx)
		}()
		deadline := time.Now().Add(30 * time.Second)
		for {
			c := count(t, st, "acme")
			if c.events == 0 && c.commands == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 30s on the queue: %+v left, want everything 40 days old pruned", c)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func TestConfigFromYAML(t *testing.T) {
	const doc = `
every: 30m
events: 14d
raw_bodies: 36h
executions: forever
max_events: 5000
tenants:
  acme:
    events: 90d
`
	var c retention.Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Every != 30*time.Minute || c.Batch != retention.DefaultBatch {
		t.Errorf("every %s batch %d", c.Every, c.Batch)
	}
	def, acme := c.For("globex"), c.For("acme")
	for _, tc := range []struct {
		name      string
		got, want retention.Age
	}{
		{"default events", def.Events, 14 * retention.Day},
		{"default raw", def.RawBodies, retention.Age(36 * time.Hour)},
		{"default executions", def.Executions, retention.Forever},
		{"default timeline (built in)", def.Timeline, retention.Default.Timeline},
		{"acme events", acme.Events, 90 * retention.Day},
		{"acme raw (the server's)", acme.RawBodies, retention.Age(36 * time.Hour)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	if acme.MaxEvents != 5000 {
		t.Errorf("acme max_events = %d, want the server's 5000", acme.MaxEvents)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
	}{
		{"events: 3 weeks", `"3 weeks" is not a positive duration`},
		{"events: -2d", `"-2d" is not a number of days`},
		{"tenants:\n  acme:\n    raw_bodies: 0s", "line 3"},
		{"evnts: 3d", "field evnts not found"},
	} {
		var c retention.Config
		dec := yaml.NewDecoder(strings.NewReader(tc.doc))
		dec.KnownFields(true)
		err := dec.Decode(&c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.doc, err, tc.want)
		}
	}
	bad := retention.Config{Batch: 1_000_000, Policy: retention.Policy{MaxEvents: -5}}.WithDefaults()
	err := bad.Validate()
	for _, want := range []string{"retention.batch", "retention.max_events"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

func TestAgeRoundTrips(t *testing.T) {
	for _, s := range []string{"30d", "forever", "36h0m0s", "1d", "1h30m0s"} {
		a, err := retention.ParseAge(s)
		if err != nil {
			t.Fatalf("ParseAge(%q): %v", s, err)
		}
		if a.String() != s {
			t.Errorf("ParseAge(%q).String() = %q", s, a.String())
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"30d", "forever", "12h", "0", "-1d", "9999999999d", "1.5h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := retention.ParseAge(s)
		if err != nil {
			return
		}
		if a <= 0 && a != retention.Forever {
			t.Fatalf("ParseAge(%q) = %d: accepted a non-positive age", s, a)
		}
		if b, err := retention.ParseAge(a.String()); err != nil || b != a {
			t.Fatalf("ParseAge(%q) = %s does not round-trip: %v, %v", s, a, b, err)
		}
	})
}

// Pruning everything prunable leaves the audit log whole: every chain
// verifies with all its records.
func TestPruneKeepsTheAuditChain(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		fixture(t, st, "acme", start, 5)
		for i := range 20 {
			err := st.InTx(ctx, func(tx store.Tx) error {
				_, err := audit.Append(ctx, tx, "acme", start.Add(time.Duration(i)*time.Minute),
					audit.Entry{Actor: "system:test", Action: "opsitem.update", Target: fmt.Sprintf("opsitem/oi_%d", i)})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		p := retention.New(st, retention.Config{}.WithDefaults(), nil)
		for _, c := range store.RetentionClasses {
			if _, err := p.Prune(ctx, c, start.Add(10*365*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if c := count(t, st, "acme"); c.events != 0 || c.commands != 0 {
			t.Fatalf("after ten years: %+v left", c)
		}
		reports, err := audit.VerifyAll(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if len(reports) != 1 || !reports[0].OK() || reports[0].Records != 20 {
			t.Errorf("audit after pruning = %+v, want acme's 20 records verified", reports)
		}
	})
}
