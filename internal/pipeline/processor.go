package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Parser re-parses a stored delivery (after a restart, or when the
// in-memory copy was dropped).
type Parser func(ctx context.Context, b store.IntakeBatch) ([]event.Event, error)

// ProcessorOptions configure a Processor.
type ProcessorOptions struct {
	Logger *slog.Logger
	Clock  func() time.Time
	// TickEvery is how often held and flapping alerts are re-examined.
	TickEvery time.Duration
	// ScanEvery is how often the store is scanned for unprocessed batches
	// (the in-memory hand-off covers the normal case).
	ScanEvery time.Duration
	// Linger is the least time between the starts of two processing
	// transactions while nearly all events are repeats (default 20ms,
	// doubling while they keep flooding in, up to 1s on SQLite, where
	// anything but a repeat ends the pause as it arrives, and 250ms on
	// PostgreSQL): repeats arriving meanwhile join the next transaction,
	// which writes each alert once.
	// Otherwise the processor starts the next transaction as soon as the
	// last one committed, with whatever arrived meanwhile — when processing
	// is slower than intake, transactions grow by themselves — waiting for
	// more only up to Gather. Negative: never linger.
	Linger time.Duration
	// Gather is the longest a new alert waits for others to join its
	// processing transaction (default 10ms; negative: no wait). See gather.
	Gather time.Duration
	// OnProcessed is called after each committed processing transaction
	// (tests and the UI's live updates use it).
	OnProcessed func(outcomes []Outcome)
}

// Processor feeds committed deliveries through the Engine, each batch
// claimed and processed in one transaction, so a crash never loses or
// double-processes a delivery.
type Processor struct {
	st    store.Store
	en    atomic.Pointer[Engine] // swapped whole by SetEngine (content reload)
	parse Parser
	opts  ProcessorOptions
	in    chan []Work
	// gathered is the slice the next transaction's work is gathered in.
	gathered []Work
	// linger is the current pause between transactions (see adapt).
	linger time.Duration
	// perEvent is the recent processing cost per event (see cut).
	perEvent time.Duration
	// burst is set while a large backlog is worked off (see afterBurst).
	burst    bool
	released time.Time
	// alerts carries alert state across transactions when this process is
	// the only writer of it (SQLite); nil otherwise.
	alerts *alertCache
	// scanned holds the deliveries a scan processed while copies of them
	// may still wait in the hand-off (see unscanned).
	scanned map[string]bool
	// okTx counts committed processing transactions; strikes the failures
	// of deliveries that failed alone (see strike).
	okTx    int
	strikes map[string]strike
	began   time.Duration // how long the last transaction waited to begin
	scans   atomic.Int64  // scans finished (tests)
	back    atomic.Int64
	hand    Handoff // shared with the Committer
	// readLeft is how many deliveries the Committer had left out of the
	// hand-off at the last read-back (see readBack).
	readLeft int64
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	start    sync.Once
}

// NewProcessor returns a processor; Input and Backlog connect a Committer.
func NewProcessor(st store.Store, en *Engine, parse Parser, o ProcessorOptions) *Processor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TickEvery <= 0 {
		o.TickEvery = time.Second
	}
	if o.ScanEvery <= 0 {
		o.ScanEvery = 2 * time.Second
	}
	if o.Linger == 0 {
		o.Linger = 20 * time.Millisecond
	}
	if o.Gather == 0 {
		o.Gather = 10 * time.Millisecond
	}
	p := &Processor{st: st, parse: parse, opts: o, in: make(chan []Work, handoff), stop: make(chan struct{}), done: make(chan struct{}),
		scanned: map[string]bool{}, strikes: map[string]strike{}}
	p.en.Store(en)
	if st.Driver() == "sqlite" {
		// One process holds a SQLite database, and in it only the
		// Processor writes alert state.
		p.alerts = newAlertCache(alertCacheSize, alertCacheBytes)
	}
	return p
}

// SetEngine replaces the engine (a content reload): batches already being
// processed finish with the engine they started with, later ones use en.
func (p *Processor) SetEngine(en *Engine) { p.en.Store(en) }

// Input is where a Committer sends committed work.
func (p *Processor) Input() chan<- []Work { return p.in }

