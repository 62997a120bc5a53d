package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// batchTx is the Processor's view of one processing transaction. Prometheus
// re-sends every active alert on each evaluation, so a busy transaction sees
// the same alerts many times: batchTx keeps the alert state it has read and
// written (reads after the first cost no SQL), and adds up repeat counts, and
// writes both once — at flush, which runs before commit and before any read
// that could see the pending state. An alert whose only change is its
// counters (a repeat) is written with many others in one statement.
//
// With a shared cache (single-writer stores; see alertCache), alert state
// also outlives the transaction: what a committed transaction read or wrote
// is what the next one starts from, without reading it again.
//
// OpsItems created in the transaction, member puts, resources and timeline
// entries are held too (pendingOps) and stored a few statements per table.
//
// Invariant: every method of store.Tx that reads or writes the alerts,
// opsitems, opsitem_members, opsitem_resources, opsitem_timeline, events or
// audit tables either is handled here or flushes what it depends on first.
// batchTx embeds only the concepts it holds nothing of (passThrough,
// batchtx_narrow.go) and implements the alert, OpsItem, event, audit and
// stats interfaces itself, so a method added to one of those does not
// compile until it is handled here. The engine
// replaces an alert's Labels rather than editing them, so they are shared,
// not copied.
type batchTx struct {
	passThrough
	tx      store.Tx    // the store's transaction, for what batchTx holds
	shared  *alertCache // nil: state lives for this transaction only
	alerts  map[alertKey]*cachedAlert
	dirty   []alertKey
	repeats map[repeatKey]*store.Repeat
	order   []repeatKey
	events  []store.Event
	audit   *store.AuditChain // records chained here, not yet stored
	ops     pendingOps
	inhibit pendingInhibit
}

// pendingInhibit are the inhibition keys alerts asserted in this
// transaction, stored together at flush; InhibitingAlert looks here first.
type pendingInhibit struct {
	keys map[alertKey][]string
	list []alertKey
	by   map[inhibitKey]map[string]bool // tenant and key → fingerprints asserting it
	// flushed are the alerts whose keys this transaction stored.
	flushed map[alertKey]bool
}

type inhibitKey struct{ tenant, key string }

// pendingOps are the OpsItem writes a transaction holds until flush: the
// OpsItems it created (with every change made to them since), member puts,
// resources and timeline entries, each stored with the others of its table in
// a few statements. A transaction of new alerts opens an OpsItem per alert,
// and a statement per row made that several times slower than the rest of
// processing.
type pendingOps struct {
	fresh     map[opsKey]*store.OpsItem // created here, not yet stored
	freshList []opsKey
	groups    map[groupKey]int // fresh OpsItems per correlation group
	created   map[opsKey]bool  // created in this transaction, stored or not
	members   map[memberKey]*store.OpsItemMember
	memList   []memberKey
	joined    map[memberKey]bool // members ever put on OpsItems created here
	resources []store.OpsItemResourceLink
	resSeen   map[store.OpsItemResourceLink]bool
	timeline  []store.TimelineEntry
}

type opsKey struct{ tenant, id string }

type groupKey struct{ tenant, rule, key string }

type memberKey struct{ tenant, opsItem, fp string }

type alertKey struct{ tenant, fp string }

type repeatKey struct{ tenant, opsItem, fp string }

type cachedAlert struct {
	a      store.Alert // current state
	exists bool
	dirty  bool        // a differs from what is stored
	base   store.Alert // what is stored, when stored
	stored bool
	// absent: this transaction found no such alert stored (so it asserts
	// no stored inhibition keys either: they are stored with the alert).
	absent bool
}

func newBatchTx(tx store.Tx, shared *alertCache) *batchTx {
	return &batchTx{passThrough: tx, tx: tx, shared: shared, audit: store.NewAuditChain(tx), alerts: map[alertKey]*cachedAlert{}, repeats: map[repeatKey]*store.Repeat{},
		ops: pendingOps{fresh: map[opsKey]*store.OpsItem{}, groups: map[groupKey]int{},
			created: map[opsKey]bool{}, members: map[memberKey]*store.OpsItemMember{}, joined: map[memberKey]bool{},
			resSeen: map[store.OpsItemResourceLink]bool{}},
		inhibit: pendingInhibit{keys: map[alertKey][]string{}, by: map[inhibitKey]map[string]bool{}, flushed: map[alertKey]bool{}}}
}

