package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// countingTx counts the inhibition lookups that reach the store.
type countingTx struct {
	store.Tx
	n *int
}

func (c countingTx) InhibitingAlert(ctx context.Context, tenant string, keys []string, except string) (string, error) {
	*c.n++
	return c.Tx.InhibitingAlert(ctx, tenant, keys, except)
}

// TestInhibitFilterAnswersAsTheStore runs random transactions of
// inhibition keys set and looked up through batchTx with a shared cache (as
// the Processor on SQLite does), some rolled back, and checks every answer
// against a model of what is stored plus what the transaction asserted
// earlier: the filter may only save queries, never change an answer. A
// lookup of keys no alert ever asserted must not reach the store at all.
func TestInhibitFilterAnswersAsTheStore(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	mustTx(t, st, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0})
	})
	shared := newAlertCache(alertCacheSize, alertCacheBytes)
	rng := rand.New(rand.NewPCG(3, 4))
	committed := map[string][]string{} // fingerprint → keys stored
	asserted := func(m map[string][]string, keys []string, except string) []string {
		var fps []string
		for fp, ks := range m {
			if fp != except && slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(ks, k) }) {
				fps = append(fps, fp)
			}
		}
		return fps
	}
	var lookups, unseenLookups, unseenQueries, reloads int
	errRollback := errors.New("rolled back")
	for round := range 120 {
		working := map[string][]string{}
		for fp, ks := range committed {
			working[fp] = ks
		}
		before := shared.inhibit["acme"]
		queries := 0
		err := st.InTx(ctx, func(stx store.Tx) error {
			b := newBatchTx(countingTx{Tx: stx, n: &queries}, shared)
			for range 30 {
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
					continue
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
				n := queries
				fp, err := b.InhibitingAlert(ctx, "acme", keys, except)
				if err != nil {
					return err
				}
				lookups++
				if want := asserted(working, keys, except); len(want) == 0 && fp != "" || len(want) > 0 && !slices.Contains(want, fp) {
					t.Errorf("round %d: %v (except %q) inhibited by %q, want one of %q", round, keys, except, fp, want)
				}
				if unseen {
					unseenLookups++
					unseenQueries += queries - n
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
		if before != nil && shared.inhibit["acme"] != before {
			reloads++
		}
	}
	if unseenLookups == 0 || unseenQueries > 0 {
		t.Errorf("%d of %d lookups of keys never asserted reached the store", unseenQueries, unseenLookups)
	}
	if reloads == 0 {
		t.Error("the filter was never reloaded: the test does not cover its growth")
	}
	t.Logf("%d lookups, %d reloads", lookups, reloads)
}