// Backlog counts committed events not yet processed.
func (p *Processor) Backlog() *atomic.Int64 { return &p.back }

// Handoff is what the processor shares with its Committer
// (CommitterOptions.Handoff) about the in-memory hand-off.
func (p *Processor) Handoff() *Handoff { return &p.hand }

// took takes ws's weight off the hand-off's; call it for work as it comes
// out of the hand-off, before it is changed.
func (p *Processor) took(ws []Work) []Work {
	var n int64
	for i := range ws {
		n += ws[i].weight()
	}
	p.hand.bytes.Add(-n)
	return ws
}

// readBack processes, once the hand-off is empty, the deliveries the
// Committer left out of it (it was full) since the last read-back, reading
// them from the store scanBatch at a time: the memory a storm takes is the
// hand-off's bound and one transaction's, not the backlog's, and the
// processor does not sit idle until the next scan while they wait.
func (p *Processor) readBack(ctx context.Context) {
	left := p.hand.left.Load()
	if left == p.readLeft || len(p.in) > 0 {
		return
	}
	p.readLeft = left
	p.scan(ctx, p.opts.Clock())
}

// Start processes until Stop; it first recovers batches left unprocessed
// by a previous run.
func (p *Processor) Start(ctx context.Context) {
	p.start.Do(func() { go p.loop(context.WithoutCancel(ctx)) })
}

// Stop finishes the work in hand and returns; what is left stays in the
// store, unprocessed, for the next start.
func (p *Processor) Stop(ctx context.Context) error {
	p.once.Do(func() { close(p.stop) })
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Processor) loop(ctx context.Context) {
	defer close(p.done)
	p.scan(ctx, p.opts.Clock().Add(time.Hour)) // everything left by a previous run
	tick := time.NewTicker(p.opts.TickEvery)
	defer tick.Stop()
	scan := time.NewTicker(p.opts.ScanEvery)
	defer scan.Stop()
	var last time.Time // when the last processing transaction started
	for {
		select {
		case <-p.stop:
			for {
				select {
				case w := <-p.in:
					p.process(ctx, p.took(w))
				default:
					return
				}
			}
		case w := <-p.in:
			// Gathered into one slice kept from transaction to transaction:
			// growing a fresh one to thousands of deliveries each time was
			// a good part of what a repeat flood allocates.
			if w = p.gather(append(p.gathered[:0], p.unscanned(p.took(w))...), last.Add(p.linger)); len(w) > 0 {
				last = time.Now()
				p.process(ctx, w)
			}
			clear(w) // no bodies kept alive until the next transaction
			p.gathered = w[:0]
			p.readBack(ctx)
			p.afterScan()
			p.afterBurst()
		case <-tick.C:
			p.tick(ctx)
		case <-scan.C:
			p.scan(ctx, p.opts.Clock().Add(-p.opts.ScanEvery))
			p.afterScan()
			p.afterBurst()
		}
	}
}

// handoff is how many committed groups of deliveries (with a journal that
// appends each delivery at once, single deliveries) may wait for the
// processor in memory while it runs a transaction: 65,536 is four seconds
// of batch-1 alerts at 16,000/s. Past it the Committer drops its copy and
// the processor finds the deliveries in the store, seconds later. Memory is
// bounded by the Committer handing over bodies, not parsed events, once far
// behind (MaxParsed).
const handoff = 65536

// alertCacheSize and alertCacheBytes bound the alert states kept across
// transactions: 4 MiB holds about 5,000 typical Prometheus alerts (their
// labels are most of an entry), the re-sent active alerts of a large
// Prometheus; beyond that a transaction reads the others in one query.
const (
	alertCacheSize  = 16384
	alertCacheBytes = 4 << 20
)

// Bounds on one processing transaction, which holds the single writer
// (cut keeps it to about maxTxTime besides). maxTxWork lets a repeat
// flood's pause run its second: at 16,000 batch-1 alerts/s, 4,096
// deliveries ended it after a quarter of one, and every alert's counters
// were written four times a second instead of once.
const (
	maxTxWork   = 16384
	maxTxEvents = 20000
)