func (b *batchTx) loaded(k alertKey, a store.Alert) *cachedAlert {
	c := &cachedAlert{a: a, exists: true, base: a, stored: true}
	b.alerts[k] = c
	return c
}

// prefetch loads the state of these alerts: from the shared cache, the rest
// with one query per few hundred.
func (b *batchTx) prefetch(ctx context.Context, tenant string, fps []string) error {
	var want []string
	for _, fp := range fps {
		k := alertKey{tenant, fp}
		if _, ok := b.alerts[k]; ok {
			continue
		}
		if a, ok := b.shared.get(k); ok {
			b.loaded(k, a)
			continue
		}
		b.alerts[k] = &cachedAlert{absent: true} // replaced when found
		want = append(want, fp)
	}
	if len(want) == 0 {
		return nil
	}
	as, err := b.tx.GetAlerts(ctx, tenant, want)
	if err != nil {
		return err
	}
	for _, a := range as {
		k := alertKey{tenant, a.Fingerprint}
		if c := b.alerts[k]; c != nil && !c.exists {
			b.loaded(k, a)
		}
	}
	return nil
}

// GetAlert answers from the transaction's alert state.
func (b *batchTx) GetAlert(ctx context.Context, tenant, fp string) (store.Alert, error) {
	k := alertKey{tenant, fp}
	c, ok := b.alerts[k]
	if !ok {
		if a, ok := b.shared.get(k); ok {
			c = b.loaded(k, a)
		} else {
			a, err := b.tx.GetAlert(ctx, tenant, fp)
			switch {
			case err == nil:
				c = b.loaded(k, a)
			case errors.Is(err, store.ErrNotFound):
				c = &cachedAlert{absent: true}
				b.alerts[k] = c
			default:
				return a, err
			}
		}
	}
	if !c.exists {
		return store.Alert{}, fmt.Errorf("alert %s: %w", fp, store.ErrNotFound)
	}
	a := c.a
	a.Changes = slices.Clone(a.Changes) // the engine edits it in place
	return a, nil
}

// PutAlert records the alert's new state; it is written at flush.
func (b *batchTx) PutAlert(_ context.Context, a store.Alert) error {
	k := alertKey{a.TenantID, a.Fingerprint}
	c := b.alerts[k]
	if c == nil {
		c = &cachedAlert{}
		b.alerts[k] = c
	}
	a.Changes = slices.Clone(a.Changes)
	c.a, c.exists = a, true
	if !c.dirty {
		c.dirty = true
		b.dirty = append(b.dirty, k)
	}
	return nil
}

// CountRepeats adds the repeats up; they are written at flush.
func (b *batchTx) CountRepeats(_ context.Context, rs []store.Repeat) error {
	for _, r := range rs {
		k := repeatKey{r.TenantID, r.OpsItemID, r.Fingerprint}
		p := b.repeats[k]
		if p == nil {
			p = &store.Repeat{TenantID: r.TenantID, OpsItemID: r.OpsItemID, Fingerprint: r.Fingerprint}
			b.repeats[k] = p
			b.order = append(b.order, k)
		}
		p.N += r.N
		if r.LastSeen.After(p.LastSeen) {
			p.LastSeen = r.LastSeen
		}
	}
	return nil
}

// onlyCounters reports whether cur differs from base in nothing but what a
// repeat changes (Occurrences, LastSeen, SourceUpdatedAt). It runs for
// every alert a transaction touched, so it compares field by field rather
// than by reflection; TestOnlyCountersSeesEveryField fails when store.Alert
// gains a field this does not compare.
func onlyCounters(base, cur *store.Alert) bool {
	return base.TenantID == cur.TenantID && base.Fingerprint == cur.Fingerprint && base.Source == cur.Source &&
		base.Title == cur.Title && base.Severity == cur.Severity && base.Status == cur.Status &&
		maps.Equal(base.Labels, cur.Labels) && base.FirstSeen.Equal(cur.FirstSeen) && base.LastChange.Equal(cur.LastChange) &&
		base.OpsItemID == cur.OpsItemID && slices.EqualFunc(base.Changes, cur.Changes, time.Time.Equal) &&
		base.Flapping == cur.Flapping && base.HeldUntil.Equal(cur.HeldUntil) && base.Rule == cur.Rule &&
		base.GroupKey == cur.GroupKey && base.Suppressed == cur.Suppressed
}

