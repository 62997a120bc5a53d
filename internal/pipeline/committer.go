package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ErrOverloaded is returned by Submit when the intake queue or the
// unprocessed backlog is full; the sender should retry later (503).
var ErrOverloaded = errors.New("intake is overloaded; retry later")

// ErrStopped is returned by Submit after Stop.
var ErrStopped = errors.New("intake is shutting down")

// CommitterOptions bound the group commit.
type CommitterOptions struct {
	// MaxQueue is how many submissions may wait for a commit (default 4096).
	MaxQueue int
	// MaxBatch is how many submissions one transaction commits (default 512).
	MaxBatch int
	// MaxBacklog is how many committed-but-unprocessed events are allowed
	// before new deliveries are refused (default 500,000).
	MaxBacklog int64
	// MaxParsed is how many committed-but-unprocessed events the
	// hand-off to the Processor may hold parsed (default 20,000); beyond
	// it deliveries are handed over as their bodies, which bounds memory
	// when intake outruns processing.
	MaxParsed int64
	// MaxHandoff bounds the bytes of the deliveries waiting in the
	// hand-off to the Processor (their bodies and parsed events, as
	// Work.weight estimates them; default 32 MiB, or an eighth of a
	// memory limit (GOMEMLIMIT) below 256 MiB): past it a delivery is not
	// handed over, and the Processor reads it back from the store. With
	// MaxParsed alone, a storm of deliveries of 100 alerts kept up to the
	// backlog bound's bodies in memory (500,000 events, ~175 MB).
	MaxHandoff int64
	// Handoff is shared with the Processor (Processor.Handoff): the bytes
	// waiting, and the deliveries left out, which the Processor reads
	// back as soon as the hand-off is empty. Nil: no bound in bytes, and
	// what is left out waits for the Processor's next scan.
	Handoff *Handoff
	// MaxDelay is the longest a commit waits for the senders of the
	// previous one to submit again (default 1ms; negative: no wait).
	MaxDelay time.Duration
	Logger   *slog.Logger
	Clock    func() time.Time
}

// Committer makes deliveries durable before Submit returns, then hands
// them to the Processor. Where an append is cheap (the SQLite store's
// journal: one write(2)) each sender appends its own delivery; otherwise
// (a transaction per append, PostgreSQL) it uses group commit: concurrent
// Submit calls are written in one transaction, and each returns only after
// that transaction committed.
type Committer struct {
	st    store.Store
	opts  CommitterOptions
	in    chan *submission
	out   chan<- []Work
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	mu    sync.RWMutex // held for reading by Submit, for writing by Stop
	shut  bool
	seq   atomic.Uint64
	node  uint32 // random per committer: tells replicas' batch IDs apart
	back  *atomic.Int64
	start sync.Once
	// direct is the store's appender when each sender appends its own
	// delivery (see store.IntakeAppender.AppendGroups).
	direct store.IntakeAppender
	active sync.WaitGroup // direct appends under way
}

// Work is a committed batch with its parsed events (nil when it must be
// re-parsed from the stored body).
type Work struct {
	Batch  store.IntakeBatch
	Events []event.Event
	// N is how many events the batch holds, when Events were left out.
	N int
	// accepted is when it was stored (monotonic; zero for work read
	// back from the store).
	accepted time.Time
	// deduped is set once the dedup rules were applied to Events (see
	// Processor.dedup).
	deduped bool
}

// size is the number of events w holds, parsed or not (at least 1).
func (w *Work) size() int { return max(len(w.Events), w.N, 1) }

// weight estimates the bytes w holds in memory: its body and header, and
// parsedEventBytes for each parsed event.
func (w *Work) weight() int64 {
	return int64(len(w.Batch.Body) + len(w.Batch.Header) + len(w.Events)*parsedEventBytes)
}

// parsedEventBytes is about what a parsed Prometheus alert holds (its
// label and annotation maps, strings, resources and raw copy): several
// times its part of the body.
const parsedEventBytes = 2048

// defaultMaxHandoff is CommitterOptions.MaxHandoff's default: 32 MiB is
// about 90,000 alerts as bodies, or 16,000 parsed — several seconds of
// processing.
const defaultMaxHandoff = 32 << 20

