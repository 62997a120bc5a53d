package audit

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Break describes the first place a chain is broken.
type Break struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func (b Break) String() string { return fmt.Sprintf("record %d: %s", b.Seq, b.Reason) }

// Report is the result of verifying one tenant's chain.
type Report struct {
	Tenant  string `json:"tenant"`
	Records int64  `json:"records"`
	Head    string `json:"head"`
	Broken  *Break `json:"broken,omitempty"`
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.Broken == nil }

// Verify walks tenant's chain from the first record and reports the first
// break: an altered record (hash mismatch), a deleted one (sequence gap or
// link mismatch), a truncated tail (fewer records than the head or a
// checkpoint says existed), or a head row deleted or moved back. It is safe
// to run beside a server that is appending: new records are not breaks.
func Verify(ctx context.Context, r store.Reader, tenant string) (Report, error) {
	rep := Report{Tenant: tenant}
	checkpoints, err := r.ListAuditCheckpoints(ctx, tenant)
	if err != nil {
		return rep, err
	}
	cps := make(map[int64]string, len(checkpoints))
	for _, c := range checkpoints {
		cps[c.Seq] = c.Hash
	}
	headSeq, headHash, err := r.AuditHead(ctx, tenant)
	if err != nil {
		return rep, err
	}
	prev, want := "", int64(1)
	err = r.ScanAudit(ctx, tenant, 0, func(a store.AuditRecord) error {
		switch {
		case a.Seq != want:
			rep.Broken = &Break{Seq: want, Reason: fmt.Sprintf("missing (next record present is %d): deleted", a.Seq)}
		case a.PrevHash != prev:
			rep.Broken = &Break{Seq: a.Seq, Reason: "previous-hash link does not match record " + fmt.Sprint(a.Seq-1)}
		case Hash(a) != a.Hash:
			rep.Broken = &Break{Seq: a.Seq, Reason: "content does not match its hash: altered"}
		case cps[a.Seq] != "" && cps[a.Seq] != a.Hash:
			rep.Broken = &Break{Seq: a.Seq, Reason: "hash differs from the checkpoint taken earlier: rewritten"}
		}
		if rep.Broken != nil {
			return errStop
		}
		rep.Records, prev, want = a.Seq, a.Hash, a.Seq+1
		return nil
	})
	if err != nil && err != errStop {
		return rep, err
	}
	rep.Head = prev
	if rep.Broken != nil {
		return rep, nil
	}
	last := int64(0)
	if n := len(checkpoints); n > 0 {
		last = checkpoints[n-1].Seq
	}
	switch {
	case headSeq > rep.Records:
		rep.Broken = &Break{Seq: rep.Records + 1, Reason: fmt.Sprintf("missing: the chain head says %d records exist, found %d (tail deleted)", headSeq, rep.Records)}
	case last > rep.Records:
		rep.Broken = &Break{Seq: rep.Records + 1, Reason: fmt.Sprintf("missing: a checkpoint recorded %d records, found %d (tail deleted)", last, rep.Records)}
	case headSeq == rep.Records && headHash != rep.Head:
		rep.Broken = &Break{Seq: rep.Records, Reason: "hash differs from the chain head: rewritten"}
	case headSeq < rep.Records:
		// Records beyond the head: appends committed during the scan, or a
		// head row deleted or moved back. Appends only move the head forward,
		// so a second read tells them apart without a false alarm.
		now, _, err := r.AuditHead(ctx, tenant)
		if err != nil {
			return rep, err
		}
		if now < rep.Records {
			rep.Broken = &Break{Seq: now + 1, Reason: fmt.Sprintf("beyond the chain head, which says %d records exist, found %d: head deleted or rewound", now, rep.Records)}
		}
	}
	return rep, nil
}

// VerifyAll verifies every tenant that has audit records. Tenants come from
// the chain heads and, so that deleting a head row cannot hide a chain, from
// the tenant list too; those are reported when anything of a log remains.
func VerifyAll(ctx context.Context, r store.Reader) ([]Report, error) {
	tenants, err := r.AuditTenants(ctx)
	if err != nil {
		return nil, err
	}
	withHead := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		withHead[t] = true
	}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := r.ListTenants(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			if !withHead[t.ID] {
				tenants = append(tenants, t.ID)
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	slices.Sort(tenants)
	out := make([]Report, 0, len(tenants))
	for _, t := range tenants {
		rep, err := Verify(ctx, r, t)
		if err != nil {
			return out, fmt.Errorf("tenant %s: %w", t, err)
		}
		if withHead[t] || rep.Records > 0 || !rep.OK() {
			out = append(out, rep)
		}
	}
	return out, nil
}

// Checkpoint records every tenant's current chain head, so a later
// truncation of the log is detectable even if the head row is rewritten too.
// It prunes checkpoints older than keep, always keeping each tenant's newest.
func Checkpoint(ctx context.Context, s store.Store, now time.Time, keep time.Duration) (int, error) {
	tenants, err := s.AuditTenants(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.InTx(ctx, func(tx store.Tx) error {
		for _, t := range tenants {
			seq, hash, err := tx.AuditHead(ctx, t)
			if err != nil {
				return err
			}
			if seq == 0 {
				continue
			}
			if err := tx.AddAuditCheckpoint(ctx, store.AuditCheckpoint{TenantID: t, Seq: seq, Hash: hash, Time: now}); err != nil {
				return err
			}
			n++
		}
		if keep > 0 {
			_, err := tx.PruneAuditCheckpoints(ctx, now.Add(-keep))
			return err
		}
		return nil
	})
	return n, err
}

type stop struct{}

func (stop) Error() string { return "stop" }

var errStop error = stop{}
