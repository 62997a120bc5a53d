package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const chainLen = 5

// tamperCase changes one tenant's log directly in the database; Verify must
// then report the first break at wantSeq with a reason containing wantReason.
type tamperCase struct {
	name       string
	tamper     func(t *testing.T, st store.Store, exec execFunc, tenant string)
	wantSeq    int64
	wantReason string
}

var tamperCases = []tamperCase{
	{
		name: "record altered",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "UPDATE audit_records SET action = 'token.revoke' WHERE tenant_id = $1 AND seq = 3", tenant)
		},
		wantSeq: 3, wantReason: "altered",
	},
	{
		name: "record altered and rehashed",
		tamper: func(t *testing.T, st store.Store, exec execFunc, tenant string) {
			rewrite(t, st, exec, tenant, 3, 3, false)
		},
		wantSeq: 4, wantReason: "previous-hash link does not match record 3",
	},
	{
		name: "middle record deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq = 3", tenant)
		},
		wantSeq: 3, wantReason: "deleted",
	},
	{
		name: "first record deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq = 1", tenant)
		},
		wantSeq: 1, wantReason: "deleted",
	},
	{
		name: "last record deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq = $2", tenant, chainLen)
		},
		wantSeq: chainLen, wantReason: fmt.Sprintf("the chain head says %d records exist, found %d (tail deleted)", chainLen, chainLen-1),
	},
	{
		name: "every record deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1", tenant)
		},
		wantSeq: 1, wantReason: "tail deleted",
	},
	{
		// The head row is rewritten to match the shortened chain; only the
		// checkpoint taken before the deletion remembers the lost record.
		name: "last record deleted and head rewritten",
		tamper: func(t *testing.T, st store.Store, exec execFunc, tenant string) {
			prev := record(t, st, tenant, chainLen-1)
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1 AND seq = $2", tenant, chainLen)
			exec(t, "UPDATE audit_heads SET seq = $1, hash = $2 WHERE tenant_id = $3", prev.Seq, prev.Hash, tenant)
		},
		wantSeq: chainLen, wantReason: fmt.Sprintf("a checkpoint recorded %d records, found %d (tail deleted)", chainLen, chainLen-1),
	},
	{
		// A consistent forgery: records 3.. rewritten with valid hashes and
		// links, the head row updated to match. The checkpoint catches it.
		name: "chain rewritten from record 3 with head",
		tamper: func(t *testing.T, st store.Store, exec execFunc, tenant string) {
			rewrite(t, st, exec, tenant, 3, chainLen, true)
		},
		wantSeq: chainLen, wantReason: "differs from the checkpoint taken earlier: rewritten",
	},
	{
		// Without its head row a chain drops out of AuditTenants; the records
		// beyond the (now missing) head still give it away.
		name: "head row deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_heads WHERE tenant_id = $1", tenant)
		},
		wantSeq: 1, wantReason: "head deleted or rewound",
	},
	{
		name: "head row rewound",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "UPDATE audit_heads SET seq = 2 WHERE tenant_id = $1", tenant)
		},
		wantSeq: 3, wantReason: "head deleted or rewound",
	},
	{
		name: "head row and every record deleted",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "DELETE FROM audit_records WHERE tenant_id = $1", tenant)
			exec(t, "DELETE FROM audit_heads WHERE tenant_id = $1", tenant)
		},
		wantSeq: 1, wantReason: fmt.Sprintf("a checkpoint recorded %d records, found 0", chainLen),
	},
	{
		name: "head hash rewritten",
		tamper: func(t *testing.T, _ store.Store, exec execFunc, tenant string) {
			exec(t, "UPDATE audit_heads SET hash = $1 WHERE tenant_id = $2", strings.Repeat("0", 64), tenant)
		},
		wantSeq: chainLen, wantReason: "differs from the chain head",
	},
}