// gather adds to w whatever else is waiting and, until the given time, what
// arrives: under load the processor runs a few large transactions (each
// alert's repeats written once, one commit) rather than one per delivery;
// the pause is there only during a repeat flood (see adapt).
func (p *Processor) gather(w []Work, until time.Time) []Work {
	n := 0
	for i := range w {
		n += w[i].size()
	}
	add := func(more []Work) {
		more = p.unscanned(more)
		w = append(w, more...)
		for i := range more {
			n += more[i].size()
		}
	}
	full := func() bool { return len(w) >= maxTxWork || n >= maxTxEvents }
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		for !full() {
			select {
			case more := <-p.in:
				p.took(more)
				rep := p.repeats(more) // before add, which copies the Work it dedups
				add(more)
				if rep {
					continue
				}
				// Something new: process it now, not after the pause.
				p.linger = 0
			case <-t.C:
			case <-p.stop:
			}
			break
		}
	}
	for !full() {
		select {
		case more := <-p.in:
			add(p.took(more))
			continue
		default:
		}
		break
	}
	// A few new alerts: wait for more, up to Gather after the oldest was
	// accepted. A transaction's cost is mostly per transaction (each
	// table and index it touches is a page written at commit), so one of
	// fifteen alerts costs half as much per alert as one of three; the
	// CPU saved is what keeps the latency tail short at 1,000 alerts/s. A
	// processor that is behind waits for nothing.
	if n < gatherEvents && !full() {
		var oldest time.Time
		for i := range w {
			if a := w[i].accepted; !a.IsZero() && (oldest.IsZero() || a.Before(oldest)) {
				oldest = a
			}
		}
		if wait := p.opts.Gather - time.Since(oldest); !oldest.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
		more:
			for n < gatherEvents && !full() {
				select {
				case more := <-p.in:
					add(p.took(more))
				case <-t.C:
					break more
				case <-p.stop:
					break more
				}
			}
		}
	}
	return w
}

// gatherEvents is how many events end the wait for more (see gather).
const gatherEvents = 64

// A burst is a backlog of at least burstEvents; once one is worked off the
// processor hands the memory it took back to the operating system (at most
// every releaseEvery): the Go runtime otherwise returns it over minutes,
// and a server that has absorbed an alert storm should not keep the
// storm's footprint. A release is a full collection of what is left (tens
// of milliseconds); a burst worked off within releaseEvery of the last one
// waited for the next scan past it, up to that long holding its memory.
const (
	burstEvents  = 20_000
	releaseEvery = 5 * time.Second
)

func (p *Processor) afterBurst() {
	n := p.back.Load()
	if n >= burstEvents {
		p.burst = true
		return
	}
	// The hand-off may still hold deliveries a scan processed meanwhile
	// (their bodies and parsed events): release once it is empty too, or
	// they outlive the collection as garbage no later one returns.
	if n == 0 && len(p.in) == 0 && p.burst && time.Since(p.released) >= releaseEvery {
		p.burst, p.released = false, time.Now()
		debug.FreeOSMemory()
	}
}

func (p *Processor) scan(ctx context.Context, before time.Time) {
	defer p.scans.Add(1)
	for {
		bs, err := p.st.UnprocessedIntake(ctx, before, scanBatch)
		if err != nil {
			p.opts.Logger.Error("scan unprocessed intake", "error", err)
			return
		}
		if len(bs) == 0 {
			return
		}
		work := make([]Work, len(bs))
		for i, b := range bs {
			work[i] = Work{Batch: b}
		}
		ok := p.process(ctx, work)
		if ok {
			for _, b := range bs {
				p.scanned[b.ID] = true
			}
		}
		if !ok || len(bs) < scanBatch {
			return
		}
	}
}

// unscanned drops from w the deliveries a scan already processed. A scan
// finds what the hand-off dropped when it overflowed, but also what still
// waits in it, processed already by the time its copy comes out: without
// this each copy cost a transaction that claimed nothing (4,096 of them
// after a storm, seconds of the processor's time) and was counted off the
// backlog twice. Correctness does not depend on it: a transaction claims
// only what nobody processed.
func (p *Processor) unscanned(w []Work) []Work {
	if len(p.scanned) == 0 {
		return w
	}
	return slices.DeleteFunc(w, func(x Work) bool {
		if p.scanned[x.Batch.ID] {
			delete(p.scanned, x.Batch.ID)
			return true
		}
		return false
	})
}

