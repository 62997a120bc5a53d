package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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

// countingTx counts the inhibition and group lookups that reach the store.
type countingTx struct {
	store.Tx
	n      *int
	groups *int
}

func (c countingTx) OpenGroup(ctx context.Context, tenant, rule, key string, since time.Time) (store.OpsItem, error) {
	*c.groups++
	return c.Tx.OpenGroup(ctx, tenant, rule, key, since)
}

func (c countingTx) InhibitingAlert(ctx context.Context, tenant string, keys []string, except string) (string, error) {
	*c.n++
	return c.Tx.InhibitingAlert(ctx, tenant, keys, except)
}

// filterRun counts a filter test's lookups.
type filterRun struct {
	lookups, unseenLookups, unseenQueries int
}

// lookedUp counts one lookup; unseen ones (of what was never stored) add
// the store queries they made, which must stay none.
func (r *filterRun) lookedUp(unseen bool, queries int) {
	r.lookups++
	if unseen {
		r.unseenLookups++
		r.unseenQueries += queries
	}
}

// runFilterRounds runs 120 random transactions of 30 steps through batchTx
// with a shared cache, as the Processor on SQLite does, rolling every fifth
// back (and resetting the cache, as the Processor does after a failed
// transaction). step does one step on working, the model of what is stored
// plus what the transaction did so far; tx wraps the store transaction to
// count the lookups reaching the store into queries; filter is the
// tenant's filter, whose replacements are counted as reloads. A lookup of
// what was never stored must not reach the store, and the filter must
// have been reloaded at least once (else its growth went untested).
func runFilterRounds[V any](t *testing.T, what string, shared *alertCache, tx func(stx store.Tx, queries *int) store.Tx,
	filter func() *keyFilter, step func(b *batchTx, working map[string]V, round int, queries *int, run *filterRun) error) {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	mustTx(t, st, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
	})
	committed := map[string]V{}
	var run filterRun
	reloads := 0
	errRollback := errors.New("rolled back")
	for round := range 120 {
		working := maps.Clone(committed)
		before := filter()
		queries := 0
		err := st.InTx(ctx, func(stx store.Tx) error {
			b := newBatchTx(tx(stx, &queries), shared)
			for range 30 {
				if err := step(b, working, round, &queries, &run); err != nil {
					return err
				}
			}
			if round%5 == 4 {
				return errRollback
			}
			return b.flush(ctx)
		})
		switch {
		case errors.Is(err, errRollback):
			shared.reset() // as the Processor does after a failed transaction
		case err != nil:
			t.Fatal(err)
		default:
			committed = working
		}
		if before != nil && filter() != before {
			reloads++
		}
	}
	if run.unseenLookups == 0 || run.unseenQueries > 0 {
		t.Errorf("%d of %d lookups of %s reached the store", run.unseenQueries, run.unseenLookups, what)
	}
	if reloads == 0 {
		t.Error("the filter was never reloaded: the test does not cover its growth")
	}
	t.Logf("%d lookups, %d reloads", run.lookups, reloads)
}

// TestInhibitFilterAnswersAsTheStore runs random transactions of
// inhibition keys set and looked up through batchTx with a shared cache (as
// the Processor on SQLite does), some rolled back, and checks every answer
// against a model of what is stored plus what the transaction asserted
// earlier: the filter may only save queries, never change an answer. A
// lookup of keys no alert ever asserted must not reach the store at all.
func TestInhibitFilterAnswersAsTheStore(t *testing.T) {
	ctx := context.Background()
	shared := newAlertCache(alertCacheSize, alertCacheBytes)
	rng := rand.New(rand.NewPCG(3, 4))
	asserted := func(m map[string][]string, keys []string, except string) []string {
		var fps []string
		for fp, ks := range m {
			if fp != except && slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(ks, k) }) {
				fps = append(fps, fp)
			}
		}
		return fps
	}
	// working: fingerprint → keys stored
	runFilterRounds(t, "keys never asserted", shared,
		func(stx store.Tx, queries *int) store.Tx { return countingTx{Tx: stx, n: queries, groups: new(int)} },
		func() *keyFilter { return shared.inhibit["acme"] },
		func(b *batchTx, working map[string][]string, round int, queries *int, run *filterRun) error {
			if rng.IntN(2) == 0 {
				fp := fmt.Sprint("fp", rng.IntN(40))
				var keys []string
				for range rng.IntN(4) {
					keys = append(keys, fmt.Sprint("k", rng.IntN(60)))
				}
				slices.Sort(keys)
				keys = slices.Compact(keys)
				if err := b.SetInhibitKeys(ctx, "acme", fp, keys); err != nil {
					return err
				}
				working[fp] = keys
				return nil
			}
			keys := []string{fmt.Sprint("k", rng.IntN(60))}
			unseen := rng.IntN(4) == 0
			if unseen {
				keys = []string{fmt.Sprint("never", rng.IntN(20))}
			}
			except := ""
			if rng.IntN(2) == 0 {
				except = fmt.Sprint("fp", rng.IntN(40))
			}
			n := *queries
			fp, err := b.InhibitingAlert(ctx, "acme", keys, except)
			if err != nil {
				return err
			}
			if want := asserted(working, keys, except); len(want) == 0 && fp != "" || len(want) > 0 && !slices.Contains(want, fp) {
				t.Errorf("round %d: %v (except %q) inhibited by %q, want one of %q", round, keys, except, fp, want)
			}
			run.lookedUp(unseen, *queries-n)
			return nil
		})
}

