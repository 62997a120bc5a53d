package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestConsiderRootCause: the root cause is the firing member most
// upstream, then most severe, then earliest; one further upstream gives
// the OpsItem its group key and title; other operational data is kept.
func TestConsiderRootCause(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 4, 14, 9, 0, 0, 0, time.UTC)
	o := store.OpsItem{Rule: "services", GroupKey: "k-checkout", Title: "CheckoutErrors in west",
		OperationalData: json.RawMessage(`{"runbook_url":"https://wiki/x"}`)}
	ev := func(title string, sev event.Severity, status event.Status) *event.Event {
		return &event.Event{Title: title, Fingerprint: "fp-" + title, Severity: sev, Status: status,
			Labels: map[string]string{"instance": title + "-1:80"}}
	}
	g := func(rank int, key, title string) Group {
		return Group{Rule: "services", Key: key, Rank: rank, Title: title}
	}
	root := func() string {
		rc, ok := RootCauseOf(o)
		if !ok {
			return ""
		}
		return rc.Title
	}

	considerRootCause(&o, ev("CheckoutErrors", event.SeverityMedium, event.StatusFiring), g(0, "k-checkout", "CheckoutErrors in west"), at)
	if root() != "CheckoutErrors on CheckoutErrors-1:80" {
		t.Fatalf("first member: root %q", root())
	}
	considerRootCause(&o, ev("CheckoutLatency", event.SeverityMedium, event.StatusFiring), g(0, "k-checkout", "x"), at.Add(time.Second))
	if root() != "CheckoutErrors on CheckoutErrors-1:80" {
		t.Errorf("same rank and severity, later: root %q, want the earliest kept", root())
	}
	considerRootCause(&o, ev("CheckoutDown", event.SeverityCritical, event.StatusFiring), g(0, "k-checkout", "x"), at.Add(2*time.Second))
	if root() != "CheckoutDown on CheckoutDown-1:80" || o.GroupKey != "k-checkout" || o.Title != "CheckoutErrors in west" {
		t.Errorf("more severe, same rank: root %q key %s title %q; want it root, key and title kept", root(), o.GroupKey, o.Title)
	}
	considerRootCause(&o, ev("PostgresDown", event.SeverityCritical, event.StatusResolved), g(3, "k-db", "PostgresDown in db-1"), at.Add(3*time.Second))
	if root() != "CheckoutDown on CheckoutDown-1:80" {
		t.Errorf("a resolved event became root cause: %q", root())
	}
	considerRootCause(&o, ev("PostgresDown", event.SeverityMedium, event.StatusFiring), g(3, "k-db", "PostgresDown in db-1"), at.Add(4*time.Second))
	if root() != "PostgresDown on PostgresDown-1:80" || o.GroupKey != "k-db" || o.Title != "PostgresDown in db-1" {
		t.Errorf("upstream: root %q key %s title %q; want the database, its key and title", root(), o.GroupKey, o.Title)
	}
	considerRootCause(&o, ev("AuthDown", event.SeverityCritical, event.StatusFiring), g(1, "k-auth", "AuthDown"), at.Add(5*time.Second))
	if root() != "PostgresDown on PostgresDown-1:80" || o.GroupKey != "k-db" {
		t.Errorf("less upstream but more severe: root %q key %s; want the database kept", root(), o.GroupKey)
	}
	var d map[string]any
	if err := json.Unmarshal(o.OperationalData, &d); err != nil || d["runbook_url"] != "https://wiki/x" {
		t.Errorf("operational data %s: the other facts were lost", o.OperationalData)
	}
}

// topology correlates by a fixed table: each fingerprint's application
// group, rank and links, as correlate.Rules gives them for Applications.
type topology map[string]Group

func (tp topology) Correlate(_ string, e *event.Event) (Group, error) {
	g := tp[e.Fingerprint]
	g.Rule, g.Title, g.Category, g.Params = "services", e.Title, "monitoring", tp.params()
	return g, nil
}

func (tp topology) Params(string, string) (Params, bool) { return tp.params(), true }

func (topology) params() Params {
	return Params{Window: 5 * time.Minute, MaxSpan: 4 * time.Hour, Resolve: "all"}
}