// afterScan forgets what scans processed once the hand-off is empty: no
// copy of it can come out any more (but for one being handed over just now,
// which its transaction then finds processed).
func (p *Processor) afterScan() {
	if len(p.in) == 0 {
		clear(p.scanned)
	}
}

func (p *Processor) tick(ctx context.Context) {
	var tx *batchTx
	err := p.st.InTx(ctx, func(stx store.Tx) error {
		tx = newBatchTx(stx, p.alerts)
		counts, err := p.en.Load().Tick(ctx, tx, p.opts.Clock())
		if err != nil {
			return err
		}
		for tenant, c := range counts {
			if err := addNoise(ctx, tx, tenant, p.opts.Clock(), c); err != nil {
				return err
			}
		}
		return tx.flush(ctx)
	})
	if err != nil {
		p.alerts.reset()
		p.opts.Logger.Error("pipeline tick", "error", err)
		return
	}
	tx.committed()
}

// process runs work in transactions of about maxTxTime each; see
// processChunk.
func (p *Processor) process(ctx context.Context, work []Work) bool {
	ok := true
	for len(work) > 0 {
		k := p.cut(work)
		ok = p.processChunk(ctx, work[:k]) && ok
		work = work[k:]
	}
	return ok
}

// maxTxTime is about how long one processing transaction may hold the
// single writer of the main database (API changes, jobs and audit wait);
// firstPerEvent is the cost per event assumed before any was measured.
const (
	maxTxTime     = 100 * time.Millisecond
	firstPerEvent = 50 * time.Microsecond
)

// scanBatch is how many stored deliveries a scan reads at a time.
const scanBatch = 64

// cut returns how many of work the next transaction takes: about
// maxTxTime's worth at the cost per event seen so far (repeats cost a few
// microseconds, a new alert that opens an OpsItem a few hundred).
func (p *Processor) cut(work []Work) int {
	per := p.perEvent
	if per == 0 {
		per = firstPerEvent
	}
	budget := min(max(int(maxTxTime/per), 64), maxTxEvents)
	n := 0
	for i := range work {
		n += work[i].size()
		if n > budget && i > 0 {
			return i
		}
	}
	return len(work)
}

// processChunk runs work in one transaction; on failure it retries each
// batch alone so one poison delivery cannot block the rest.
func (p *Processor) processChunk(ctx context.Context, work []Work) bool {
	start := time.Now()
	outs, err := p.processTx(ctx, work)
	if err == nil {
		if p.opts.Logger.Enabled(ctx, slog.LevelDebug) {
			p.opts.Logger.Debug("processing transaction", "deliveries", len(work), "events", len(outs), "took", time.Since(start), "begin", p.began,
				"oldest_wait", start.Sub(work[0].Batch.ReceivedAt), "backlog", p.back.Load())
		}
		if len(outs) > 0 {
			// Moving average of the cost per event.
			per := time.Since(start) / time.Duration(len(outs))
			if p.perEvent == 0 {
				p.perEvent = per
			} else {
				p.perEvent = (4*p.perEvent + per) / 5
			}
		}
		p.done1(work, outs)
		return true
	}
	if len(work) == 1 {
		p.strike(ctx, work[0], err)
		return false
	}
	ok := true
	for _, w := range work {
		outs, err := p.processTx(ctx, []Work{w})
		if err != nil {
			p.strike(ctx, w, err)
			ok = false
			continue
		}
		p.done1([]Work{w}, outs)
	}
	return ok
}

// A delivery that fails processing on its own poisonStrikes times, with
// other deliveries processed in between each time (so not while the
// database is down), is set aside: recorded in the audit log with its body
// and error (action intake.set_aside) and counted processed. Otherwise it
// would be retried forever and, on SQLite, hold every later delivery's
// journal segment on disk.
const (
	poisonStrikes = 3
	maxSetAside   = 64 << 10 // bytes of the body the record keeps
)

type strike struct {
	n, okTx int
}

