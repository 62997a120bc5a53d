package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// recordingAutomation notes every call and writes a timeline line through
// the transaction it is given, so a test can see that its writes commit
// (or roll back) with the event's.
type recordingAutomation struct {
	calls    []string // "<decision> <fingerprint> <opsitem>"
	fail     error
	resolved string // what ResolvedBy answers
	asked    []string
}

// Wants passes everything but events labelled unwanted.
func (r *recordingAutomation) Wants(_ string, e *event.Event) bool { return e.Labels["unwanted"] == "" }

func (r *recordingAutomation) OnEvent(ctx context.Context, tx store.Tx, tenant string, e *event.Event, o *store.OpsItem, decision string) error {
	r.calls = append(r.calls, decision+" "+e.Fingerprint+" "+o.ID)
	if r.fail != nil {
		return r.fail
	}
	return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", e.ReceivedAt), TenantID: tenant, OpsItemID: o.ID,
		At: e.ReceivedAt, Kind: "rule", Message: "automation saw " + decision, Actor: "rule:test"})
}

func (r *recordingAutomation) ResolvedBy(_ context.Context, _ store.Tx, o store.OpsItem) (string, error) {
	r.asked = append(r.asked, o.ID)
	return r.resolved, nil
}

func TestAutomationHook(t *testing.T) { runBoth(t, testAutomationHook) }

func testAutomationHook(t *testing.T, open opener) {
	ctx := context.Background()
	h := newHarnessOn(t, open(t), groupByLabel{label: "svc", p: Params{Window: time.Hour, FlapWindow: 10 * time.Minute}})
	auto := &recordingAutomation{}
	h.en.Automation = auto
	want := func(calls ...string) {
		t.Helper()
		if len(auto.calls) != len(calls) {
			t.Fatalf("automation calls %q, want %q", auto.calls, calls)
		}
		for i := range calls {
			if auto.calls[i] != calls[i] {
				t.Fatalf("automation calls %q, want %q", auto.calls, calls)
			}
		}
	}
	svc := map[string]string{"svc": "web"}

	outs := h.send(alert("a", "firing", t0, svc))
	id := outs[0].OpsItemID
	want("opened a " + id)
	// An event the automation does not want is not handed to it.
	wantDecisions(t, h.send(alert("x", "firing", t0, map[string]string{"svc": "other", "unwanted": "yes"})), DecisionOpened)
	want("opened a " + id)
	// A repeat is not an event the rules see; a second alert joins.
	outs = h.send(alert("a", "firing", t0.Add(time.Minute), svc), alert("b", "firing", t0.Add(2*time.Minute), svc))
	wantDecisions(t, outs, DecisionDeduplicated, DecisionAttached)
	want("opened a "+id, "attached b "+id)
	// A change of severity updates the OpsItem.
	crit := alert("a", "firing", t0.Add(3*time.Minute), svc)
	crit.Severity = event.SeverityCritical
	wantDecisions(t, h.send(crit), DecisionUpdated)
	want("opened a "+id, "attached b "+id, "updated a "+id)

	// Resolutions are not shown to the rules; the last one resolves the
	// OpsItem, as the automation says.
	auto.resolved = "automation:rule:test"
	h.send(alert("a", "resolved", t0.Add(4*time.Minute), svc), alert("b", "resolved", t0.Add(5*time.Minute), svc))
	want("opened a "+id, "attached b "+id, "updated a "+id)
	o := h.opsItem(id)
	if o.Status != "resolved" || o.ResolvedBy != "automation:rule:test" || len(auto.asked) != 1 {
		t.Fatalf("resolved %s by %q (asked %v)", o.Status, o.ResolvedBy, auto.asked)
	}
	tl, _ := h.st.ListTimeline(ctx, "acme", id)
	var seen, resolved int
	for _, e := range tl {
		switch {
		case e.Actor == "rule:test":
			seen++
		case e.Kind == "resolved" && e.Message == "all member alerts resolved; resolved by automation (rule:test)":
			resolved++
		}
	}
	if seen != 3 || resolved != 1 {
		t.Errorf("timeline %+v: %d automation lines, %d resolution lines", tl, seen, resolved)
	}

	// Resolved by automation is still the pipeline's resolution: firing
	// again within the flap window reopens it, and the rules see that.
	wantDecisions(t, h.send(alert("a", "firing", t0.Add(6*time.Minute), svc)), DecisionReopened)
	want("opened a "+id, "attached b "+id, "updated a "+id, "reopened a "+id)

	// Without an automation's say, the pipeline resolves as itself.
	auto.resolved = ""
	h.send(alert("a", "resolved", t0.Add(7*time.Minute), svc))
	if o := h.opsItem(id); o.Status != "resolved" || o.ResolvedBy != ResolvedBySystem {
		t.Errorf("resolved %s by %q, want %s", o.Status, o.ResolvedBy, ResolvedBySystem)
	}
}

// TestAutomationHeld: an alert held before opening reaches the rules when
// Tick releases it.
func TestAutomationHeld(t *testing.T) { runBoth(t, testAutomationHeld) }

func testAutomationHeld(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), groupByLabel{label: "svc", p: Params{Hold: 2 * time.Minute}})
	auto := &recordingAutomation{}
	h.en.Automation = auto
	wantDecisions(t, h.send(alert("a", "firing", t0, map[string]string{"svc": "db"})), DecisionHeld)
	if len(auto.calls) != 0 {
		t.Fatalf("held alert reached the rules: %q", auto.calls)
	}
	h.tick(t0.Add(3 * time.Minute))
	items := h.opsItems()
	if len(items) != 1 || len(auto.calls) != 1 || auto.calls[0] != "opened a "+items[0].ID {
		t.Fatalf("after the hold: items %+v, calls %q", items, auto.calls)
	}
	// The OpsItem lists the held event's resources, for runbooks that
	// target them.
	rs, err := h.st.ListOpsItemResources(context.Background(), "acme", items[0].ID)
	if err != nil || len(rs) != 1 || rs[0] != (store.OpsItemResource{Type: "host", ID: "web-a"}) {
		t.Errorf("resources after the hold: %+v, %v", rs, err)
	}
}

// TestAutomationRollsBack: when the automation fails, the event's
// processing fails with it — no OpsItem without its runbook.
func TestAutomationRollsBack(t *testing.T) { runBoth(t, testAutomationRollsBack) }

func testAutomationRollsBack(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	h.en.Automation = &recordingAutomation{fail: errors.New("store down")}
	err := h.st.InTx(context.Background(), func(tx store.Tx) error {
		_, _, err := h.en.Process(context.Background(), tx, "acme", []event.Event{alert("a", "firing", t0, nil)})
		return err
	})
	if err == nil || !errors.Is(err, h.en.Automation.(*recordingAutomation).fail) {
		t.Fatalf("Process = %v, want the automation's error", err)
	}
	if items := h.opsItems(); len(items) != 0 {
		t.Errorf("%d OpsItems committed without their automation", len(items))
	}
}
