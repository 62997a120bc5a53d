package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestProcessorBoundsEvents: an intake event with a 1 MiB title,
// description, label and resource id is stored cut to the documented
// bounds, each cut field ending with the marker, and so is the OpsItem
// titled from it.
func TestProcessorBoundsEvents(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	ctx := context.Background()
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: time.Hour, ScanEvery: 50 * time.Millisecond})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	p.Start(ctx)
	c.Start(ctx)
	defer p.Stop(ctx)
	defer c.Stop(ctx)
	huge := strings.Repeat("é", 1<<19) // 1 MiB
	ev := alert("big", "firing", t0, map[string]string{"alertname": "Big", "note": huge, strings.Repeat("k", 1000): "v"})
	ev.Title, ev.Description = huge, huge
	ev.Resources = []event.ResourceRef{{Type: "host", ID: huge}}
	body, _ := json.Marshal([]event.Event{ev})
	if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the batch processed", func() bool {
		n, _ := h.st.CountUnprocessedIntake(ctx)
		return n == 0 && p.Backlog().Load() == 0
	})
	evs, _, err := h.st.ListEvents(ctx, "acme", store.EventFilter{}, store.Page{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %d, %v", len(evs), err)
	}
	e := evs[0]
	var res []event.ResourceRef
	if err := json.Unmarshal(e.Resources, &res); err != nil || len(res) != 1 {
		t.Fatalf("resources %s: %v", e.Resources, err)
	}
	for name, f := range map[string]struct {
		s     string
		limit int
	}{
		"title": {e.Title, event.MaxTitle}, "description": {e.Description, event.MaxDescription},
		"label note": {e.Labels["note"], event.MaxLabelValue}, "resource id": {res[0].ID, event.MaxResourceID},
	} {
		if len(f.s) > f.limit || !strings.HasSuffix(f.s, event.TruncatedMarker) {
			t.Errorf("%s: %d bytes ending %q, want at most %d ending with the marker", name, len(f.s), f.s[max(len(f.s)-20, 0):], f.limit)
		}
	}
	for k := range e.Labels {
		if len(k) > event.MaxLabelName {
			t.Errorf("a %d-byte label name was stored", len(k))
		}
	}
	items := h.opsItems()
	if len(items) != 1 || len(items[0].Title) > event.MaxTitle {
		t.Errorf("OpsItem title of %d bytes", len(items[0].Title))
	}
}

// TestHandoffBoundedInBytes: while the processor is busy, the hand-off
// holds no more than MaxHandoff bytes of deliveries (Work.weight); the
// deliveries left out are read back from the store as soon as it is empty
// (scans are an hour apart here), and every delivery is processed exactly
// once.
func TestHandoffBoundedInBytes(t *testing.T) { runBoth(t, testHandoffBoundedInBytes) }

func testHandoffBoundedInBytes(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	ctx := context.Background()
	// The first transaction's callback holds the processor busy until the
	// test lets it go.
	busy, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: time.Hour, ScanEvery: time.Hour,
		OnProcessed: func([]Outcome) { first.Do(func() { close(busy); <-release }) }})
	body := func(i int) ([]byte, []event.Event) {
		ev := alert(fmt.Sprintf("fp-%d", i), "firing", t0, nil)
		b, _ := json.Marshal([]event.Event{ev})
		return b, []event.Event{ev}
	}
	b0, e0 := body(0)
	one := (&Work{Batch: store.IntakeBatch{Body: b0}, Events: e0}).weight()
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{MaxHandoff: 3 * one, Handoff: p.Handoff()})
	p.Start(ctx)
	c.Start(ctx)
	defer p.Stop(ctx)
	defer c.Stop(ctx)
	if err := c.Submit(ctx, "acme", "test", b0, nil, e0); err != nil {
		t.Fatal(err)
	}
	<-busy
	const n = 10
	for i := 1; i < n; i++ {
		b, evs := body(i)
		if err := c.Submit(ctx, "acme", "test", b, nil, evs); err != nil {
			t.Fatal(err)
		}
	}
	if held := p.Handoff().Bytes(); held > 3*one || held <= 0 {
		t.Errorf("hand-off holds %d bytes, want 1..%d", held, 3*one)
	}
	if q := len(p.in); q == 0 || q > 3 {
		t.Errorf("%d deliveries in the hand-off, want 1..3", q)
	}
	close(release)
	waitFor(t, "every delivery processed", func() bool {
		u, _ := h.st.CountUnprocessedIntake(ctx)
		return u == 0
	})
	if held := p.Handoff().Bytes(); held != 0 {
		t.Errorf("hand-off counts %d bytes once empty, want 0", held)
	}
	stats, _ := h.st.NoiseTotals(ctx, "acme", t0.Add(-time.Hour), time.Now().Add(time.Hour))
	if stats.Received != n || stats.Opened != n {
		t.Errorf("received %d, opened %d; want %d each (each delivery processed once)", stats.Received, stats.Opened, n)
	}
}