func (p *Processor) strike(ctx context.Context, w Work, err error) {
	s := p.strikes[w.Batch.ID]
	if s.n == 0 || p.okTx > s.okTx {
		s.n++
		s.okTx = p.okTx
	}
	p.strikes[w.Batch.ID] = s
	if s.n < poisonStrikes {
		p.opts.Logger.Error("processing a delivery failed; it stays unprocessed", "batch", w.Batch.ID, "failures", s.n, "error", err)
		return
	}
	body := string(w.Batch.Body)
	if len(body) > maxSetAside {
		body = body[:maxSetAside]
	}
	var claimed []string
	serr := p.st.InTx(ctx, func(tx store.Tx) error {
		var err2 error
		if claimed, err2 = tx.ClaimIntakeBatches(ctx, []string{w.Batch.ID}); err2 != nil || len(claimed) == 0 {
			return err2
		}
		_, err2 = audit.Append(ctx, tx, w.Batch.TenantID, p.opts.Clock(), audit.Entry{Actor: "system:pipeline", Action: "intake.set_aside",
			Target: "intake/" + w.Batch.ID, Result: "failed: " + err.Error(),
			Detail: map[string]any{"source": w.Batch.Source, "received_at": w.Batch.ReceivedAt, "failures": s.n,
				"body": body, "body_bytes": len(w.Batch.Body)}})
		return err2
	})
	if serr != nil {
		p.opts.Logger.Error("setting a failing delivery aside failed; it stays unprocessed", "batch", w.Batch.ID, "error", serr)
		return
	}
	delete(p.strikes, w.Batch.ID)
	p.opts.Logger.Error("a delivery failed processing repeatedly and was set aside (audit action intake.set_aside)",
		"batch", w.Batch.ID, "failures", s.n, "error", err)
	if len(claimed) > 0 {
		p.done1([]Work{w}, nil)
	}
}

func (p *Processor) done1(work []Work, outs []Outcome) {
	p.okTx++
	for i := range work {
		if len(p.strikes) == 0 {
			break
		}
		delete(p.strikes, work[i].Batch.ID)
	}
	var n int64
	for i := range work {
		n += int64(work[i].size())
	}
	p.adapt(outs)
	if p.back.Add(-n) < 0 {
		p.back.Store(0)
	}
	if p.opts.OnProcessed != nil {
		p.opts.OnProcessed(outs)
	}
}

// adapt sets the pause before the next transaction from this one. A
// transaction of (almost) only repeats — a Prometheus re-sending its active
// alerts — costs a counter update per alert however many repeats it holds,
// so while they flood in the processor gathers longer (from Linger, doubling
// up to maxLinger); anything else ends the pause at once, so new alerts are
// not held back when it matters.
func (p *Processor) adapt(outs []Outcome) {
	if p.opts.Linger <= 0 {
		return
	}
	dup := 0
	for _, o := range outs {
		if o.Decision == DecisionDeduplicated {
			dup++
		}
	}
	if len(outs) >= repeatFlood && dup*10 >= len(outs)*9 {
		most := maxLinger
		if p.alerts != nil {
			most = maxLingerCached
		}
		p.linger = min(max(2*p.linger, p.opts.Linger), most)
	} else {
		p.linger = 0
	}
}

// A repeat flood is a transaction of at least repeatFlood events, nine in
// ten repeats; during one the pause grows up to maxLinger, or to
// maxLingerCached where the alert cache tells repeats from new alerts as
// they arrive (anything new ends the pause at once, see repeats).
const (
	repeatFlood = 16
	maxLinger   = 250 * time.Millisecond
)

var maxLingerCached = time.Second // a variable for tests

// dedup bounds w's events' fields (event.Bound) and applies the dedup
// rules to them, once: the repeat check,
// the prefetch and the engine all need the deduplicated fingerprints, and
// applying a rule keys and hashes every label.
func (p *Processor) dedup(w *Work) {
	if w.deduped {
		return
	}
	dd := p.en.Load().Dedup.ForTenant(w.Batch.TenantID)
	for j := range w.Events {
		// Bounded before anything keys on it or stores it.
		event.Bound(&w.Events[j])
		dd.Apply(&w.Events[j])
	}
	w.deduped = true
}

