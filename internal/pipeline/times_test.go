package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/stats"
)

// TestOpenedAfterHoldTimes: an OpsItem opened when a hold ends is created
// when it is opened (Tick's clock, here an hour after the alert, as when
// old events are replayed), its first_event_at is the alert's own time,
// and its timeline's "opened" is at its created_at.
func TestOpenedAfterHoldTimes(t *testing.T) { runBoth(t, testOpenedAfterHoldTimes) }

func testOpenedAfterHoldTimes(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{P: Params{Hold: 2 * time.Minute}})
	wantDecisions(t, h.send(alert("late", "firing", t0, nil)), DecisionHeld)
	opened := t0.Add(time.Hour)
	h.tick(opened)
	items := h.opsItems()
	if len(items) != 1 {
		t.Fatalf("%d OpsItems after the hold, want 1", len(items))
	}
	o := items[0]
	if !o.CreatedAt.Equal(opened) || !o.FirstEventAt.Equal(t0) {
		t.Errorf("created_at %s, first_event_at %s; want %s (when opened) and %s (the alert's time)", o.CreatedAt, o.FirstEventAt, opened, t0)
	}
	tl, err := h.st.ListTimeline(context.Background(), "acme", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range tl {
		if e.Kind == "opened" {
			found = true
			if !e.At.Equal(o.CreatedAt) {
				t.Errorf("timeline opened at %s, created_at %s: they disagree", e.At, o.CreatedAt)
			}
		}
	}
	if !found {
		t.Errorf("no opened entry in the timeline: %+v", tl)
	}
}

// TestOpenedWithoutHoldTimes: without a hold, an OpsItem for an old event
// is created when it is received, and first_event_at is the event's time.
func TestOpenedWithoutHoldTimes(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	ev := alert("old", "firing", t0, nil)
	ev.ReceivedAt = t0.Add(3 * time.Hour)
	wantDecisions(t, h.send(ev), DecisionOpened)
	o := h.opsItems()[0]
	if !o.CreatedAt.Equal(ev.ReceivedAt) || !o.FirstEventAt.Equal(t0) {
		t.Errorf("created_at %s, first_event_at %s; want %s and %s", o.CreatedAt, o.FirstEventAt, ev.ReceivedAt, t0)
	}
}

// TestStatsCountHeldOpsItemWhenOpened: an alert from a month ago, replayed
// and held, is opened now; the last week's flywheel figures count it, by
// the created_at the OpsItem shows.
func TestStatsCountHeldOpsItemWhenOpened(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{P: Params{Hold: 2 * time.Minute}})
	opened := t0.Add(30 * 24 * time.Hour)
	ev := alert("replayed", "firing", t0, nil)
	ev.ReceivedAt = opened.Add(-time.Minute)
	wantDecisions(t, h.send(ev), DecisionHeld)
	h.tick(opened)
	f, err := stats.Compute(context.Background(), h.st, "acme", opened.Add(-7*24*time.Hour), opened.Add(time.Minute), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Opened != 1 {
		t.Errorf("the last week's figures count %d OpsItems opened, want 1 (created_at %s)", f.Opened, h.opsItems()[0].CreatedAt)
	}
}
