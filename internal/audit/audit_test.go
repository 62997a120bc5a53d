package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// appendN appends n records to tenant's chain, one transaction each.
func appendN(t testing.TB, st store.Store, tenant string, n int) []store.AuditRecord {
	t.Helper()
	ctx := context.Background()
	out := make([]store.AuditRecord, 0, n)
	for i := range n {
		err := st.InTx(ctx, func(tx store.Tx) error {
			r, err := audit.Append(ctx, tx, tenant, t0.Add(time.Duration(i)*time.Second), audit.Entry{
				Actor:  "token:tok_1",
				Action: "opsitem.update",
				Target: fmt.Sprintf("opsitem/oi_%d", i),
				Detail: map[string]any{"i": i, "status": "resolved"},
			})
			out = append(out, r)
			return err
		})
		if err != nil {
			t.Fatalf("append %s #%d: %v", tenant, i+1, err)
		}
	}
	return out
}

func TestAppendAndVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, _ execFunc) {
		ctx := context.Background()
		recs := appendN(t, st, "acme", 4)

		last := recs[len(recs)-1]
		if last.Seq != 4 || last.PrevHash != recs[2].Hash || last.Hash != audit.Hash(last) {
			t.Errorf("last record = %+v; want seq 4 linked to record 3", last)
		}
		if last.Result != "ok" {
			t.Errorf("Result = %q, want the default ok", last.Result)
		}
		if !last.Time.Equal(t0.Add(3 * time.Second).Truncate(time.Microsecond)) {
			t.Errorf("Time = %s, want microsecond precision", last.Time)
		}
		// What the store gives back hashes the same as what was appended.
		list, _, err := st.ListAudit(ctx, "acme", store.Page{Limit: 1})
		if err != nil || len(list) != 1 {
			t.Fatalf("ListAudit = %v, %v", list, err)
		}
		if got := list[0]; got.Hash != last.Hash || audit.Hash(got) != got.Hash || string(got.Detail) != `{"i":3,"status":"resolved"}` {
			t.Errorf("stored record = %+v", got)
		}

		rep, err := audit.Verify(ctx, st, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Records != 4 || rep.Head != last.Hash || rep.Tenant != "acme" {
			t.Errorf("Verify = %+v; want 4 records, head %s", rep, last.Hash)
		}
		empty, err := audit.Verify(ctx, st, "nobody")
		if err != nil || !empty.OK() || empty.Records != 0 {
			t.Errorf("Verify(empty chain) = %+v, %v", empty, err)
		}
	})
}

func TestAppendRejectsUnmarshalableDetail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, _ execFunc) {
		ctx := context.Background()
		err := st.InTx(ctx, func(tx store.Tx) error {
			_, err := audit.Append(ctx, tx, "acme", t0, audit.Entry{Actor: "system:test", Action: "x", Detail: make(chan int)})
			return err
		})
		if err == nil {
			t.Fatal("Append with a channel detail succeeded")
		}
		if seq, _, err := st.AuditHead(ctx, "acme"); err != nil || seq != 0 {
			t.Errorf("head after failed append = %d, %v; want nothing stored", seq, err)
		}
	})
}

// TestConcurrentAppendsVerify: writers racing on one tenant still produce a
// single unbroken chain.
func TestConcurrentAppendsVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, _ execFunc) {
		ctx := context.Background()
		const writers, each = 6, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					errs <- st.InTx(ctx, func(tx store.Tx) error {
						_, err := audit.Append(ctx, tx, "acme", t0, audit.Entry{Actor: fmt.Sprintf("agent:%d", w), Action: "command.run", Detail: i})
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("append: %v", err)
			}
		}
		rep, err := audit.Verify(ctx, st, "acme")
		if err != nil || !rep.OK() || rep.Records != writers*each {
			t.Errorf("Verify = %+v, %v; want %d records, intact", rep, err, writers*each)
		}
	})
}

func TestCheckpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store, _ execFunc) {
		ctx := context.Background()
		appendN(t, st, "acme", 2)
		appendN(t, st, "globex", 1)
		keep := 24 * time.Hour

		n, err := audit.Checkpoint(ctx, st, t0, keep)
		if err != nil || n != 2 {
			t.Fatalf("Checkpoint = %d, %v; want 2 tenants", n, err)
		}
		appendN(t, st, "acme", 1)
		if _, err := audit.Checkpoint(ctx, st, t0.Add(time.Hour), keep); err != nil {
			t.Fatal(err)
		}
		// Two days on: the first acme checkpoint is past keep and pruned;
		// each tenant's newest survives however old.
		if _, err := audit.Checkpoint(ctx, st, t0.Add(48*time.Hour), keep); err != nil {
			t.Fatal(err)
		}
		acme, err := st.ListAuditCheckpoints(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		_, head, _ := st.AuditHead(ctx, "acme")
		if len(acme) != 1 || acme[0].Seq != 3 || acme[0].Hash != head {
			t.Errorf("acme checkpoints = %+v; want only seq 3 at head %s", acme, head)
		}
		globex, err := st.ListAuditCheckpoints(ctx, "globex")
		if err != nil || len(globex) != 1 || globex[0].Seq != 1 {
			t.Errorf("globex checkpoints = %+v, %v; want its newest kept", globex, err)
		}
	})
}

// TestHashStable pins the hash encoding: changing it would make every
// existing chain fail verification.
func TestHashStable(t *testing.T) {
	r := store.AuditRecord{
		TenantID: "acme", Seq: 7, Time: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC),
		Actor: "token:tok_1", Action: "opsitem.update", Target: "opsitem/oi_1", Result: "ok",
		Detail: []byte(`{"status":"resolved"}`), PrevHash: "abc",
	}
	const want = "714e54aad51e30c151e059941de9dbf978f27a3f23d98d90626f590a12b758ab"
	got := audit.Hash(r)
	if got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	// Field boundaries are length-prefixed: moving bytes between adjacent
	// fields changes the hash.
	moved := r
	moved.Actor, moved.Action = "token:tok_1opsitem", ".update"
	if audit.Hash(moved) == got {
		t.Error("hash ignores field boundaries")
	}
}
