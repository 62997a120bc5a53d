package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestBatchedProcessingMatchesEventByEvent feeds the same deliveries to the
// Processor, which runs several in one transaction through batchTx (cached
// alert state, added-up repeats, counters written in bulk) and on SQLite
// keeps alert state across transactions, and to the Engine one delivery per
// plain transaction: decisions and the resulting alerts, OpsItems and
// members must be the same.
func TestBatchedProcessingMatchesEventByEvent(t *testing.T) {
	runBoth(t, testBatchedProcessingMatches)
}

func testBatchedProcessingMatches(t *testing.T, open opener) {
	ctx := context.Background()
	corr := groupByLabel{label: "g", p: Params{Window: time.Hour, Resolve: "all", FlapChanges: 3, FlapWindow: 10 * time.Minute}}
	batched := newHarnessOn(t, open(t), corr)
	single := newHarnessOn(t, open(t), corr)

	rng := rand.New(rand.NewPCG(1, 2))
	fps := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	state := map[string]string{}
	var deliveries [][]event.Event
	for d := range 80 {
		n := 1 + rng.IntN(6)
		evs := make([]event.Event, n)
		for i := range evs {
			fp := fps[rng.IntN(len(fps))]
			status := "firing"
			if state[fp] == "firing" && rng.IntN(5) == 0 {
				status = "resolved"
			}
			state[fp] = status
			at := t0.Add(time.Duration(d)*time.Minute + time.Duration(i)*time.Second)
			evs[i] = alert(fp, status, at, map[string]string{"g": fmt.Sprint("g", slices.Index(fps, fp)%3)})
			if rng.IntN(10) == 0 {
				evs[i].Severity = event.SeverityCritical
			}
		}
		deliveries = append(deliveries, evs)
	}

	// Batched: every delivery committed, then processed in one call.
	p := NewProcessor(batched.st, batched.en, nil, ProcessorOptions{})
	work := make([]Work, len(deliveries))
	bs := make([]store.IntakeBatch, len(deliveries))
	for i, evs := range deliveries {
		bs[i] = store.IntakeBatch{ID: fmt.Sprintf("ib_%04d", i), TenantID: "acme", Source: "test", ReceivedAt: t0, Body: []byte("[]")}
		work[i] = Work{Batch: bs[i], Events: slices.Clone(evs)}
	}
	mustTx(t, batched.st, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
	var gotOuts []Outcome
	p.opts.OnProcessed = func(outs []Outcome) { gotOuts = append(gotOuts, outs...) }
	// In several transactions, so that (on SQLite) alert state also
	// carries over from one to the next through the Processor's cache.
	for len(work) > 0 {
		n := min(len(work), 7)
		if !p.process(ctx, work[:n]) {
			t.Fatal("batched processing failed")
		}
		work = work[n:]
	}
	var wantOuts []Outcome
	for _, evs := range deliveries {
		wantOuts = append(wantOuts, single.send(slices.Clone(evs)...)...)
	}
	if got, want := decisions(gotOuts), decisions(wantOuts); !slices.Equal(got, want) {
		t.Fatalf("decisions differ:\nbatched %v\nsingle  %v", got, want)
	}

	if got, want := snapshot(t, batched.st), snapshot(t, single.st); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored state differs:\nbatched %+v\nsingle  %+v", got, want)
	}
	t.Logf("decisions: %v", countDecisions(wantOuts))
	// The noise counters, added up per minute, count every event once.
	nb, err := batched.st.NoiseTotals(ctx, "acme", t0.Add(-time.Hour), t0.Add(48*time.Hour))
	if err != nil || nb.Received != int64(len(wantOuts)) {
		t.Fatalf("noise totals %+v (%v), want %d received", nb, err, len(wantOuts))
	}
}

func mustTx(t *testing.T, st store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := st.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// snapshot is the comparable pipeline state: alerts by fingerprint, and
// OpsItems (with their members) by group, without generated IDs.
func snapshot(t *testing.T, st store.Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	as, err := st.GetAlerts(ctx, "acme", []string{"a", "b", "c", "d", "e", "f", "g", "h"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		a.OpsItemID = ""
		out["alert "+a.Fingerprint] = a
	}
	items, _, err := st.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range items {
		ms, err := st.ListOpsItemMembers(ctx, "acme", o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ms {
			ms[i].OpsItemID = ""
		}
		key := fmt.Sprintf("opsitem %s %s", o.GroupKey, o.FirstEventAt.Format(time.RFC3339))
		o.ID, o.CreatedAt, o.UpdatedAt = "", time.Time{}, time.Time{}
		out[key] = []any{o, ms}
	}
	return out
}

func countDecisions(outs []Outcome) map[string]int {
	m := map[string]int{}
	for _, o := range outs {
		m[o.Decision]++
	}
	return m
}
