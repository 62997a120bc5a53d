package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

var t0 = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

// groupByLabel correlates by one label's value.
type groupByLabel struct {
	label string
	p     Params
}

func (g groupByLabel) Correlate(_ string, e *event.Event) (Group, error) {
	return Group{Rule: "by-" + g.label, Key: e.Labels[g.label], Title: "group " + e.Labels[g.label], Category: "monitoring", Params: g.p}, nil
}
func (g groupByLabel) Params(string, string) (Params, bool) { return g.p, true }

type harness struct {
	t  *testing.T
	st store.Store
	en *Engine
}

// opener returns a fresh, empty store for a test.
type opener func(t *testing.T) store.Store

func openSQLite(t *testing.T) store.Store {
	st := sqlitetest.Open(t)
	return st
}

func openPostgres(t *testing.T) store.Store { return postgres.OpenTest(t) }

// runBoth runs a pipeline test on SQLite and on PostgreSQL.
func runBoth(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres) })
}

func newHarnessOn(t *testing.T, st store.Store, c Correlator) *harness {
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		return tx.CreateTenant(context.Background(), store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, st: st, en: &Engine{Correlator: c}}
}

func alert(fp, status string, at time.Time, labels map[string]string) event.Event {
	return event.Event{Source: "alertmanager", Kind: event.KindAlert, Severity: event.SeverityHigh, Status: event.Status(status),
		Title: "DiskFull " + fp, Fingerprint: fp, Labels: labels, OccurredAt: at, ReceivedAt: at,
		Resources: []event.ResourceRef{{Type: "host", ID: "web-" + fp}}}
}

func (h *harness) send(evs ...event.Event) []Outcome {
	h.t.Helper()
	var outs []Outcome
	err := h.st.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		outs, _, err = h.en.Process(context.Background(), tx, "acme", evs)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return outs
}

func (h *harness) tick(now time.Time) {
	h.t.Helper()
	err := h.st.InTx(context.Background(), func(tx store.Tx) error {
		_, err := h.en.Tick(context.Background(), tx, now)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) opsItems() []store.OpsItem {
	h.t.Helper()
	items, _, err := h.st.ListOpsItems(context.Background(), "acme", store.OpsItemFilter{}, store.Page{Limit: 500})
	if err != nil {
		h.t.Fatal(err)
	}
	return items
}

func (h *harness) opsItem(id string) store.OpsItem {
	h.t.Helper()
	o, err := h.st.GetOpsItem(context.Background(), "acme", id)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func decisions(outs []Outcome) []string {
	d := make([]string, len(outs))
	for i, o := range outs {
		d[i] = o.Decision
	}
	return d
}

func wantDecisions(t *testing.T, outs []Outcome, want ...string) {
	t.Helper()
	got := decisions(outs)
	if len(got) != len(want) {
		t.Fatalf("decisions %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("decisions %v, want %v", got, want)
		}
	}
}

func TestDedupOpenResolve(t *testing.T) { runBoth(t, testDedupOpenResolve) }

func testDedupOpenResolve(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	outs := h.send(alert("a", "firing", t0, nil), alert("a", "firing", t0.Add(time.Minute), nil), alert("a", "firing", t0.Add(2*time.Minute), nil))
	wantDecisions(t, outs, DecisionOpened, DecisionDeduplicated, DecisionDeduplicated)
	items := h.opsItems()
	if len(items) != 1 || items[0].Status != "open" || items[0].Occurrences != 3 || items[0].Severity != "high" {
		t.Fatalf("opsitems = %+v", items)
	}
	a, _ := h.st.GetAlert(context.Background(), "acme", "a")
	if a.Occurrences != 3 || !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("alert counts = %+v", a)
	}
	wantDecisions(t, h.send(alert("a", "resolved", t0.Add(5*time.Minute), nil)), DecisionResolved)
	o := h.opsItem(items[0].ID)
	if o.Status != "resolved" || o.ResolvedBy != "system:pipeline" || o.ResolvedAt == nil || !o.ResolvedAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("after resolve: %+v", o)
	}
	// A new firing after resolution opens a new OpsItem.
	wantDecisions(t, h.send(alert("a", "firing", t0.Add(time.Hour), nil)), DecisionOpened)
	if n := len(h.opsItems()); n != 2 {
		t.Errorf("%d OpsItems, want 2", n)
	}
	evs, _, _ := h.st.ListEvents(context.Background(), "acme", store.EventFilter{Fingerprint: "a"}, store.Page{})
	if len(evs) != 3 {
		t.Errorf("%d stored events, want 3 (repeats are counted, not stored)", len(evs))
	}
	rel, _ := h.st.ListOpsItemResources(context.Background(), "acme", items[0].ID)
	if len(rel) != 1 || rel[0].ID != "web-a" {
		t.Errorf("resources = %+v", rel)
	}
}

func TestGroupingWindowAndResolution(t *testing.T) { runBoth(t, testGroupingWindowAndResolution) }

func testGroupingWindowAndResolution(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), groupByLabel{label: "cluster", p: Params{Window: 5 * time.Minute, MaxSpan: time.Hour, Resolve: "all"}})
	eu := map[string]string{"cluster": "eu"}
	us := map[string]string{"cluster": "us"}
	outs := h.send(alert("a", "firing", t0, eu), alert("b", "firing", t0.Add(time.Minute), eu), alert("c", "firing", t0.Add(time.Minute), us))
	wantDecisions(t, outs, DecisionOpened, DecisionAttached, DecisionOpened)
	if outs[0].OpsItemID != outs[1].OpsItemID || outs[0].OpsItemID == outs[2].OpsItemID {
		t.Fatalf("grouping wrong: %+v", outs)
	}
	members, _ := h.st.ListOpsItemMembers(context.Background(), "acme", outs[0].OpsItemID)
	if len(members) != 2 {
		t.Fatalf("members = %+v", members)
	}
	// Outside the window: a new group.
	late := h.send(alert("d", "firing", t0.Add(20*time.Minute), eu))
	wantDecisions(t, late, DecisionOpened)
	// One member resolving keeps the group open; both resolve it.
	h.send(alert("a", "resolved", t0.Add(30*time.Minute), eu))
	if o := h.opsItem(outs[0].OpsItemID); o.Status != "open" {
		t.Fatalf("resolved with a member still firing: %+v", o)
	}
	h.send(alert("b", "resolved", t0.Add(31*time.Minute), eu))
	if o := h.opsItem(outs[0].OpsItemID); o.Status != "resolved" {
		t.Fatalf("not resolved when all members resolved: %+v", o)
	}
	tl, _ := h.st.ListTimeline(context.Background(), "acme", outs[0].OpsItemID)
	if len(tl) < 4 || tl[0].Kind != "opened" || tl[len(tl)-1].Kind != "resolved" {
		t.Errorf("timeline = %+v", tl)
	}
}

