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
// adds nothing. Least recently used entries go first past max.
type alertCache struct {
	mu  sync.Mutex
	max int
	m   map[alertKey]*list.Element // of *alertEntry
	lru *list.List
}

type alertEntry struct {
	k alertKey
	a store.Alert
}

func newAlertCache(max int) *alertCache {
	return &alertCache{max: max, m: map[alertKey]*list.Element{}, lru: list.New()}
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
	if e, ok := c.m[k]; ok {
		e.Value.(*alertEntry).a = a
		c.lru.MoveToFront(e)
		return
	}
	c.m[k] = c.lru.PushFront(&alertEntry{k: k, a: a})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.m, old.Value.(*alertEntry).k)
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
	c.mu.Unlock()
}
