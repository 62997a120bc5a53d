package pipeline

import (
	"fmt"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestAlertCacheLRU(t *testing.T) {
	c := newAlertCache(3, 1<<20)
	key := func(i int) alertKey { return alertKey{"acme", fmt.Sprint("fp", i)} }
	for i := range 3 {
		c.put(key(i), store.Alert{Fingerprint: fmt.Sprint("fp", i), Occurrences: int64(i)})
	}
	c.get(key(0)) // fp0 is now the most recently used
	c.put(key(3), store.Alert{Fingerprint: "fp3"})
	if _, ok := c.get(key(1)); ok {
		t.Error("fp1, least recently used, was not evicted")
	}
	for _, i := range []int{0, 2, 3} {
		if a, ok := c.get(key(i)); !ok || a.Fingerprint != fmt.Sprint("fp", i) {
			t.Errorf("fp%d: %+v %v", i, a, ok)
		}
	}
	c.put(key(2), store.Alert{Fingerprint: "fp2", Occurrences: 42})
	if a, _ := c.get(key(2)); a.Occurrences != 42 {
		t.Errorf("update lost: %+v", a)
	}
	c.reset()
	if _, ok := c.get(key(0)); ok {
		t.Error("reset kept an entry")
	}
	// Past its byte budget the cache keeps only what fits.
	small := newAlertCache(100, 3*alertSize(key(0), store.Alert{Fingerprint: "fp0"}))
	for i := range 10 {
		small.put(key(i), store.Alert{Fingerprint: "fp0"})
	}
	if small.lru.Len() != 3 || small.bytes > small.maxBytes {
		t.Errorf("byte-bounded cache holds %d entries, %d bytes (budget %d)", small.lru.Len(), small.bytes, small.maxBytes)
	}
	if _, ok := small.get(key(9)); !ok {
		t.Error("the newest entry was evicted")
	}
	var none *alertCache // stores shared by replicas have none
	none.put(key(0), store.Alert{})
	if _, ok := none.get(key(0)); ok {
		t.Error("nil cache answered")
	}
}