func TestMaxSpan(t *testing.T) { runBoth(t, testMaxSpan) }

func testMaxSpan(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), groupByLabel{label: "cluster", p: Params{Window: 10 * time.Minute, MaxSpan: 15 * time.Minute, Resolve: "all"}})
	eu := map[string]string{"cluster": "eu"}
	var first string
	for i := range 4 {
		outs := h.send(alert(string(rune('a'+i)), "firing", t0.Add(time.Duration(i)*8*time.Minute), eu))
		if i == 0 {
			first = outs[0].OpsItemID
		}
		if i == 2 && outs[0].OpsItemID == first {
			t.Fatalf("event 16 min after the group's first joined it despite max_span 15m")
		}
	}
}

func TestTransientHold(t *testing.T) { runBoth(t, testTransientHold) }

func testTransientHold(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{P: Params{Hold: 2 * time.Minute}})
	wantDecisions(t, h.send(alert("blip", "firing", t0, nil)), DecisionHeld)
	wantDecisions(t, h.send(alert("blip", "resolved", t0.Add(time.Minute), nil)), DecisionTransient)
	if n := len(h.opsItems()); n != 0 {
		t.Fatalf("transient blip opened %d OpsItems", n)
	}
	h.tick(t0.Add(time.Hour))
	if n := len(h.opsItems()); n != 0 {
		t.Fatalf("tick opened %d OpsItems for a resolved blip", n)
	}
	// Still firing after the hold: Tick opens it.
	wantDecisions(t, h.send(alert("real", "firing", t0, nil)), DecisionHeld)
	h.tick(t0.Add(time.Minute))
	if n := len(h.opsItems()); n != 0 {
		t.Fatal("opened before the hold ended")
	}
	h.tick(t0.Add(2 * time.Minute))
	items := h.opsItems()
	if len(items) != 1 || items[0].Title != "DiskFull real" {
		t.Fatalf("after hold: %+v", items)
	}
	a, _ := h.st.GetAlert(context.Background(), "acme", "real")
	if a.OpsItemID != items[0].ID || !a.HeldUntil.IsZero() {
		t.Errorf("alert after release: %+v", a)
	}
}

func TestFlapping(t *testing.T) { runBoth(t, testFlapping) }