// TestVerifyDetectsTampering gives each case a tenant of its own in one
// database, takes a checkpoint (as the periodic job would), tampers, and
// checks both the tampered tenant and an untouched bystander.
func TestVerifyDetectsTampering(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, exec execFunc) {
		ctx := context.Background()
		const bystander = "bystander"
		tenants := []string{bystander, "no-records"}
		for i := range tamperCases {
			tenants = append(tenants, caseTenant(i))
		}
		err := st.InTx(ctx, func(tx store.Tx) error {
			for _, id := range tenants {
				if err := tx.CreateTenant(ctx, store.Tenant{ID: id, Name: id, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, st, bystander, chainLen)
		for i := range tamperCases {
			appendN(t, st, caseTenant(i), chainLen)
		}
		if _, err := audit.Checkpoint(ctx, st, t0, 0); err != nil {
			t.Fatal(err)
		}

		for i, tc := range tamperCases {
			t.Run(tc.name, func(t *testing.T) {
				tenant := caseTenant(i)
				if rep, err := audit.Verify(ctx, st, tenant); err != nil || !rep.OK() {
					t.Fatalf("before tampering: %+v, %v", rep, err)
				}
				tc.tamper(t, st, exec, tenant)

				rep, err := audit.Verify(ctx, st, tenant)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() {
					t.Fatalf("Verify = OK after tampering (%+v)", rep)
				}
				if rep.Broken.Seq != tc.wantSeq || !strings.Contains(rep.Broken.Reason, tc.wantReason) {
					t.Errorf("Broken = %s; want record %d: …%s…", rep.Broken, tc.wantSeq, tc.wantReason)
				}
				if rep, err := audit.Verify(ctx, st, bystander); err != nil || !rep.OK() || rep.Records != chainLen {
					t.Errorf("untouched tenant: %+v, %v", rep, err)
				}
			})
		}

		// VerifyAll still finds the tenants whose head row is gone, and
		// leaves out the one that never had a log.
		reps, err := audit.VerifyAll(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != len(tamperCases)+1 {
			t.Fatalf("VerifyAll returned %d reports, want %d: %+v", len(reps), len(tamperCases)+1, reps)
		}
		for _, rep := range reps {
			if ok := rep.Tenant == bystander; rep.OK() != ok {
				t.Errorf("VerifyAll %s: OK = %v (%s)", rep.Tenant, rep.OK(), rep.Broken)
			}
		}
	})
}

func caseTenant(i int) string { return fmt.Sprintf("case%02d", i) }

// record reads one stored record.
func record(t *testing.T, st store.Store, tenant string, seq int64) store.AuditRecord {
	t.Helper()
	var out store.AuditRecord
	err := st.ScanAudit(context.Background(), tenant, seq-1, func(r store.AuditRecord) error {
		if out.Seq == 0 {
			out = r
		}
		return nil
	})
	if err != nil || out.Seq != seq {
		t.Fatalf("record %s/%d: %+v, %v", tenant, seq, out, err)
	}
	return out
}

// rewrite forges records from..to: a changed action, re-hashed and
// re-linked so each one is self-consistent; with head, the head row too.
func rewrite(t *testing.T, st store.Store, exec execFunc, tenant string, from, to int64, head bool) {
	t.Helper()
	prev := ""
	if from > 1 {
		prev = record(t, st, tenant, from-1).Hash
	}
	for seq := from; seq <= to; seq++ {
		r := record(t, st, tenant, seq)
		r.Action, r.PrevHash = "audit.forged", prev
		r.Hash = audit.Hash(r)
		exec(t, "UPDATE audit_records SET action = $1, prev_hash = $2, hash = $3 WHERE tenant_id = $4 AND seq = $5",
			r.Action, r.PrevHash, r.Hash, tenant, seq)
		prev = r.Hash
	}
	if head {
		exec(t, "UPDATE audit_heads SET hash = $1 WHERE tenant_id = $2", prev, tenant)
	}
}

// TestVerifyBesideAppends: a live server keeps appending while verify runs;
// records committed mid-walk must never look like tampering.
func TestVerifyBesideAppends(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, _ execFunc) {
		ctx := context.Background()
		appendN(t, st, "acme", 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			appendN(t, st, "acme", 100)
		}()
		defer func() { <-done }() // the appender uses t; let it finish first
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			reps, err := audit.VerifyAll(ctx, st)
			if err != nil {
				t.Error(err)
				return
			}
			for _, rep := range reps {
				if !rep.OK() {
					t.Errorf("verify beside appends: %s", rep.Broken)
					return
				}
			}
		}
	})
}
