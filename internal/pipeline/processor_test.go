package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/dedup"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// jsonParser re-parses bodies that are JSON arrays of events.
func jsonParser(_ context.Context, b store.IntakeBatch) ([]event.Event, error) {
	var evs []event.Event
	return evs, json.Unmarshal(b.Body, &evs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestCommitterAndProcessor(t *testing.T) { runBoth(t, testCommitterAndProcessor) }

func testCommitterAndProcessor(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	ctx := context.Background()
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: 50 * time.Millisecond, ScanEvery: 50 * time.Millisecond})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	p.Start(ctx)
	c.Start(ctx)
	const senders, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev := alert(fmt.Sprintf("fp-%d-%d", s, i%5), "firing", t0, nil)
				body, _ := json.Marshal([]event.Event{ev})
				errs <- c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all batches processed", func() bool {
		n, _ := h.st.CountUnprocessedIntake(ctx)
		return n == 0 && p.Backlog().Load() == 0
	})
	if n := len(h.opsItems()); n != senders*5 {
		t.Errorf("%d OpsItems, want %d (one per distinct fingerprint)", n, senders*5)
	}
	stats, err := h.st.NoiseTotals(ctx, "acme", t0.Add(-24*time.Hour), time.Now().Add(time.Hour))
	if err != nil || stats.Received != senders*each || stats.Opened != senders*5 || stats.Deduplicated != senders*each-senders*5 {
		t.Errorf("noise totals = %+v %v", stats, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Submit(ctx, "acme", "test", []byte("[]"), nil, nil); err != ErrStopped {
		t.Errorf("Submit after Stop = %v", err)
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRecoveryAfterCrash commits deliveries with no processor running (as
// if the process died right after answering 2xx), then starts a processor,
// which must find and process every one exactly once.
func TestRecoveryAfterCrash(t *testing.T) { runBoth(t, testRecoveryAfterCrash) }

func testRecoveryAfterCrash(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	ctx := context.Background()
	dead := make(chan []Work, 1) // nobody reads: the in-memory copies are lost
	var backlog = NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{}).Backlog()
	c := NewCommitter(h.st, dead, backlog, CommitterOptions{})
	c.Start(ctx)
	for i := range 20 {
		ev := alert(fmt.Sprintf("fp-%d", i%7), "firing", t0.Add(time.Duration(i)*time.Second), nil)
		body, _ := json.Marshal([]event.Event{ev})
		if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	c.Stop(ctx)
	if n, _ := h.st.CountUnprocessedIntake(ctx); n != 20 {
		t.Fatalf("%d unprocessed batches, want 20", n)
	}
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{})
	p.Start(ctx)
	waitFor(t, "recovery", func() bool { n, _ := h.st.CountUnprocessedIntake(ctx); return n == 0 })
	p.Stop(ctx)
	if n := len(h.opsItems()); n != 7 {
		t.Errorf("%d OpsItems after recovery, want 7", n)
	}
	// A second processor finds nothing left: no double processing.
	p2 := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{})
	p2.Start(ctx)
	p2.Stop(ctx)
	stats, _ := h.st.NoiseTotals(ctx, "acme", t0.Add(-time.Hour), time.Now().Add(time.Hour))
	if stats.Received != 20 {
		t.Errorf("received %d, want 20 (each delivery processed once)", stats.Received)
	}
}

func TestOverloadRefuses(t *testing.T) { runBoth(t, testOverloadRefuses) }

func testOverloadRefuses(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{MaxBacklog: 5})
	p.Backlog().Store(5)
	if err := c.Submit(context.Background(), "acme", "test", []byte("[]"), nil, nil); err != ErrOverloaded {
		t.Fatalf("Submit with a full backlog = %v, want ErrOverloaded", err)
	}
}

// Deliveries a scan processed while their copies waited in the hand-off (a
// processor that fell behind) are not run again: no transaction for the
// copies, and the backlog counts each delivery off once.
func TestScannedCopiesSkipped(t *testing.T) { runBoth(t, testScannedCopiesSkipped) }

func testScannedCopiesSkipped(t *testing.T, open opener) {
	h := newHarnessOn(t, open(t), ByFingerprint{})
	ctx := context.Background()
	var txs atomic.Int64
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{OnProcessed: func([]Outcome) { txs.Add(1) }})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	c.Start(ctx)
	for i := range 20 {
		ev := alert(fmt.Sprintf("fp-%d", i), "firing", t0.Add(time.Duration(i)*time.Second), nil)
		body, _ := json.Marshal([]event.Event{ev})
		if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	c.Stop(ctx)
	if len(p.in) == 0 || p.Backlog().Load() != 20 {
		t.Fatalf("hand-off holds %d groups, backlog %d; want copies waiting and 20", len(p.in), p.Backlog().Load())
	}
	p.scan(ctx, time.Now().Add(time.Hour)) // the processor is behind: a scan finds them all
	if n := txs.Load(); n != 1 {
		t.Fatalf("the scan ran %d transactions, want 1", n)
	}
	p.Start(ctx)
	waitFor(t, "the hand-off to be worked off", func() bool { return len(p.in) == 0 })
	p.Stop(ctx)
	if n := txs.Load(); n != 1 {
		t.Errorf("%d transactions in all, want 1 (the copies ran again)", n)
	}
	if n := p.Backlog().Load(); n != 0 {
		t.Errorf("backlog %d after all was processed", n)
	}
	stats, _ := h.st.NoiseTotals(ctx, "acme", t0.Add(-time.Hour), time.Now().Add(time.Hour))
	if stats.Received != 20 || len(h.opsItems()) != 20 {
		t.Errorf("received %d, %d OpsItems; want 20 and 20", stats.Received, len(h.opsItems()))
	}
}

// During a repeat flood the processor pauses between transactions so that
// repeats pile up (each alert written once), but a new alert arriving in
// the pause ends it at once: here the pause would be ten minutes.
func TestNewAlertEndsRepeatPause(t *testing.T) {
	defer func(d time.Duration) { maxLingerCached = d }(maxLingerCached)
	maxLingerCached = time.Hour
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	ctx := context.Background()
	decided := make(chan Outcome, 100)
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{Linger: 10 * time.Minute, TickEvery: time.Hour, ScanEvery: time.Hour,
		OnProcessed: func(outs []Outcome) {
			for _, o := range outs {
				decided <- o
			}
		}})
	p.Start(ctx)
	defer p.Stop(ctx)
	waitFor(t, "the first scan", func() bool { return p.scans.Load() > 0 })
	n := 0
	// send stores one delivery per fingerprint and hands them to the
	// processor together.
	send := func(fps ...string) {
		var ws []Work
		for _, fp := range fps {
			ev := alert(fp, "firing", t0, nil)
			body, _ := json.Marshal([]event.Event{ev})
			n++
			ws = append(ws, Work{Batch: store.IntakeBatch{ID: fmt.Sprintf("ib_%04d", n), TenantID: "acme", Source: "test", ReceivedAt: t0, Body: body},
				Events: []event.Event{ev}})
		}
		bs := make([]store.IntakeBatch, len(ws))
		for i := range ws {
			bs[i] = ws[i].Batch
		}
		if err := h.st.(store.IntakeAppender).AppendIntake(ctx, bs); err != nil {
			t.Fatal(err)
		}
		p.Input() <- ws
	}
	await := func(n int) []Outcome {
		t.Helper()
		var got []Outcome
		for len(got) < n {
			select {
			case o := <-decided:
				got = append(got, o)
			case <-time.After(20 * time.Second):
				t.Fatalf("%d of %d events decided after 20s", len(got), n)
			}
		}
		return got
	}
	var fps []string
	for i := range repeatFlood {
		fps = append(fps, fmt.Sprintf("fp%d", i))
	}
	send(fps...)
	await(repeatFlood)
	// A flood of repeats: the pause grows to ten minutes after it.
	send(fps...)
	await(repeatFlood)
	send(fps[:3]...) // waits in the pause
	send("brand-new")
	got := await(4)
	if got[3].Decision != DecisionOpened || got[0].Decision != DecisionDeduplicated {
		t.Fatalf("decisions %+v", got)
	}
}