func testFlapping(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{P: Params{FlapChanges: 3, FlapWindow: 10 * time.Minute}})
	var outs []Outcome
	for i := range 8 {
		st := "firing"
		if i%2 == 1 {
			st = "resolved"
		}
		outs = append(outs, h.send(alert("flappy", st, t0.Add(time.Duration(i)*time.Minute), nil))...)
	}
	items := h.opsItems()
	if len(items) != 1 {
		t.Fatalf("flapping alert opened %d OpsItems, want 1 (decisions %v)", len(items), decisions(outs))
	}
	if !items[0].Flapping || items[0].Status != "open" {
		t.Fatalf("OpsItem = %+v, want open and flapping", items[0])
	}
	flaps := 0
	for _, o := range outs {
		if o.Decision == DecisionFlapping {
			flaps++
		}
	}
	if flaps == 0 {
		t.Fatalf("no flapping decisions: %v", decisions(outs))
	}
	// Stable (resolved, no change for the flap window): Tick resolves it.
	h.tick(t0.Add(10 * time.Minute))
	if o := h.opsItem(items[0].ID); o.Status != "open" {
		t.Fatal("resolved before the alert was stable for the flap window")
	}
	h.tick(t0.Add(7*time.Minute + 10*time.Minute))
	if o := h.opsItem(items[0].ID); o.Status != "resolved" || o.Flapping {
		t.Fatalf("after stable: %+v", o)
	}
}

func TestStaleFindingVersionIgnored(t *testing.T) { runBoth(t, testStaleFindingVersionIgnored) }

func testStaleFindingVersionIgnored(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	newer := alert("f", "firing", t0, nil)
	newer.UpdatedAt = t0.Add(time.Hour)
	older := alert("f", "resolved", t0, nil)
	older.UpdatedAt = t0.Add(time.Minute)
	wantDecisions(t, h.send(newer, older), DecisionOpened, DecisionStale)
	if o := h.opsItems(); len(o) != 1 || o[0].Status != "open" {
		t.Fatalf("stale version changed the OpsItem: %+v", o)
	}
}

type stubDeflector struct{ class, reason, label string }

func (d stubDeflector) Deflect(_ context.Context, _ store.Reader, _ string, e *event.Event, _ time.Time) (string, string, error) {
	if e.Labels[d.label] != "" {
		return d.class, d.reason, nil
	}
	return "", "", nil
}

type stubInhibitor struct{}

func (stubInhibitor) SourceKeys(_ string, e *event.Event) []string {
	if e.Labels["down"] == "true" {
		return []string{"host:" + e.Labels["host"]}
	}
	return nil
}
func (stubInhibitor) TargetKeys(_ string, e *event.Event) []string {
	return []string{"host:" + e.Labels["host"]}
}

func TestDeflectionAndInhibition(t *testing.T) { runBoth(t, testDeflectionAndInhibition) }

func testDeflectionAndInhibition(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	h.en.Deflector = stubDeflector{class: "silence", reason: "sil_1 (deploy)", label: "silenced"}
	h.en.Inhibitor = stubInhibitor{}
	outs := h.send(alert("s", "firing", t0, map[string]string{"silenced": "yes"}))
	wantDecisions(t, outs, DecisionSuppressed)
	if outs[0].Reason != "silence: sil_1 (deploy)" {
		t.Errorf("reason = %q", outs[0].Reason)
	}
	down := h.send(alert("down", "firing", t0, map[string]string{"down": "true", "host": "web-1"}))
	wantDecisions(t, down, DecisionOpened)
	cpu := h.send(alert("cpu", "firing", t0.Add(time.Minute), map[string]string{"host": "web-1"}))
	wantDecisions(t, cpu, DecisionSuppressed)
	if cpu[0].Reason != "inhibited: by firing alert down" {
		t.Errorf("inhibit reason = %q", cpu[0].Reason)
	}
	other := h.send(alert("cpu2", "firing", t0.Add(time.Minute), map[string]string{"host": "web-2"}))
	wantDecisions(t, other, DecisionOpened)
	// Once the source resolves, the target is no longer inhibited.
	h.send(alert("down", "resolved", t0.Add(2*time.Minute), map[string]string{"down": "true", "host": "web-1"}))
	cpu = h.send(alert("cpu3", "firing", t0.Add(3*time.Minute), map[string]string{"host": "web-1"}))
	wantDecisions(t, cpu, DecisionOpened)
	evs, _, _ := h.st.ListEvents(context.Background(), "acme", store.EventFilter{Decision: DecisionSuppressed}, store.Page{})
	if len(evs) != 2 {
		t.Errorf("%d suppressed events stored, want 2 (each with its reason)", len(evs))
	}
}

// TestHoldExpiredWithoutTick: a resolution arriving after the hold ended
// opens (and resolves) the OpsItem even if Tick never ran in between.
func TestHoldExpiredWithoutTick(t *testing.T) { runBoth(t, testHoldExpiredWithoutTick) }

func testHoldExpiredWithoutTick(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{P: Params{Hold: 2 * time.Minute}})
	wantDecisions(t, h.send(alert("slow", "firing", t0, nil)), DecisionHeld)
	wantDecisions(t, h.send(alert("slow", "resolved", t0.Add(3*time.Minute), nil)), DecisionResolved)
	items := h.opsItems()
	if len(items) != 1 || items[0].Status != "resolved" {
		t.Fatalf("OpsItems = %+v, want one, resolved", items)
	}
}