// flush writes everything pending.
func (b *batchTx) flush(ctx context.Context) error {
	if err := b.flushAlerts(ctx); err != nil {
		return err
	}
	if err := b.flushRepeats(ctx); err != nil {
		return err
	}
	if err := b.flushOps(ctx); err != nil {
		return err
	}
	if err := b.flushAttached(ctx); err != nil {
		return err
	}
	if err := b.flushInhibit(ctx); err != nil {
		return err
	}
	if err := b.flushAudit(ctx); err != nil {
		return err
	}
	return b.flushEvents(ctx)
}

// AppendAudit chains the record with the store's one chain writer
// (store.AuditChain), holding it in memory: the first append for a tenant
// takes the tenant's chain head (which, on PostgreSQL, holds its row lock
// to the end of the transaction); the records are stored together at flush.
func (b *batchTx) AppendAudit(ctx context.Context, a *store.AuditRecord, hash func(store.AuditRecord) string) error {
	return b.audit.Append(ctx, a, hash)
}

// flushAudit stores the records chained in memory and moves the heads.
func (b *batchTx) flushAudit(ctx context.Context) error { return b.audit.Flush(ctx) }

func (b *batchTx) ListAudit(ctx context.Context, tenant string, page store.Page) ([]store.AuditRecord, string, error) {
	if err := b.flushAudit(ctx); err != nil {
		return nil, "", err
	}
	return b.tx.ListAudit(ctx, tenant, page)
}

func (b *batchTx) SearchAudit(ctx context.Context, tenant string, f store.AuditFilter, page store.Page) ([]store.AuditRecord, string, error) {
	if err := b.flushAudit(ctx); err != nil {
		return nil, "", err
	}
	return b.tx.SearchAudit(ctx, tenant, f, page)
}

func (b *batchTx) ScanAudit(ctx context.Context, tenant string, after int64, fn func(store.AuditRecord) error) error {
	if err := b.flushAudit(ctx); err != nil {
		return err
	}
	return b.tx.ScanAudit(ctx, tenant, after, fn)
}

func (b *batchTx) AuditHead(ctx context.Context, tenant string) (int64, string, error) {
	if err := b.flushAudit(ctx); err != nil {
		return 0, "", err
	}
	return b.tx.AuditHead(ctx, tenant)
}

func (b *batchTx) ListAuditCheckpoints(ctx context.Context, tenant string) ([]store.AuditCheckpoint, error) {
	if err := b.flushAudit(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListAuditCheckpoints(ctx, tenant)
}

func (b *batchTx) AuditTenants(ctx context.Context) ([]string, error) {
	if err := b.flushAudit(ctx); err != nil {
		return nil, err
	}
	return b.tx.AuditTenants(ctx)
}

func (b *batchTx) AddAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	if err := b.flushAudit(ctx); err != nil {
		return err
	}
	return b.tx.AddAuditCheckpoint(ctx, c)
}

// flushEvents writes the stored events, many per statement.
func (b *batchTx) flushEvents(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	err := b.tx.InsertEvents(ctx, b.events)
	b.events = b.events[:0]
	return err
}

// InsertEvent stores the event at flush: events are only appended, and
// nothing the pipeline reads depends on them.
func (b *batchTx) InsertEvent(_ context.Context, e store.Event) error {
	b.events = append(b.events, e)
	return nil
}

func (b *batchTx) ListEvents(ctx context.Context, tenant string, f store.EventFilter, page store.Page) ([]store.Event, string, error) {
	if err := b.flushEvents(ctx); err != nil {
		return nil, "", err
	}
	return b.tx.ListEvents(ctx, tenant, f, page)
}

// flushAlerts writes the pending alert states.
func (b *batchTx) flushAlerts(ctx context.Context) error {
	var counts []store.AlertCounts
	var puts []store.Alert
	for _, k := range b.dirty {
		c := b.alerts[k]
		if c.stored && onlyCounters(&c.base, &c.a) {
			counts = append(counts, store.AlertCounts{TenantID: c.a.TenantID, Fingerprint: c.a.Fingerprint,
				Occurrences: c.a.Occurrences, LastSeen: c.a.LastSeen, SourceUpdatedAt: c.a.SourceUpdatedAt})
		} else {
			puts = append(puts, c.a)
		}
		c.dirty, c.base, c.stored = false, c.a, true
	}
	b.dirty = b.dirty[:0]
	if len(puts) > 0 {
		if err := b.tx.PutAlerts(ctx, puts); err != nil {
			return err
		}
	}
	if len(counts) > 0 {
		if err := b.tx.PutAlertCounts(ctx, counts); err != nil {
			return err
		}
	}
	return nil
}