// failOn is ByFingerprint but for one fingerprint, whose processing fails.
type failOn struct {
	ByFingerprint
	fp string
}

func (f failOn) Correlate(tenant string, e *event.Event) (Group, error) {
	if e.Fingerprint == f.fp {
		return Group{}, fmt.Errorf("cannot correlate %s", f.fp)
	}
	return f.ByFingerprint.Correlate(tenant, e)
}

// A delivery that keeps failing while others are processed is set aside
// after three failures: audited with its body and error, no longer
// unprocessed, and the deliveries after it are not held up.
func TestPoisonDeliverySetAside(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), failOn{fp: "poison"})
	ctx := context.Background()
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: time.Hour, ScanEvery: 20 * time.Millisecond})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	p.Start(ctx)
	c.Start(ctx)
	defer p.Stop(ctx)
	defer c.Stop(ctx)
	send := func(fp string) {
		ev := alert(fp, "firing", t0, nil)
		body, _ := json.Marshal([]event.Event{ev})
		if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	send("poison")
	var audited []store.AuditRecord
	for i := 0; len(audited) == 0; i++ {
		if i == 500 {
			t.Fatal("the failing delivery was not set aside")
		}
		send(fmt.Sprintf("good%d", i)) // successes between the poison's retries
		time.Sleep(10 * time.Millisecond)
		recs, _, err := h.st.ListAudit(ctx, "acme", store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		audited = slices.DeleteFunc(recs, func(r store.AuditRecord) bool { return r.Action != "intake.set_aside" })
	}
	r := audited[0]
	if !strings.Contains(r.Result, "cannot correlate poison") || !strings.Contains(string(r.Detail), `\"fingerprint\":\"poison\"`) ||
		!strings.Contains(string(r.Detail), `"failures":3`) {
		t.Fatalf("set-aside record: %+v %s", r, r.Detail)
	}
	waitFor(t, "nothing left unprocessed", func() bool {
		n, _ := h.st.CountUnprocessedIntake(ctx)
		return n == 0
	})
	if len(audited) != 1 {
		t.Fatalf("%d set-aside records", len(audited))
	}
}

// A new alert waits (up to Gather) for others to join its transaction:
// here the wait is an hour, so the first alert is processed only with the
// 63 that follow it, in one transaction.
func TestNewAlertsGather(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	ctx := context.Background()
	txs := make(chan int, 1000)
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{Gather: time.Hour, TickEvery: time.Hour, ScanEvery: time.Hour,
		OnProcessed: func(outs []Outcome) { txs <- len(outs) }})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	c.Start(ctx)
	defer c.Stop(ctx)
	p.Start(ctx)
	defer p.Stop(ctx)
	// Let the processor's first scan (of what a previous run left) find
	// nothing, or it would take the first alert on its own.
	waitFor(t, "the first scan", func() bool { return p.scans.Load() > 0 })
	send := func(fp string) {
		ev := alert(fp, "firing", t0, nil)
		body, _ := json.Marshal([]event.Event{ev})
		if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	send("first")
	time.Sleep(50 * time.Millisecond)
	for i := range gatherEvents - 1 {
		send(fmt.Sprintf("next%d", i))
	}
	select {
	case n := <-txs:
		if n != gatherEvents {
			t.Fatalf("first transaction processed %d events, want %d", n, gatherEvents)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing processed")
	}
}

// TestProcessorAppliesDedupRules: deliveries of one alert from two
// Prometheus replicas (fingerprints that differ by the replica label) are
// one alert once the processor has applied the dedup rules, whether they
// meet in one transaction or the second is a repeat of a cached alert.
func TestProcessorAppliesDedupRules(t *testing.T) {
	h := newHarnessOn(t, openSQLite(t), ByFingerprint{})
	reg := content.NewRegistry()
	reg.Register(dedup.Kind())
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"d.yaml": {Data: []byte(`apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: ha}
spec:
  sources: [alertmanager]
  ignore_labels: [replica]
`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if h.en.Dedup, err = dedup.Compile(set.Items(dedup.KindName)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := NewProcessor(h.st, h.en, jsonParser, ProcessorOptions{TickEvery: time.Hour, ScanEvery: 50 * time.Millisecond})
	c := NewCommitter(h.st, p.Input(), p.Backlog(), CommitterOptions{})
	p.Start(ctx)
	c.Start(ctx)
	defer p.Stop(ctx)
	defer c.Stop(ctx)
	for round, replicas := range [][]string{{"a", "b"}, {"b", "a", "b"}} {
		for _, r := range replicas {
			ev := alert("up-"+r, "firing", t0, map[string]string{"alertname": "Up", "replica": r})
			body, _ := json.Marshal([]event.Event{ev})
			if err := c.Submit(ctx, "acme", "test", body, nil, []event.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "all batches processed", func() bool {
			n, _ := h.st.CountUnprocessedIntake(ctx)
			return n == 0 && p.Backlog().Load() == 0
		})
		stats, err := h.st.NoiseTotals(ctx, "acme", t0.Add(-24*time.Hour), time.Now().Add(time.Hour))
		if n := len(h.opsItems()); err != nil || n != 1 || stats.Opened != 1 || stats.Deduplicated != stats.Received-1 {
			t.Fatalf("round %d: %d OpsItems, noise totals %+v %v; want one alert", round, n, stats, err)
		}
	}
}