// TestDependencyJoinsThroughProcessor: through the Processor's batched
// transactions, on both stores: a dependant's alert opens an OpsItem, the
// database it depends on joins it and becomes its root cause (the OpsItem
// takes the database's key), and another dependant of the database, not
// linked to the first, joins it through the database.
func TestDependencyJoinsThroughProcessor(t *testing.T) {
	runBoth(t, func(t *testing.T, open opener) {
		tp := topology{
			"checkout": {Key: "app:checkout", Why: "same application checkout", Impact: &application.Impact{Application: "checkout", Priority: "P3", Path: []string{"checkout"}},
				Links: []Link{{Key: "app:db", Why: "application checkout depends on db"}}},
			"db": {Key: "app:db", Rank: 2, Why: "same application db", Impact: &application.Impact{Application: "db", Criticality: "high", Dependants: 2, Priority: "P1", Path: []string{"checkout", "db"}},
				Links: []Link{{Key: "app:checkout", Why: "application checkout depends on db"}, {Key: "app:profile", Why: "application profile depends on db"}}},
			"profile": {Key: "app:profile", Why: "same application profile",
				Links: []Link{{Key: "app:db", Why: "application profile depends on db"}}},
		}
		h := newHarnessOn(t, open(t), tp)
		ctx := context.Background()
		p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: 50 * time.Millisecond, ScanEvery: 50 * time.Millisecond})
		c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
		p.Start(ctx)
		c.Start(ctx)
		evs := []event.Event{alert("checkout", "firing", t0, nil), alert("db", "firing", t0.Add(20*time.Second), nil),
			alert("profile", "firing", t0.Add(time.Minute), nil)}
		evs[1].Severity = event.SeverityMedium
		body, _ := json.Marshal(evs)
		if err := c.Submit(ctx, "acme", "test", body, nil, evs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the batch processed", func() bool {
			n, _ := h.st.CountUnprocessedIntake(ctx)
			return n == 0 && p.Backlog().Load() == 0
		})
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		items := h.opsItems()
		if len(items) != 1 {
			t.Fatalf("%d OpsItems, want 1: %+v", len(items), items)
		}
		o := items[0]
		rc, _ := RootCauseOf(o)
		if rc.Fingerprint != "db" || o.GroupKey != "app:db" || o.Title != "DiskFull db" {
			t.Errorf("root cause %q, key %s, title %q; want the database's", rc.Fingerprint, o.GroupKey, o.Title)
		}
		if im, ok := ImpactOf(o); !ok || im.Application != "db" || im.Priority != "P1" || strings.Join(im.Path, ">") != "checkout>db" {
			t.Errorf("impact %+v, want the database's (P1, checkout>db)", im)
		}
		ms, err := h.st.ListOpsItemMembers(ctx, "acme", o.ID)
		if err != nil || len(ms) != 3 {
			t.Errorf("members %+v %v, want all three", ms, err)
		}
		evsStored, _, err := h.st.ListEvents(ctx, "acme", store.EventFilter{Fingerprint: "profile"}, store.Page{Limit: 5})
		if err != nil || len(evsStored) != 1 || !strings.HasPrefix(evsStored[0].Reason, "application profile depends on db, 1m0s after DiskFull db") {
			t.Errorf("profile's join: %+v %v", evsStored, err)
		}
	})
}

// TestConsiderImpact: an OpsItem keeps its most urgent member's impact
// (then the one with more dependants); other operational data stays.
func TestConsiderImpact(t *testing.T) {
	t.Parallel()
	o := store.OpsItem{OperationalData: json.RawMessage(`{"truncatedAlerts":2}`)}
	p3 := &application.Impact{Application: "web", Priority: "P3"}
	p1 := &application.Impact{Application: "db", Priority: "P1", Dependants: 1}
	p1more := &application.Impact{Application: "core-db", Priority: "P1", Dependants: 4}
	for _, step := range []struct {
		im   *application.Impact
		want string
	}{{nil, ""}, {p3, "web"}, {p1, "db"}, {p3, "db"}, {p1more, "core-db"}, {p1, "core-db"}} {
		considerImpact(&o, step.im)
		im, _ := ImpactOf(o)
		if im.Application != step.want {
			t.Errorf("after %+v: impact %q, want %q", step.im, im.Application, step.want)
		}
	}
	if !strings.Contains(string(o.OperationalData), `"truncatedAlerts":2`) {
		t.Errorf("operational data lost: %s", o.OperationalData)
	}
}