// repeats reports whether every event of ws repeats an alert the alert
// cache holds with the same status and severity (what a Prometheus
// re-sending its firing alerts sends): those may wait for the end of a
// pause. Without the cache (PostgreSQL) nothing ends a pause early.
func (p *Processor) repeats(ws []Work) bool {
	if p.alerts == nil {
		return true
	}
	for i := range ws {
		w := &ws[i]
		if w.Events == nil {
			return false
		}
		p.dedup(w) // the fingerprint processTx will look up
		for j := range w.Events {
			e := &w.Events[j]
			a, ok := p.alerts.get(alertKey{w.Batch.TenantID, e.Fingerprint})
			if !ok || a.Status != string(e.Status) || a.Severity != string(e.Severity) {
				return false
			}
		}
	}
	return true
}

func (p *Processor) processTx(ctx context.Context, work []Work) ([]Outcome, error) {
	en := p.en.Load() // one engine for the transaction, across a reload
	var all []Outcome
	var tx *batchTx
	asked := time.Now()
	err := p.st.InTx(ctx, func(stx store.Tx) error {
		p.began = time.Since(asked)
		all = all[:0]
		tx = newBatchTx(stx, p.alerts)
		ids := make([]string, len(work))
		for i := range work {
			ids[i] = work[i].Batch.ID
		}
		claimed, err := tx.ClaimIntakeBatches(ctx, ids)
		if err != nil {
			return err
		}
		// Batches not claimed were processed already (by us before a
		// crash, or by another replica).
		mine := make(map[string]bool, len(claimed))
		for _, id := range claimed {
			mine[id] = true
		}
		fps := map[string][]string{}
		for i := range work {
			w := &work[i]
			if !mine[w.Batch.ID] {
				continue
			}
			if w.Events == nil {
				if w.Events, err = p.parse(ctx, w.Batch); err != nil {
					return fmt.Errorf("re-parse batch %s: %w", w.Batch.ID, err)
				}
				for j := range w.Events {
					w.Events[j].ReceivedAt = w.Batch.ReceivedAt
				}
			}
			p.dedup(w) // the fingerprints the engine will look up
			for j := range w.Events {
				fps[w.Batch.TenantID] = append(fps[w.Batch.TenantID], w.Events[j].Fingerprint)
			}
		}
		for tenant, list := range fps {
			if err := tx.prefetch(ctx, tenant, list); err != nil {
				return err
			}
		}
		type minute struct {
			tenant string
			at     time.Time
		}
		var noise []minute
		counts := map[minute]*Counts{}
		for i := range work {
			w := &work[i]
			if !mine[w.Batch.ID] {
				continue
			}
			outs, c, err := en.processDeduped(ctx, tx, w.Batch.TenantID, w.Events)
			if err != nil {
				return err
			}
			all = append(all, outs...)
			k := minute{w.Batch.TenantID, w.Batch.ReceivedAt.Truncate(time.Minute)}
			if counts[k] == nil {
				counts[k] = &Counts{}
				noise = append(noise, k)
			}
			counts[k].add(c)
		}
		for _, k := range noise {
			if err := addNoise(ctx, tx, k.tenant, k.at, *counts[k]); err != nil {
				return err
			}
		}
		return tx.flush(ctx)
	})
	if err != nil {
		p.alerts.reset()
		return all, err
	}
	tx.committed()
	return all, nil
}

// add sums o into c.
func (c *Counts) add(o Counts) {
	c.Received += o.Received
	c.Deduplicated += o.Deduplicated
	c.Opened += o.Opened
	if len(o.Suppressed) > 0 && c.Suppressed == nil {
		c.Suppressed = map[string]int64{}
	}
	for k, n := range o.Suppressed {
		c.Suppressed[k] += n
	}
}

func addNoise(ctx context.Context, tx store.Tx, tenant string, at time.Time, c Counts) error {
	if tenant == "" || (c.Received == 0 && c.Opened == 0 && len(c.Suppressed) == 0) {
		return nil
	}
	return tx.AddNoise(ctx, store.NoiseBucket{TenantID: tenant, Minute: at.Truncate(time.Minute), Received: c.Received,
		Deduplicated: c.Deduplicated, Opened: c.Opened, Suppressed: c.Suppressed})
}
