package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Diff is what an inventory changed in the store: resources added,
// changed and removed (by ID), and how many were read unchanged. The
// compliance evaluation re-checks the added and changed ones.
type Diff struct {
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Removed   []string `json:"removed"`
	Unchanged int      `json:"unchanged"`
	// Errors are the calls that failed (their types were kept as they
	// were).
	Errors []string `json:"errors,omitempty"`
}

// Sync reads account a and writes its inventory: only resources whose
// content changed since the last inventory are written (incremental: an
// unchanged resource keeps its updated_at), and resources no longer found
// are deleted — except those of a type whose listing failed this time.
// The account's inventory status records the outcome.
func (inv *Inventory) Sync(ctx context.Context, st store.Store, a store.AWSAccount) (Diff, error) {
	res, err := inv.Collect(ctx, a)
	now := inv.now().UTC()
	if err != nil {
		if serr := st.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error {
			return tx.SetAWSInventoryStatus(ctx, a.TenantID, a.ID, store.AWSInventoryStatus{At: now, Error: truncate(err.Error(), 2000)})
		}); serr != nil {
			err = errors.Join(err, serr)
		}
		return Diff{}, err
	}
	var d Diff
	for _, e := range res.Errors {
		d.Errors = append(d.Errors, e.Error())
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		d.Added, d.Changed, d.Removed, d.Unchanged = nil, nil, nil, 0
		prev, err := tx.AWSAccountResources(ctx, a.TenantID, a.ID)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(res.Resources))
		for _, r := range res.Resources {
			seen[r.ID] = true
			h := contentHash(r)
			old, ok := prev[r.ID]
			if ok && old.Hash == h {
				d.Unchanged++
				continue
			}
			if err := tx.PutResource(ctx, r); err != nil {
				return fmt.Errorf("resource %s: %w", r.ID, err)
			}
			if err := tx.SetAWSAccountResource(ctx, a.TenantID, a.ID, r.ID, store.AWSResourceState{Type: r.Type, Hash: h}); err != nil {
				return err
			}
			if ok {
				d.Changed = append(d.Changed, r.ID)
			} else {
				d.Added = append(d.Added, r.ID)
			}
		}
		for id, s := range prev {
			if !seen[id] && res.Complete[s.Type] {
				d.Removed = append(d.Removed, id)
			}
		}
		sort.Strings(d.Removed)
		if err := tx.DeleteAWSAccountResources(ctx, a.TenantID, a.ID, d.Removed); err != nil {
			return err
		}
		return tx.SetAWSInventoryStatus(ctx, a.TenantID, a.ID, store.AWSInventoryStatus{
			At: now, Resources: len(res.Resources), Error: truncate(strings.Join(d.Errors, "; "), 2000)})
	})
	return d, err
}

// contentHash identifies what a resource row holds, apart from its times.
func contentHash(r store.Resource) string {
	h := sha256.New()
	tags, _ := json.Marshal(r.Tags) // map keys are sorted
	for _, part := range [][]byte{[]byte(r.Type), []byte(r.Name), tags, r.Config} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
