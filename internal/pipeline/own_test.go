package pipeline

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// TestOwnEventsNotCountedAsNoise: the fleet's events ("generic:fleet")
// open OpsItems like any other event, but the noise figures count only
// what monitored systems sent — one alert received, one opened — not
// Flywheel reporting on itself.
func TestOwnEventsNotCountedAsNoise(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	ctx := context.Background()
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: 50 * time.Millisecond, ScanEvery: 50 * time.Millisecond})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	p.Start(ctx)
	c.Start(ctx)
	defer p.Stop(ctx)
	defer c.Stop(ctx)
	own := alert("host-without-agent:web-03", "firing", t0, nil)
	own.Source = "generic:" + event.FleetSource
	own2 := alert("agent-not-reporting:ag_1", "firing", t0, nil)
	own2.Source = event.FleetSource
	for _, ev := range []event.Event{own, own2, alert("disk-full:db-01", "firing", t0, nil)} {
		body, _ := json.Marshal([]event.Event{ev})
		if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all batches processed", func() bool {
		n, _ := h.st.CountUnprocessedIntake(ctx)
		return n == 0 && p.Backlog().Load() == 0
	})
	if n := len(h.opsItems()); n != 3 {
		t.Errorf("%d OpsItems, want 3 (own events still open theirs)", n)
	}
	stats, err := h.st.NoiseTotals(ctx, "acme", t0.Add(-24*time.Hour), time.Now().Add(time.Hour))
	if err != nil || stats.Received != 1 || stats.Opened != 1 {
		t.Errorf("noise totals = %+v %v, want 1 received and 1 opened (the disk alert only)", stats, err)
	}
}