// TestGroupFilterAnswersAsTheStore does the same for OpenGroup: random
// transactions create OpsItems in correlation groups, resolve some and look
// groups up through batchTx with a shared cache; every answer must be an
// open OpsItem of the group when the model has one, and none otherwise, and
// a group no OpsItem ever had must not be looked up in the store.
func TestGroupFilterAnswersAsTheStore(t *testing.T) {
	ctx := context.Background()
	shared := newAlertCache(alertCacheSize, alertCacheBytes)
	rng := rand.New(rand.NewPCG(5, 6))
	type item struct{ group, status string }
	seq := 0
	// working: OpsItem ID → its group and status
	runFilterRounds(t, "groups no OpsItem ever had", shared,
		func(stx store.Tx, queries *int) store.Tx { return countingTx{Tx: stx, n: new(int), groups: queries} },
		func() *keyFilter { return shared.groups["acme"] },
		func(b *batchTx, working map[string]item, round int, queries *int, run *filterRun) error {
			switch rng.IntN(3) {
			case 0:
				seq++
				g := fmt.Sprint("g", rng.IntN(40))
				o := store.OpsItem{ID: fmt.Sprintf("oi_%05d", seq), TenantID: "acme", Title: "T", Category: "monitoring", Severity: "high",
					Status: "open", CreatedAt: t0, UpdatedAt: t0, Rule: "r", GroupKey: g, FirstEventAt: t0, LastEventAt: t0.Add(time.Duration(seq))}
				if err := b.CreateOpsItem(ctx, o); err != nil {
					return err
				}
				working[o.ID] = item{g, "open"}
			case 1:
				if seq == 0 {
					return nil
				}
				id := fmt.Sprintf("oi_%05d", 1+rng.IntN(seq))
				if _, ok := working[id]; !ok {
					return nil // rolled back
				}
				o, err := b.GetOpsItem(ctx, "acme", id)
				if err != nil {
					return err
				}
				o.Status = "resolved"
				if err := b.UpdateOpsItem(ctx, o); err != nil {
					return err
				}
				working[id] = item{o.GroupKey, "resolved"}
			default:
				g := fmt.Sprint("g", rng.IntN(40))
				unseen := rng.IntN(4) == 0
				if unseen {
					g = fmt.Sprint("never", rng.IntN(20))
				}
				n := *queries
				o, err := b.OpenGroup(ctx, "acme", "r", g, time.Time{})
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				var want []string
				for id, it := range working {
					if it.group == g && it.status == "open" {
						want = append(want, id)
					}
				}
				if len(want) == 0 && err == nil || len(want) > 0 && (err != nil || !slices.Contains(want, o.ID)) {
					t.Errorf("round %d: open OpsItem of group %s is %q (%v), want one of %q", round, g, o.ID, err, want)
				}
				run.lookedUp(unseen, *queries-n)
			}
			return nil
		})
}

// keysTx records the inhibition keys batchTx stores.
type keysTx struct {
	store.Tx
	got *[]store.InhibitKeys
}

func (k keysTx) SetInhibitKeysMany(ctx context.Context, ks []store.InhibitKeys) error {
	*k.got = append(*k.got, ks...)
	return k.Tx.SetInhibitKeysMany(ctx, ks)
}

// TestNewAlertKeysDeleteNone: with a shared cache, the keys of an alert
// the transaction found not stored are stored as New (nothing to delete),
// but not once the transaction stored keys for it, nor for an alert that
// was stored; the keys stored are each alert's last.
func TestNewAlertKeysDeleteNone(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	mustTx(t, st, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
	})
	shared := newAlertCache(alertCacheSize, alertCacheBytes)
	var got []store.InhibitKeys
	set := func(b *batchTx, fp string, keys ...string) {
		t.Helper()
		if _, err := b.GetAlert(ctx, "acme", fp); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if err := b.SetInhibitKeys(ctx, "acme", fp, keys); err != nil {
			t.Fatal(err)
		}
		if err := b.PutAlert(ctx, store.Alert{TenantID: "acme", Fingerprint: fp, Status: "firing", FirstSeen: t0, LastSeen: t0, LastChange: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var b *batchTx
	mustTx(t, st, func(tx store.Tx) error {
		b = newBatchTx(keysTx{Tx: tx, got: &got}, shared)
		if err := b.prefetch(ctx, "acme", []string{"a"}); err != nil {
			return err
		}
		set(b, "a", "k1")
		set(b, "b", "k3")
		if err := b.flushInhibit(ctx); err != nil {
			return err
		}
		set(b, "a", "k2") // keys stored for it in this transaction: replaced
		return b.flush(ctx)
	})
	b.committed()
	mustTx(t, st, func(tx store.Tx) error {
		b = newBatchTx(keysTx{Tx: tx, got: &got}, shared)
		set(b, "b") // stored: its keys are deleted
		set(b, "c", "k4")
		return b.flush(ctx)
	})
	var news []string
	for _, k := range got {
		news = append(news, fmt.Sprintf("%s%v:%v", k.Fingerprint, k.Keys, k.New))
	}
	if want := []string{"a[k1]:true", "b[k3]:true", "a[k2]:false", "b[]:false", "c[k4]:true"}; !slices.Equal(news, want) {
		t.Errorf("keys stored %q, want %q", news, want)
	}
	for key, want := range map[string]string{"k1": "", "k2": "a", "k3": "", "k4": "c"} {
		if fp, err := st.InhibitingAlert(ctx, "acme", []string{key}, ""); err != nil || fp != want {
			t.Errorf("%s asserted by %q (%v), want %q", key, fp, err, want)
		}
	}
}