// flushRepeats writes the added-up repeats (they change members and
// OpsItems, not alerts).
func (b *batchTx) flushRepeats(ctx context.Context) error {
	if len(b.order) > 0 {
		// Repeats add to stored rows: store the pending ones first.
		if err := b.flushOps(ctx); err != nil {
			return err
		}
		rs := make([]store.Repeat, len(b.order))
		for i, k := range b.order {
			rs[i] = *b.repeats[k]
		}
		if err := b.tx.CountRepeats(ctx, rs); err != nil {
			return err
		}
		clear(b.repeats)
		b.order = b.order[:0]
	}
	return nil
}

// committed hands the stored alert state to the shared cache; call it only
// once the transaction committed.
func (b *batchTx) committed() {
	if b.shared == nil {
		return
	}
	for k, c := range b.alerts {
		if c.stored && !c.dirty {
			b.shared.put(k, c.base)
		}
	}
}

// The reads and writes below see or change what flush writes: alert
// reads need the alert states written, OpsItem and member reads and writes
// the repeats.

func (b *batchTx) GetAlerts(ctx context.Context, tenant string, fps []string) ([]store.Alert, error) {
	if err := b.flushAlerts(ctx); err != nil {
		return nil, err
	}
	return b.tx.GetAlerts(ctx, tenant, fps)
}

func (b *batchTx) DueHeldAlerts(ctx context.Context, t time.Time, limit int) ([]store.Alert, error) {
	if err := b.flushAlerts(ctx); err != nil {
		return nil, err
	}
	return b.tx.DueHeldAlerts(ctx, t, limit)
}

func (b *batchTx) FlappingAlerts(ctx context.Context, limit int) ([]store.Alert, error) {
	if err := b.flushAlerts(ctx); err != nil {
		return nil, err
	}
	return b.tx.FlappingAlerts(ctx, limit)
}

func (b *batchTx) GetOpsItem(ctx context.Context, tenant, id string) (store.OpsItem, error) {
	if o := b.ops.fresh[opsKey{tenant, id}]; o != nil && len(b.order) == 0 {
		return *o, nil
	}
	if err := b.flushRepeats(ctx); err != nil {
		return store.OpsItem{}, err
	}
	return b.tx.GetOpsItem(ctx, tenant, id)
}

func (b *batchTx) ListOpsItems(ctx context.Context, tenant string, f store.OpsItemFilter, page store.Page) ([]store.OpsItem, string, error) {
	if err := b.flushAllOps(ctx); err != nil {
		return nil, "", err
	}
	return b.tx.ListOpsItems(ctx, tenant, f, page)
}

// CreateOpsItem holds the new OpsItem until flush.
func (b *batchTx) CreateOpsItem(_ context.Context, o store.OpsItem) error {
	k := opsKey{o.TenantID, o.ID}
	if b.ops.created[k] {
		return fmt.Errorf("opsitem %s: %w", o.ID, store.ErrConflict)
	}
	b.ops.fresh[k], b.ops.created[k] = &o, true
	b.ops.freshList = append(b.ops.freshList, k)
	b.ops.groups[groupKey{o.TenantID, o.Rule, o.GroupKey}]++
	return nil
}

func (b *batchTx) UpdateOpsItem(ctx context.Context, o store.OpsItem) error {
	k := opsKey{o.TenantID, o.ID}
	if p := b.ops.fresh[k]; p != nil {
		if p.Rule != o.Rule || p.GroupKey != o.GroupKey {
			b.ops.groups[groupKey{p.TenantID, p.Rule, p.GroupKey}]--
			b.ops.groups[groupKey{o.TenantID, o.Rule, o.GroupKey}]++
		}
		*p = o
		return nil
	}
	if err := b.flushRepeats(ctx); err != nil {
		return err
	}
	b.shared.storingGroup(o.TenantID, o.Rule, o.GroupKey)
	return b.tx.UpdateOpsItem(ctx, o)
}

