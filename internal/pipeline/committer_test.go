package pipeline

import (
	"fmt"
	"testing"
	"time"
)

// Delivery IDs sort in submission order: the millisecond, then a sequence
// number that wraps at 32 bits.
func TestCommitterIDs(t *testing.T) {
	c := &Committer{}
	at := time.UnixMilli(0x18f2a3b4c5d)
	c.seq.Store(0xfffffffe)
	for _, want := range []string{
		fmt.Sprintf("ib_%013x%08x", at.UnixMilli(), 0xffffffff),
		fmt.Sprintf("ib_%013x%08x", at.UnixMilli(), 0),
		fmt.Sprintf("ib_%013x%08x", at.UnixMilli(), 1),
	} {
		if got := c.nextID(at); got != want {
			t.Errorf("nextID = %q, want %q", got, want)
		}
	}
}