type submission struct {
	w    Work
	done chan error
}

// NewCommitter returns a committer that sends committed work to out.
// backlog is shared with the Processor, which decrements it.
func NewCommitter(st store.Store, out chan<- []Work, backlog *atomic.Int64, o CommitterOptions) *Committer {
	if o.MaxQueue <= 0 {
		o.MaxQueue = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.MaxBacklog <= 0 {
		o.MaxBacklog = 500_000
	}
	if o.MaxParsed <= 0 {
		o.MaxParsed = 20_000
	}
	if o.MaxHandoff <= 0 {
		o.MaxHandoff = defaultMaxHandoff
		if lim := debug.SetMemoryLimit(-1); lim < math.MaxInt64 {
			o.MaxHandoff = min(o.MaxHandoff, lim/8)
		}
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	c := &Committer{st: st, opts: o, in: make(chan *submission, o.MaxQueue), out: out,
		stop: make(chan struct{}), done: make(chan struct{}), back: backlog, node: rand.Uint32()}
	if ap, ok := st.(store.IntakeAppender); ok && !ap.AppendGroups() {
		c.direct = ap
	}
	return c
}

// Start runs the commit loop until Stop.
func (c *Committer) Start(ctx context.Context) {
	c.start.Do(func() { go c.loop(context.WithoutCancel(ctx)) })
}

// Stop refuses new submissions, commits the queued ones and returns.
func (c *Committer) Stop(ctx context.Context) error {
	c.once.Do(func() {
		c.mu.Lock()
		c.shut = true
		c.mu.Unlock()
		c.active.Wait()
		close(c.stop)
	})
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Submit durably stores one delivery and its parsed events. It returns nil
// only once they are committed.
func (c *Committer) Submit(ctx context.Context, tenant, source string, body []byte, header json.RawMessage, evs []event.Event) error {
	if c.back.Load() >= c.opts.MaxBacklog {
		return ErrOverloaded
	}
	now := c.opts.Clock().UTC()
	for i := range evs {
		evs[i].ReceivedAt = now
	}
	w := Work{Batch: store.IntakeBatch{ID: c.nextID(now), TenantID: tenant, Source: source, ReceivedAt: now, Body: body, Header: header},
		Events: evs}
	c.mu.RLock()
	if c.shut {
		c.mu.RUnlock()
		return ErrStopped
	}
	if c.direct != nil {
		c.active.Add(1)
		c.mu.RUnlock()
		defer c.active.Done()
		return c.appendNow(w)
	}
	s := &submission{w: w, done: make(chan error, 1)}
	select {
	case c.in <- s:
		c.mu.RUnlock()
	default:
		c.mu.RUnlock()
		return ErrOverloaded
	}
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
		// The delivery may still commit; the sender will retry and the
		// retry is deduplicated.
		return ctx.Err()
	}
}

// nextID keeps batch IDs in submission order within this process, and
// apart from every other process's: replicas on one database count from
// the same start in the same millisecond, so the ID ends with this
// committer's random node number.
func (c *Committer) nextID(now time.Time) string {
	// "ib_%013x%08x%08x" without fmt: this runs for every delivery.
	var b [3 + 13 + 8 + 8]byte
	copy(b[:], "ib_")
	hexPad(b[3:16], uint64(now.UnixMilli()))
	hexPad(b[16:24], c.seq.Add(1)&0xffffffff)
	hexPad(b[24:], uint64(c.node))
	return string(b[:])
}

// hexPad writes v in lower-case hex, zero-padded to fill dst.
func hexPad(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

func (c *Committer) loop(ctx context.Context) {
	defer close(c.done)
	batch := make([]*submission, 0, c.opts.MaxBatch)
	prev := 0              // size of the last batch
	var took time.Duration // how long the last commit took
	for {
		batch = batch[:0]
		select {
		case s := <-c.in:
			batch = append(batch, s)
		case <-c.stop:
			// Drain what was accepted before Stop.
			for {
				select {
				case s := <-c.in:
					batch = append(batch, s)
					if len(batch) == c.opts.MaxBatch {
						c.commit(ctx, batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						c.commit(ctx, batch)
					}
					return
				}
			}
		}
	fill:
		for len(batch) < c.opts.MaxBatch {
			select {
			case s := <-c.in:
				batch = append(batch, s)
			default:
				break fill
			}
		}
		batch = c.stragglers(batch, prev, took)
		prev = len(batch)
		start := time.Now()
		c.commit(ctx, batch)
		took = time.Since(start)
	}
}

// stragglers waits, briefly, for the senders of the previous commit: when
// it releases them they submit again within microseconds, but one at a
// time as they are scheduled, and committing at once would commit them one
// or two at a time (the commit's cost is mostly per transaction). It waits
// only while the batch is smaller than the last one, so the batch size
// follows the number of active senders, and no longer than the last commit
// took (nor MaxDelay): past that, committing now and taking the rest in the
// next commit is as fast.
func (c *Committer) stragglers(batch []*submission, prev int, took time.Duration) []*submission {
	wait := min(c.opts.MaxDelay, took)
	if len(batch) >= prev || wait <= 0 {
		return batch
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for len(batch) < prev && len(batch) < c.opts.MaxBatch {
		select {
		case s := <-c.in:
			batch = append(batch, s)
		case <-t.C:
			return batch
		case <-c.stop:
			return batch
		}
	}
	return batch
}

// appendNow stores one delivery from its sender's goroutine and hands it
// to the processor: with an append as cheap as a write(2), waking the
// commit loop and waiting for it would cost more than the append.
// The sender's cancellation does not stop it: an append is too short to
// be worth abandoning half-way, and the sender retries anyway.
func (c *Committer) appendNow(w Work) error {
	if err := c.direct.AppendIntake(context.Background(), []store.IntakeBatch{w.Batch}); err != nil {
		c.opts.Logger.Error("intake append failed", "error", err)
		return fmt.Errorf("storing the delivery failed: %w", err)
	}
	w.accepted = time.Now()
	n := c.back.Add(int64(w.size()))
	if n > c.opts.MaxParsed {
		w.Events, w.N = nil, len(w.Events)
	}
	c.handOver([]Work{w})
	return nil
}

// Handoff is what a Committer and its Processor share about the
// in-memory hand-off between them.
type Handoff struct {
	bytes atomic.Int64 // of the work waiting in it (Work.weight)
	left  atomic.Int64 // deliveries left out of it, ever
}

// Bytes is the estimated memory the work waiting in the hand-off holds.
func (h *Handoff) Bytes() int64 { return h.bytes.Load() }

// handOver gives committed work to the processor unless the hand-off is
// full (in groups, or in bytes: see MaxHandoff); then the processor reads
// it back from the store.
func (c *Committer) handOver(work []Work) {
	h := c.opts.Handoff
	if h == nil {
		select {
		case c.out <- work:
		default:
		}
		return
	}
	var wt int64
	for i := range work {
		wt += work[i].weight()
	}
	if h.bytes.Add(wt) <= c.opts.MaxHandoff {
		select {
		case c.out <- work:
			return
		default:
		}
	}
	h.bytes.Add(-wt)
	h.left.Add(int64(len(work)))
}

func (c *Committer) commit(ctx context.Context, batch []*submission) {
	bs := make([]store.IntakeBatch, len(batch))
	var nev int64
	for i, s := range batch {
		bs[i] = s.w.Batch
		nev += int64(max(len(s.w.Events), 1))
	}
	var err error
	if ap, ok := c.st.(store.IntakeAppender); ok {
		err = ap.AppendIntake(ctx, bs)
	} else {
		err = c.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
	}
	if err != nil {
		c.opts.Logger.Error("intake commit failed", "batches", len(batch), "error", err)
		err = fmt.Errorf("storing the delivery failed: %w", err)
	} else {
		c.back.Add(nev)
	}
	for _, s := range batch {
		s.done <- err
	}
	if err != nil {
		return
	}
	work := make([]Work, len(batch))
	lean := c.back.Load() > c.opts.MaxParsed
	now := time.Now()
	for i, s := range batch {
		work[i] = s.w
		work[i].accepted = now
		if lean {
			// Far behind: hand over the body, not the parsed events
			// (several times its size); the processor parses it again.
			work[i].Events, work[i].N = nil, len(s.w.Events)
		}
	}
	c.handOver(work)
}