// OpenGroup flushes what the answer depends on and asks the store — with a
// shared cache, only when its filter says a stored OpsItem may belong to the
// group (OpsItems created here are not stored yet, and are asked about
// after they are).
func (b *batchTx) OpenGroup(ctx context.Context, tenant, rule, key string, since time.Time) (store.OpsItem, error) {
	if b.ops.groups[groupKey{tenant, rule, key}] == 0 {
		may, err := b.shared.mayHaveGroup(tenant, rule, key, func(fn func(rule, key string) error) error {
			return b.tx.OpsItemGroups(ctx, tenant, fn)
		})
		if err != nil {
			return store.OpsItem{}, err
		}
		if !may {
			return store.OpsItem{}, errNoGroup
		}
	}
	if err := b.flushRepeats(ctx); err != nil {
		return store.OpsItem{}, err
	}
	if b.ops.groups[groupKey{tenant, rule, key}] > 0 {
		if err := b.flushOps(ctx); err != nil {
			return store.OpsItem{}, err
		}
	}
	return b.tx.OpenGroup(ctx, tenant, rule, key, since)
}

func (b *batchTx) ListOpsItemMembers(ctx context.Context, tenant, id string) ([]store.OpsItemMember, error) {
	if err := b.flushAllOps(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListOpsItemMembers(ctx, tenant, id)
}

// The not-found answers batchTx gives without asking the store, for every
// new alert: made once (the pipeline only tests them for ErrNotFound).
var (
	errNoGroup          = fmt.Errorf("no stored OpsItem of the group: %w", store.ErrNotFound)
	errNewOpsItemMember = fmt.Errorf("not a member of an OpsItem created in this transaction: %w", store.ErrNotFound)
)

// GetOpsItemMember answers from the pending member puts, and knows an
// OpsItem created in this transaction has no other members.
func (b *batchTx) GetOpsItemMember(ctx context.Context, tenant, id, fp string) (store.OpsItemMember, error) {
	k := memberKey{tenant, id, fp}
	if len(b.order) == 0 {
		if m := b.ops.members[k]; m != nil {
			return *m, nil
		}
		if b.ops.created[opsKey{tenant, id}] && !b.ops.joined[k] {
			return store.OpsItemMember{}, errNewOpsItemMember
		}
	}
	// Not pending (or repeats are): what is stored is current once the
	// repeats are.
	if err := b.flushRepeats(ctx); err != nil {
		return store.OpsItemMember{}, err
	}
	return b.tx.GetOpsItemMember(ctx, tenant, id, fp)
}

// PutOpsItemMember holds the member's new state until flush (or until
// repeats are added to it).
func (b *batchTx) PutOpsItemMember(_ context.Context, m store.OpsItemMember) error {
	k := memberKey{m.TenantID, m.OpsItemID, m.Fingerprint}
	if p := b.ops.members[k]; p != nil {
		*p = m
		return nil
	}
	b.ops.members[k] = &m
	b.ops.memList = append(b.ops.memList, k)
	if b.ops.created[opsKey{m.TenantID, m.OpsItemID}] {
		b.ops.joined[k] = true
	}
	return nil
}

// AddOpsItemResource holds the link until flush.
func (b *batchTx) AddOpsItemResource(_ context.Context, tenant, id string, r store.OpsItemResource) error {
	l := store.OpsItemResourceLink{TenantID: tenant, OpsItemID: id, OpsItemResource: r}
	if !b.ops.resSeen[l] {
		b.ops.resSeen[l] = true
		b.ops.resources = append(b.ops.resources, l)
	}
	return nil
}

func (b *batchTx) ListOpsItemResources(ctx context.Context, tenant, id string) ([]store.OpsItemResource, error) {
	if err := b.flushAttached(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListOpsItemResources(ctx, tenant, id)
}

// AddTimeline holds the entry until flush.
func (b *batchTx) AddTimeline(_ context.Context, e store.TimelineEntry) error {
	b.ops.timeline = append(b.ops.timeline, e)
	return nil
}

func (b *batchTx) ListTimeline(ctx context.Context, tenant, id string) ([]store.TimelineEntry, error) {
	if err := b.flushAttached(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListTimeline(ctx, tenant, id)
}

// flushOps stores the OpsItems created here and the pending member puts.
func (b *batchTx) flushOps(ctx context.Context) error {
	p := &b.ops
	if len(p.freshList) > 0 {
		os := make([]store.OpsItem, len(p.freshList))
		for i, k := range p.freshList {
			os[i] = *p.fresh[k]
			b.shared.storingGroup(os[i].TenantID, os[i].Rule, os[i].GroupKey)
		}
		clear(p.fresh)
		clear(p.groups)
		p.freshList = p.freshList[:0]
		if err := b.tx.CreateOpsItems(ctx, os); err != nil {
			return err
		}
	}
	if len(p.memList) > 0 {
		ms := make([]store.OpsItemMember, len(p.memList))
		for i, k := range p.memList {
			ms[i] = *p.members[k]
		}
		clear(p.members)
		p.memList = p.memList[:0]
		if err := b.tx.PutOpsItemMembers(ctx, ms); err != nil {
			return err
		}
	}
	return nil
}

// flushAttached stores the pending resources and timeline entries (nothing
// the pipeline reads back while processing).
func (b *batchTx) flushAttached(ctx context.Context) error {
	p := &b.ops
	if len(p.resources) > 0 {
		rs := p.resources
		p.resources = nil
		clear(p.resSeen)
		if err := b.tx.AddOpsItemResources(ctx, rs); err != nil {
			return err
		}
	}
	if len(p.timeline) > 0 {
		es := p.timeline
		p.timeline = nil
		if err := b.tx.AddTimelines(ctx, es); err != nil {
			return err
		}
	}
	return nil
}

// flushAllOps stores every pending OpsItem write.
func (b *batchTx) flushAllOps(ctx context.Context) error {
	if err := b.flushRepeats(ctx); err != nil {
		return err
	}
	if err := b.flushOps(ctx); err != nil {
		return err
	}
	return b.flushAttached(ctx)
}

// SetInhibitKeys holds the alert's keys until flush.
func (b *batchTx) SetInhibitKeys(_ context.Context, tenant, fp string, keys []string) error {
	p := &b.inhibit
	k := alertKey{tenant, fp}
	old, pending := p.keys[k]
	if !pending {
		p.list = append(p.list, k)
	}
	for _, key := range old {
		delete(p.by[inhibitKey{tenant, key}], fp)
	}
	p.keys[k] = slices.Clone(keys)
	for _, key := range keys {
		ik := inhibitKey{tenant, key}
		if p.by[ik] == nil {
			p.by[ik] = map[string]bool{}
		}
		p.by[ik][fp] = true
	}
	return nil
}

// InhibitingAlert answers from the keys asserted in this transaction, then
// from the stored ones of alerts whose keys it did not change — with a
// shared cache, only when its filter says a stored alert may assert one.
func (b *batchTx) InhibitingAlert(ctx context.Context, tenant string, keys []string, except string) (string, error) {
	p := &b.inhibit
	for _, key := range keys {
		var found []string
		for fp := range p.by[inhibitKey{tenant, key}] {
			if fp != except {
				found = append(found, fp)
			}
		}
		if len(found) > 0 {
			return slices.Min(found), nil
		}
	}
	// With a shared cache, a key no stored alert asserts needs no query.
	may, err := b.shared.mayInhibit(tenant, keys, func(fn func(string) error) error { return b.tx.InhibitKeys(ctx, tenant, fn) })
	if err != nil || !may {
		return "", err
	}
	fp, err := b.tx.InhibitingAlert(ctx, tenant, keys, except)
	if err != nil || fp == "" {
		return fp, err
	}
	if _, stale := p.keys[alertKey{tenant, fp}]; stale {
		// That alert's stored keys were replaced here: store the pending
		// keys and ask again.
		if err := b.flushInhibit(ctx); err != nil {
			return "", err
		}
		return b.tx.InhibitingAlert(ctx, tenant, keys, except)
	}
	return fp, nil
}

// noKeysStored reports whether the alert is known to assert no stored
// inhibition keys, so storing its keys deletes none: it was not stored
// when this transaction looked, and the transaction stored no keys for it
// since. Only where the Processor is the single writer (a shared cache):
// nobody else can have stored the alert meanwhile.
func (b *batchTx) noKeysStored(k alertKey) bool {
	c := b.alerts[k]
	return b.shared != nil && c != nil && c.absent && !b.inhibit.flushed[k]
}

// flushInhibit stores the pending inhibition keys.
func (b *batchTx) flushInhibit(ctx context.Context) error {
	p := &b.inhibit
	if len(p.list) == 0 {
		return nil
	}
	ks := make([]store.InhibitKeys, len(p.list))
	for i, k := range p.list {
		ks[i] = store.InhibitKeys{TenantID: k.tenant, Fingerprint: k.fp, Keys: p.keys[k], New: b.noKeysStored(k)}
		b.shared.storingInhibitKeys(k.tenant, ks[i].Keys)
		p.flushed[k] = true
	}
	clear(p.keys)
	clear(p.by)
	p.list = p.list[:0]
	return b.tx.SetInhibitKeysMany(ctx, ks)
}
