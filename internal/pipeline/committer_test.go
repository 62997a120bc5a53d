package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// Delivery IDs sort in submission order: the millisecond, then a sequence
// number that wraps at 32 bits, then the committer's node number.
func TestCommitterIDs(t *testing.T) {
	c := &Committer{node: 0xa1b2c3}
	at := time.UnixMilli(0x18f2a3b4c5d)
	c.seq.Store(0xfffffffe)
	for _, want := range []string{
		fmt.Sprintf("ib_%013x%08x%08x", at.UnixMilli(), 0xffffffff, 0xa1b2c3),
		fmt.Sprintf("ib_%013x%08x%08x", at.UnixMilli(), 0, 0xa1b2c3),
		fmt.Sprintf("ib_%013x%08x%08x", at.UnixMilli(), 1, 0xa1b2c3),
	} {
		if got := c.nextID(at); got != want {
			t.Errorf("nextID = %q, want %q", got, want)
		}
	}
}

// Two committers — two replicas on one database — started together and
// submitting in the same millisecond give different delivery IDs (the
// same IDs made one replica answer 500 on the primary key).
func TestCommitterIDsDifferAcrossReplicas(t *testing.T) {
	var backlog atomic.Int64
	a := NewCommitter(nil, nil, &backlog, CommitterOptions{})
	b := NewCommitter(nil, nil, &backlog, CommitterOptions{})
	at := time.UnixMilli(0x18f2a3b4c5d)
	if x, y := a.nextID(at), b.nextID(at); x == y {
		t.Fatalf("two committers gave the same first ID %q", x)
	}
}

// With the SQLite store's journal each sender appends its own delivery:
// when Submit returns the delivery is stored (and listed unprocessed) and
// handed to the processor; a full backlog refuses; after Stop, Submit
// refuses too.
func TestCommitterAppendsDirectly(t *testing.T) {
	st := openSQLite(t)
	out := make(chan []Work, 8)
	var backlog atomic.Int64
	c := NewCommitter(st, out, &backlog, CommitterOptions{MaxBacklog: 3})
	if c.direct == nil {
		t.Fatal("the SQLite store's journal is not appended to directly")
	}
	c.Start(context.Background())
	ctx := context.Background()
	for i := range 3 {
		evs := []event.Event{alert(fmt.Sprintf("fp%d", i), "firing", t0, nil)}
		if err := c.Submit(ctx, "acme", "alertmanager-v2", []byte(`[]`), nil, evs); err != nil {
			t.Fatal(err)
		}
		n, err := st.CountUnprocessedIntake(ctx)
		if err != nil || n != int64(i+1) {
			t.Fatalf("after Submit %d: %d stored unprocessed, %v", i, n, err)
		}
		select {
		case w := <-out:
			if len(w) != 1 || len(w[0].Events) != 1 || w[0].Events[0].Fingerprint != fmt.Sprintf("fp%d", i) {
				t.Fatalf("handed over %+v", w)
			}
		default:
			t.Fatalf("delivery %d not handed to the processor", i)
		}
	}
	if backlog.Load() != 3 {
		t.Fatalf("backlog %d, want 3", backlog.Load())
	}
	if err := c.Submit(ctx, "acme", "x", []byte(`[]`), nil, nil); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("over the backlog: %v", err)
	}
	backlog.Store(0)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Submit(ctx, "acme", "x", []byte(`[]`), nil, nil); !errors.Is(err, ErrStopped) {
		t.Fatalf("after Stop: %v", err)
	}
}
