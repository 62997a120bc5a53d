package pipeline

import (
	"container/list"
	"hash/maphash"
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
	// inhibit holds each tenant's inhibitFilter, seeded with seed.
	inhibit map[string]*inhibitFilter
	seed    maphash.Seed
}

type alertEntry struct {
	k    alertKey
	a    store.Alert
	size int
}

func newAlertCache(max, maxBytes int) *alertCache {
	return &alertCache{max: max, maxBytes: maxBytes, m: map[alertKey]*list.Element{}, lru: list.New(),
		inhibit: map[string]*inhibitFilter{}, seed: maphash.MakeSeed()}
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

// inhibitFilter knows which inhibition keys a tenant's stored alerts may
// assert: a Bloom filter loaded from the store on first use and added to as
// transactions store keys. A key it has never seen is asserted by no stored
// alert, so looking it up needs no query — the answer for nearly every new
// alert (an inhibiting alert is rare), which otherwise cost a query each.
// Like the alert cache it is only correct while this process is the only
// writer of inhibition keys (the Processor on SQLite). Keys alerts stopped
// asserting stay in it (a query that finds nothing, never a wrong answer)
// until the keys added since it was loaded outnumber what it was sized for;
// it is then loaded again.
type inhibitFilter struct {
	bits  []uint64
	mask  uint64 // len(bits)*64 - 1
	room  int    // keys it may take before it is reloaded
	added int
}

// inhibitHashes is how many bits a key sets; with 16 bits per key of room
// a key never added passes for one about 1 time in 2,000 at worst.
const inhibitHashes = 6

func newInhibitFilter(keys int) *inhibitFilter {
	room := max(2*keys, 1024)
	n := 64
	for n < 16*room {
		n *= 2
	}
	return &inhibitFilter{bits: make([]uint64, n/64), mask: uint64(n - 1), room: room}
}

func (f *inhibitFilter) add(h uint64) {
	for i := range uint64(inhibitHashes) {
		b := (h + i*(h>>32|1)) & f.mask
		f.bits[b/64] |= 1 << (b % 64)
	}
	f.added++
}

func (f *inhibitFilter) has(h uint64) bool {
	for i := range uint64(inhibitHashes) {
		b := (h + i*(h>>32|1)) & f.mask
		if f.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// mayInhibit reports whether a stored alert of tenant may assert one of
// keys; false means none does. load lists the keys stored now (in the
// caller's transaction); it is called when the tenant has no filter yet.
// On a nil cache every answer is true.
func (c *alertCache) mayInhibit(tenant string, keys []string, load func(fn func(string) error) error) (bool, error) {
	if c == nil {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.inhibit[tenant]
	if f == nil {
		var hs []uint64
		if err := load(func(k string) error { hs = append(hs, maphash.String(c.seed, k)); return nil }); err != nil {
			return true, err
		}
		f = newInhibitFilter(len(hs))
		for _, h := range hs {
			f.add(h)
		}
		f.added = len(hs)
		c.inhibit[tenant] = f
	}
	for _, k := range keys {
		if f.has(maphash.String(c.seed, k)) {
			return true, nil
		}
	}
	return false, nil
}

// storingInhibitKeys adds keys about to be stored for tenant to its filter
// (before they are: a transaction that then fails leaves keys in the
// filter that are stored nowhere, which costs a query, not an answer).
func (c *alertCache) storingInhibitKeys(tenant string, keys []string) {
	if c == nil || len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.inhibit[tenant]
	if f == nil {
		return // loaded with these when first needed
	}
	for _, k := range keys {
		f.add(maphash.String(c.seed, k))
	}
	if f.added > f.room {
		delete(c.inhibit, tenant) // reloaded, sized for what is stored then
	}
}
