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
	// inhibit and groups filter lookups (see keyFilters); their hashes
	// are seeded with seed.
	inhibit keyFilters
	groups  keyFilters
	seed    maphash.Seed
}

type alertEntry struct {
	k    alertKey
	a    store.Alert
	size int
}

func newAlertCache(max, maxBytes int) *alertCache {
	return &alertCache{max: max, maxBytes: maxBytes, m: map[alertKey]*list.Element{}, lru: list.New(),
		inhibit: keyFilters{}, groups: keyFilters{}, seed: maphash.MakeSeed()}
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

// keyFilters knows, per tenant, which keys stored rows may carry: a Bloom
// filter loaded from the store on first use and added to as transactions
// store rows. A key it has never seen is carried by no stored row, so a
// lookup of it needs no query. Like the alert cache it is only correct
// while this process is the only writer of those rows' keys (the Processor
// on SQLite). Keys rows no longer carry stay in it (a query that finds
// nothing, never a wrong answer) until the keys added since it was loaded
// outnumber what it was sized for; it is then loaded again.
//
// The alert cache holds two: the inhibition keys stored alerts assert
// (an inhibiting alert is rare, and every new alert looked its keys up),
// and the correlation groups (rule and group key) of stored OpsItems (every
// new alert of a new group looked for an open OpsItem of it).
type keyFilters map[string]*keyFilter

type keyFilter struct {
	bits  []uint64
	mask  uint64 // len(bits)*64 - 1
	room  int    // keys it may take before it is reloaded
	added int
}

// filterHashes is how many bits a key sets; with 16 bits per key of room
// a key never added passes for one about 1 time in 2,000 at worst.
const filterHashes = 6

func newKeyFilter(keys int) *keyFilter {
	room := max(2*keys, 1024)
	n := 64
	for n < 16*room {
		n *= 2
	}
	return &keyFilter{bits: make([]uint64, n/64), mask: uint64(n - 1), room: room}
}

func (f *keyFilter) add(h uint64) {
	for i := range uint64(filterHashes) {
		b := (h + i*(h>>32|1)) & f.mask
		f.bits[b/64] |= 1 << (b % 64)
	}
	f.added++
}

func (f *keyFilter) has(h uint64) bool {
	for i := range uint64(filterHashes) {
		b := (h + i*(h>>32|1)) & f.mask
		if f.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// filter returns tenant's filter, loading it first if need be: load adds
// the hash of every key stored now (in the caller's transaction).
func (fs keyFilters) filter(tenant string, load func(add func(h uint64)) error) (*keyFilter, error) {
	if f := fs[tenant]; f != nil {
		return f, nil
	}
	var hs []uint64
	if err := load(func(h uint64) { hs = append(hs, h) }); err != nil {
		return nil, err
	}
	f := newKeyFilter(len(hs))
	for _, h := range hs {
		f.add(h)
	}
	fs[tenant] = f
	return f, nil
}

// storing adds the hash of a key about to be stored for tenant (before it
// is: a transaction that then fails leaves keys in the filter that are
// stored nowhere, which costs a query, not an answer).
func (fs keyFilters) storing(tenant string, h uint64) {
	f := fs[tenant]
	if f == nil {
		return // loaded with it when first needed
	}
	f.add(h)
	if f.added > f.room {
		delete(fs, tenant) // reloaded, sized for what is stored then
	}
}

// mayInhibit reports whether a stored alert of tenant may assert one of
// keys (see keyFilters); on a nil cache every answer is true. load lists
// the keys stored alerts assert.
func (c *alertCache) mayInhibit(tenant string, keys []string, load func(fn func(key string) error) error) (bool, error) {
	if c == nil {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.inhibit.filter(tenant, func(add func(uint64)) error {
		return load(func(k string) error { add(maphash.String(c.seed, k)); return nil })
	})
	if err != nil {
		return true, err
	}
	for _, k := range keys {
		if f.has(maphash.String(c.seed, k)) {
			return true, nil
		}
	}
	return false, nil
}

// storingInhibitKeys adds keys an alert of tenant is about to assert.
func (c *alertCache) storingInhibitKeys(tenant string, keys []string) {
	if c == nil || len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.inhibit.storing(tenant, maphash.String(c.seed, k))
	}
}

// groupHash is a correlation group as the group filter holds it.
func (c *alertCache) groupHash(rule, key string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(rule)
	h.WriteByte(0)
	h.WriteString(key)
	return h.Sum64()
}

// mayHaveGroup reports whether a stored OpsItem of tenant may belong to
// the correlation group (see keyFilters); on a nil cache every answer is
// true. load lists the groups of the tenant's stored OpsItems.
func (c *alertCache) mayHaveGroup(tenant, rule, key string, load func(fn func(rule, key string) error) error) (bool, error) {
	if c == nil {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.groups.filter(tenant, func(add func(uint64)) error {
		return load(func(rule, key string) error { add(c.groupHash(rule, key)); return nil })
	})
	if err != nil {
		return true, err
	}
	return f.has(c.groupHash(rule, key)), nil
}

// storingGroup adds the group of an OpsItem of tenant about to be stored.
func (c *alertCache) storingGroup(tenant, rule, key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups.storing(tenant, c.groupHash(rule, key))
}
