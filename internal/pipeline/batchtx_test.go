package pipeline

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
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
	// "a" and "e" assert their host is down, which inhibits the other
	// alerts of that host while they fire.
	batched.en.Inhibitor, single.en.Inhibitor = stubInhibitor{}, stubInhibitor{}

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
			labels := map[string]string{"g": fmt.Sprint("g", slices.Index(fps, fp)%3), "host": fmt.Sprint("h", slices.Index(fps, fp)%2)}
			if fp == "a" || fp == "e" {
				labels["down"] = "true"
			}
			evs[i] = alert(fp, status, at, labels)
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
	// The audit chains hold the same actions in the same order, and the
	// batched one verifies.
	auditOf := func(st store.Store) []string {
		var acts []string
		if err := st.ScanAudit(ctx, "acme", 0, func(r store.AuditRecord) error {
			acts = append(acts, fmt.Sprint(r.Seq, r.Action))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return acts
	}
	if got, want := auditOf(batched.st), auditOf(single.st); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("audit: batched %v, single %v", got, want)
	}
	if rep, err := audit.Verify(ctx, batched.st, "acme"); err != nil || !rep.OK() {
		t.Fatalf("batched audit chain: %+v, %v", rep, err)
	}
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
		rs, err := st.ListOpsItemResources(ctx, "acme", o.ID)
		if err != nil {
			t.Fatal(err)
		}
		tl, err := st.ListTimeline(ctx, "acme", o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range tl {
			lines = append(lines, e.At.Format(time.RFC3339)+" "+e.Kind+" "+e.Message)
		}
		key := fmt.Sprintf("opsitem %s %s", o.GroupKey, o.FirstEventAt.Format(time.RFC3339))
		o.ID, o.CreatedAt, o.UpdatedAt = "", time.Time{}, time.Time{}
		out[key] = []any{o, ms, rs, lines}
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

// Audit records appended through batchTx chain exactly as the store chains
// them, before and after records appended directly.
func TestBatchTxAuditChain(t *testing.T) { runBoth(t, testBatchTxAuditChain) }

func testBatchTxAuditChain(t *testing.T, open opener) {
	ctx := context.Background()
	h := newHarnessOn(t, open(t), ByFingerprint{})
	appendN := func(tx store.Tx, n int, action string) {
		for i := range n {
			if _, err := audit.Append(ctx, tx, "acme", t0.Add(time.Duration(i)*time.Second), audit.Entry{Actor: "system:pipeline", Action: action,
				Detail: map[string]int{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustTx(t, h.st, func(tx store.Tx) error { appendN(tx, 2, "before"); return nil })
	mustTx(t, h.st, func(tx store.Tx) error {
		b := newBatchTx(tx, nil)
		appendN(b, 5, "batched")
		if rs, _, err := b.SearchAudit(ctx, "acme", store.AuditFilter{Action: "batched"}, store.Page{Limit: 100}); err != nil || len(rs) != 5 {
			t.Errorf("search inside the transaction: %d records, %v; want the 5 appended", len(rs), err)
		}
		if seq, _, err := b.AuditHead(ctx, "acme"); err != nil || seq != 7 {
			t.Fatalf("head inside the transaction: %d, %v", seq, err)
		}
		appendN(b, 3, "batched")
		return b.flush(ctx)
	})
	mustTx(t, h.st, func(tx store.Tx) error { appendN(tx, 1, "after"); return nil })
	rep, err := audit.Verify(ctx, h.st, "acme")
	if err != nil || !rep.OK() || rep.Records != 11 {
		t.Fatalf("chain: %+v, %v", rep, err)
	}
}

// TestOnlyCountersSeesEveryField changes each field of store.Alert in turn:
// a change to a repeat's counters keeps the alert counters-only, a change
// to anything else must not (else flush would write only the counters and
// lose the change). A field added to store.Alert without a comparison in
// onlyCounters fails here.
func TestOnlyCountersSeesEveryField(t *testing.T) {
	base := store.Alert{TenantID: "t", Fingerprint: "fp", Source: "s", Title: "x", Severity: "warning", Status: "firing",
		Labels: map[string]string{"a": "1"}, FirstSeen: t0, LastSeen: t0, LastChange: t0, Occurrences: 1, OpsItemID: "o",
		Changes: []time.Time{t0}, HeldUntil: t0, Rule: "r", GroupKey: "g", Suppressed: "silence", SourceUpdatedAt: t0}
	counters := map[string]bool{"Occurrences": true, "LastSeen": true, "SourceUpdatedAt": true}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		cur := base
		cur.Labels = maps.Clone(base.Labels)
		cur.Changes = slices.Clone(base.Changes)
		v := reflect.ValueOf(&cur).Elem().Field(i)
		switch x := v.Addr().Interface().(type) {
		case *string:
			*x += "+"
		case *int64:
			*x++
		case *bool:
			*x = !*x
		case *time.Time:
			*x = x.Add(time.Second)
		case *map[string]string:
			(*x)["b"] = "2"
		case *[]time.Time:
			*x = append(*x, t0.Add(time.Minute))
		default:
			t.Fatalf("field %s: type %s not covered by this test", f.Name, f.Type)
		}
		if got, want := onlyCounters(&base, &cur), counters[f.Name]; got != want {
			t.Errorf("changing %s: onlyCounters = %v, want %v", f.Name, got, want)
		}
	}
	if !onlyCounters(&base, &base) {
		t.Error("an unchanged alert is not counters-only")
	}
}

// What batchTx holds no copy of still sees what it holds pending (it
// flushes first), and a batched write that would go around its pending
// state is refused, not let through to leave it stale.
func TestBatchTxNarrowForwards(t *testing.T) {
	ctx := context.Background()
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	mustTx(t, h.st, func(tx store.Tx) error {
		b := newBatchTx(tx, nil)
		o := store.OpsItem{ID: store.NewID("oi", t0), TenantID: "acme", Title: "x", Category: "operations", Severity: "high",
			Status: "open", Source: "test", Rule: "by-host", GroupKey: "web-1", CreatedAt: t0, UpdatedAt: t0}
		if err := b.CreateOpsItem(ctx, o); err != nil {
			t.Fatal(err)
		}
		var groups []string
		if err := b.OpsItemGroups(ctx, "acme", func(rule, key string) error { groups = append(groups, rule+"/"+key); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(groups, "by-host/web-1") {
			t.Errorf("groups %v lack the OpsItem created in the transaction", groups)
		}
		if err := b.CreateOpsItems(ctx, []store.OpsItem{o}); err == nil || !strings.Contains(err.Error(), "CreateOpsItems") {
			t.Errorf("CreateOpsItems through batchTx: %v, want refused", err)
		}
		if _, _, err := b.TakeAuditHead(ctx, "acme"); err == nil {
			t.Error("TakeAuditHead through batchTx was let through")
		}
		return b.flush(ctx)
	})
}
