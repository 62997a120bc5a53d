package pipeline

import (
	"container/list"
	"sync"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// alertCache keeps the stored state of recently seen alerts across
// processing transactions, so an alert Prometheus re-sends every evaluation
// is not read back from the database each time. It is only correct while
// this process is the only writer of alert state: on SQLite (one process
// holds the database) the Processor is. With PostgreSQL, replicas share
// alerts and the Processor goes without it.
//
// Entries are what a committed transaction stored; a transaction that fails
// adds nothing. Least recently used entries go first past max entries or
// maxBytes of (estimated) memory: the cache serves alerts re-sent again and
// again, and should not hold on to the footprint of a storm of distinct ones.
type alertCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	m        map[alertKey]*list.Element // of *alertEntry
	lru      *list.List
}

type alertEntry struct {
	k    alertKey
	a    store.Alert
	size int
}

func newAlertCache(max, maxBytes int) *alertCache {
	return &alertCache{max: max, maxBytes: maxBytes, m: map[alertKey]*list.Element{}, lru: list.New()}
}

// alertSize estimates the memory an entry holds: the struct, list and map
// overhead, its strings, and its labels as a Go map holds them.
func alertSize(k alertKey, a store.Alert) int {
	n := 480 + len(k.tenant) + len(k.fp) + len(a.Source) + len(a.Title) + len(a.Severity) + len(a.Status) + len(a.OpsItemID) +
		len(a.Rule) + len(a.GroupKey) + len(a.Suppressed) + 24*len(a.Changes)
	for lk, lv := range a.Labels {
		n += len(lk) + len(lv) + 48
	}
	return n
}

func (c *alertCache) get(k alertKey) (store.Alert, bool) {
	if c == nil {
		return store.Alert{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return store.Alert{}, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*alertEntry).a, true
}

func (c *alertCache) put(k alertKey, a store.Alert) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := alertSize(k, a)
	if e, ok := c.m[k]; ok {
		ae := e.Value.(*alertEntry)
		c.bytes += size - ae.size
		ae.a, ae.size = a, size
		c.lru.MoveToFront(e)
	} else {
		c.m[k] = c.lru.PushFront(&alertEntry{k: k, a: a, size: size})
		c.bytes += size
	}
	for c.lru.Len() > 1 && (c.lru.Len() > c.max || c.bytes > c.maxBytes) {
		old := c.lru.Back()
		ae := old.Value.(*alertEntry)
		c.lru.Remove(old)
		delete(c.m, ae.k)
		c.bytes -= ae.size
	}
}

// reset forgets everything (a transaction of unknown effect failed).
func (c *alertCache) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.m)
	c.lru.Init()
	c.bytes = 0
	c.mu.Unlock()
}
