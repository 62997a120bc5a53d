package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testIntakeBatches covers the intake hot path's batched statements: many
// deliveries in one insert, and claiming many at once exactly once.
func testIntakeBatches(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	var ids []string
	for _, n := range []int{1, 3, 70, 300} { // across the statement size classes
		bs := make([]store.IntakeBatch, n)
		for i := range bs {
			id := fmt.Sprintf("ib_%04d_%03d", n, i)
			bs[i] = store.IntakeBatch{ID: id, TenantID: "acme", Source: "alertmanager-v2", ReceivedAt: t0,
				Header: []byte(`{"Content-Type":"application/json"}`), Body: []byte(fmt.Sprintf(`[{"n":%d}]`, i))}
			ids = append(ids, id)
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != int64(len(ids)) {
		t.Fatalf("unprocessed = %d, %v; want %d", n, err, len(ids))
	}
	got, err := s.UnprocessedIntake(ctx, t0.Add(time.Second), 1000)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("UnprocessedIntake: %d, %v", len(got), err)
	}
	if got[5].ID != "ib_0070_001" || string(got[5].Body) != `[{"n":1}]` || !got[5].ReceivedAt.Equal(t0) {
		t.Fatalf("batch 5 = %+v", got[5])
	}

	// Claim the first 10 one way, then everything (with duplicates) the
	// batched way: only the other ones are claimed, each once.
	mustTx(t, s, func(tx store.Tx) error {
		for _, id := range ids[:10] {
			if ok, err := tx.ClaimIntake(ctx, id); err != nil || !ok {
				return fmt.Errorf("claim %s: %v %v", id, ok, err)
			}
		}
		return nil
	})
	var claimed []string
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		claimed, err = tx.ClaimIntakeBatches(ctx, append(slices.Clone(ids), ids[20], ids[300]))
		return err
	})
	slices.Sort(claimed)
	if want := ids[10:]; !slices.Equal(claimed, want) {
		t.Fatalf("claimed %d batches, want %d (first %v)", len(claimed), len(want), claimed[:min(3, len(claimed))])
	}
	mustTx(t, s, func(tx store.Tx) error {
		again, err := tx.ClaimIntakeBatches(ctx, ids)
		if err == nil && len(again) != 0 {
			err = fmt.Errorf("claimed %d batches twice", len(again))
		}
		return err
	})
	// A claim rolled back with its transaction is not a claim.
	mustTx(t, s, func(tx store.Tx) error {
		return tx.InsertIntakeBatches(ctx, []store.IntakeBatch{{ID: "ib_late", TenantID: "acme", Source: "x", ReceivedAt: t0, Body: []byte("[]")}})
	})
	boom := errors.New("boom")
	if err := s.InTx(ctx, func(tx store.Tx) error {
		if c, err := tx.ClaimIntakeBatches(ctx, []string{"ib_late"}); err != nil || len(c) != 1 {
			return fmt.Errorf("claim: %v %v", c, err)
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if p, err := s.IntakeProcessed(ctx, "ib_late"); err != nil || p {
		t.Fatalf("after rollback processed = %v, %v", p, err)
	}
}

// testAlertsAndRepeats covers reading many alerts at once, one member, and
// counting repeats of members in bulk.
func testAlertsAndRepeats(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	o := newOpsItem("acme", 1)
	o.FirstEventAt, o.LastEventAt, o.Occurrences = t0, t0, 2
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		for i := range 20 {
			fp := fmt.Sprintf("fp%02d", i)
			a := store.Alert{TenantID: "acme", Fingerprint: fp, Source: "alertmanager", Title: "DiskFull", Severity: "high", Status: "firing",
				Labels: map[string]string{"i": fmt.Sprint(i)}, FirstSeen: t0, LastSeen: t0, LastChange: t0, Occurrences: 1,
				Changes: []time.Time{t0}}
			if i < 2 {
				a.OpsItemID = o.ID
				if err := tx.PutOpsItemMember(ctx, store.OpsItemMember{TenantID: "acme", OpsItemID: o.ID, Fingerprint: fp, Title: "DiskFull",
					Source: "alertmanager", Severity: "high", Status: "firing", Occurrences: 1, FirstSeen: t0, LastSeen: t0}); err != nil {
					return err
				}
			}
			if err := tx.PutAlert(ctx, a); err != nil {
				return err
			}
		}
		return tx.PutAlert(ctx, store.Alert{TenantID: "globex", Fingerprint: "fp00", Source: "x", Title: "other", Severity: "low", Status: "firing",
			FirstSeen: t0, LastSeen: t0, LastChange: t0, Occurrences: 9})
	})

	fps := []string{"fp03", "nope", "fp00", "fp19", "fp03"}
	for i := range 70 {
		fps = append(fps, fmt.Sprintf("fp%02d", i%25)) // past the first size class, with misses
	}
	as, err := s.GetAlerts(ctx, "acme", fps)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 20 {
		t.Fatalf("GetAlerts returned %d alerts, want the 20 that exist, once each", len(as))
	}
	for _, a := range as {
		if a.TenantID != "acme" || a.Occurrences != 1 || len(a.Changes) != 1 || !a.Changes[0].Equal(t0) || a.Labels["i"] == "" {
			t.Fatalf("alert %+v", a)
		}
	}
	if as, err := s.GetAlerts(ctx, "globex", []string{"fp00", "fp01"}); err != nil || len(as) != 1 || as[0].Occurrences != 9 {
		t.Fatalf("globex: %+v, %v", as, err)
	}

	m, err := s.GetOpsItemMember(ctx, "acme", o.ID, "fp01")
	if err != nil || m.Fingerprint != "fp01" || m.Occurrences != 1 || !m.FirstSeen.Equal(t0) {
		t.Fatalf("member = %+v, %v", m, err)
	}
	if _, err := s.GetOpsItemMember(ctx, "acme", o.ID, "fp05"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("non-member: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetOpsItemMember(ctx, "globex", o.ID, "fp01"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other tenant: err = %v, want ErrNotFound", err)
	}
	// A person moving a member out: another tenant's delete finds nothing,
	// the tenant's removes exactly that member, a second one finds nothing.
	del := func(tenant, fp string) error {
		return s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteOpsItemMember(ctx, tenant, o.ID, fp) })
	}
	if err := del("globex", "fp01"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete other tenant's member: err = %v, want ErrNotFound", err)
	}
	nBefore, _ := s.ListOpsItemMembers(ctx, "acme", o.ID)
	if err := del("acme", "fp01"); err != nil {
		t.Fatalf("delete member: %v", err)
	}
	if _, err := s.GetOpsItemMember(ctx, "acme", o.ID, "fp01"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted member still there: %v", err)
	}
	if ms, _ := s.ListOpsItemMembers(ctx, "acme", o.ID); len(ms) != len(nBefore)-1 {
		t.Fatalf("members after delete: %d, want %d", len(ms), len(nBefore)-1)
	}
	if err := del("acme", "fp01"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: err = %v, want ErrNotFound", err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.PutOpsItemMember(ctx, m) }); err != nil {
		t.Fatal(err)
	}

	// Counters of many alerts at once; a missing one is skipped, the other
	// tenant's same fingerprint untouched, and the rest of each row kept.
	var counts []store.AlertCounts
	for i := range 70 {
		counts = append(counts, store.AlertCounts{TenantID: "acme", Fingerprint: fmt.Sprintf("fp%02d", i%25), Occurrences: int64(100 + i%25),
			LastSeen: t0.Add(time.Duration(i%25) * time.Minute), SourceUpdatedAt: t0.Add(time.Hour)})
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutAlertCounts(ctx, counts) })
	as, err = s.GetAlerts(ctx, "acme", fps)
	if err != nil || len(as) != 20 {
		t.Fatalf("GetAlerts after counts: %d, %v", len(as), err)
	}
	for _, a := range as {
		var i int
		fmt.Sscanf(a.Fingerprint, "fp%d", &i)
		if a.Occurrences != int64(100+i) || !a.LastSeen.Equal(t0.Add(time.Duration(i)*time.Minute)) || !a.SourceUpdatedAt.Equal(t0.Add(time.Hour)) ||
			a.Status != "firing" || a.Labels["i"] != fmt.Sprint(i) || !a.FirstSeen.Equal(t0) || len(a.Changes) != 1 {
			t.Fatalf("alert after counts: %+v", a)
		}
	}
	if as, err := s.GetAlerts(ctx, "globex", []string{"fp00"}); err != nil || len(as) != 1 || as[0].Occurrences != 9 {
		t.Fatalf("globex after counts: %+v, %v", as, err)
	}
	if as, _ := s.GetAlerts(ctx, "acme", []string{"fp22"}); len(as) != 0 {
		t.Fatalf("counts created an alert: %+v", as)
	}

	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	mustTx(t, s, func(tx store.Tx) error {
		return tx.CountRepeats(ctx, []store.Repeat{
			{TenantID: "acme", OpsItemID: o.ID, Fingerprint: "fp00", N: 3, LastSeen: t2},
			{TenantID: "acme", OpsItemID: o.ID, Fingerprint: "fp01", N: 1, LastSeen: t0.Add(-time.Hour)}, // older: last_seen stays
			{TenantID: "acme", OpsItemID: o.ID, Fingerprint: "fp05", N: 7, LastSeen: t1},                 // not a member: nothing
			{TenantID: "globex", OpsItemID: o.ID, Fingerprint: "fp00", N: 5, LastSeen: t1},               // other tenant: nothing
			{TenantID: "acme", OpsItemID: o.ID, Fingerprint: "fp00", N: 2, LastSeen: t1},                 // the same member again: adds up
		})
	})
	ms, err := s.ListOpsItemMembers(ctx, "acme", o.ID)
	if err != nil || len(ms) != 2 {
		t.Fatalf("members %+v, %v", ms, err)
	}
	if ms[0].Occurrences != 6 || !ms[0].LastSeen.Equal(t2) || ms[1].Occurrences != 2 || !ms[1].LastSeen.Equal(t0) {
		t.Fatalf("members after repeats: %+v", ms)
	}
	got, err := s.GetOpsItem(ctx, "acme", o.ID)
	if err != nil || got.Occurrences != 8 || !got.LastEventAt.Equal(t2) {
		t.Fatalf("opsitem after repeats: occurrences %d, last event %v, %v", got.Occurrences, got.LastEventAt, err)
	}
}

// testInsertEvents covers storing many events in few statements.
func testInsertEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	var es []store.Event
	for i := range 21 { // 16 + 4 + 1 rows
		at := t0.Add(time.Duration(i) * time.Second)
		es = append(es, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "alertmanager", SourceID: fmt.Sprint("src", i),
			Fingerprint: fmt.Sprintf("fp%02d", i), Kind: "alert", Severity: "high", Status: "firing", Title: "DiskFull", Description: "d",
			Resources: []byte(`[{"type":"host","id":"web-1"}]`), ResourceKey: "web-1", Labels: map[string]string{"i": fmt.Sprint(i)},
			OccurredAt: at, ReceivedAt: at, Raw: []byte(`{"x":1}`), OpsItemID: "oi_x", Decision: "opened", Reason: "rule r"})
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.InsertEvents(ctx, es) })
	got, _, err := s.ListEvents(ctx, "acme", store.EventFilter{}, store.Page{Limit: 100})
	if err != nil || len(got) != 21 {
		t.Fatalf("ListEvents: %d, %v", len(got), err)
	}
	for _, g := range got {
		i := slices.IndexFunc(es, func(e store.Event) bool { return e.ID == g.ID })
		if i < 0 || g.Fingerprint != es[i].Fingerprint || g.Labels["i"] != fmt.Sprint(i) || string(g.Raw) != `{"x":1}` ||
			string(g.Resources) != string(es[i].Resources) || !g.OccurredAt.Equal(es[i].OccurredAt) || g.Decision != "opened" {
			t.Fatalf("event %+v", g)
		}
	}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.InsertEvents(ctx, es[3:5]) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate events: %v, want ErrConflict", err)
	}
	// GetEvent: one event, raw included; not another tenant's.
	if g, err := s.GetEvent(ctx, "acme", es[7].ID); err != nil || g.ID != es[7].ID || string(g.Raw) != `{"x":1}` || g.Labels["i"] != "7" {
		t.Errorf("GetEvent = %+v, %v", g, err)
	}
	mkTenant(t, s, "globex")
	if _, err := s.GetEvent(ctx, "globex", es[7].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent from another tenant: %v, want ErrNotFound", err)
	}
	// A page continues after EventCursor of any event it kept.
	page, _, err := s.ListEvents(ctx, "acme", store.EventFilter{}, store.Page{Limit: 5})
	if err != nil || len(page) != 5 {
		t.Fatalf("page: %d, %v", len(page), err)
	}
	rest, _, err := s.ListEvents(ctx, "acme", store.EventFilter{}, store.Page{Limit: 5, Cursor: store.EventCursor(page[2])})
	if err != nil || len(rest) != 5 || rest[0].ID != page[3].ID {
		t.Errorf("after EventCursor(page[2]): %d events starting %v, want page[3] %s", len(rest), rest, page[3].ID)
	}
}

// testAuditBatch covers records a transaction chains itself: after an
// AppendAudit, records linked in memory, stored together, and the head moved
// to the last; the chain then goes on from there.
func testAuditBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	first := appendAudit(t, s, "acme", "opsitem.open")
	var batch []store.AuditRecord
	mustTx(t, s, func(tx store.Tx) error {
		r := store.AuditRecord{TenantID: "acme", Time: t0, Actor: "system:pipeline", Action: "opsitem.open", Result: "ok"}
		if err := tx.AppendAudit(ctx, &r, chainHash); err != nil {
			return err
		}
		prev := r
		for i := range 40 {
			n := store.AuditRecord{TenantID: "acme", Seq: prev.Seq + 1, Time: t0.Add(time.Duration(i) * time.Second), Actor: "system:pipeline",
				Action: "opsitem.open", Target: fmt.Sprint("opsitem/oi_", i), Result: "ok", Detail: []byte(`{"i":1}`), PrevHash: prev.Hash}
			n.Hash = chainHash(n)
			batch = append(batch, n)
			prev = n
		}
		if err := tx.InsertAuditRecords(ctx, batch); err != nil {
			return err
		}
		return tx.SetAuditHead(ctx, "acme", prev.Seq, prev.Hash)
	})
	last := batch[len(batch)-1]
	if seq, hash, err := s.AuditHead(ctx, "acme"); err != nil || seq != 42 || hash != last.Hash || last.Seq != 42 {
		t.Fatalf("head = %d %s %v; want 42 %s", seq, hash, err, last.Hash)
	}
	var got []store.AuditRecord
	if err := s.ScanAudit(ctx, "acme", 0, func(r store.AuditRecord) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 42 || got[0].Hash != first.Hash || got[2].PrevHash != got[1].Hash || got[41].Hash != last.Hash || string(got[41].Detail) != `{"i":1}` {
		t.Fatalf("chain of %d records: %+v … %+v", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq != int64(i+1) || got[i].PrevHash != got[i-1].Hash || chainHash(got[i]) != got[i].Hash {
			t.Fatalf("record %d breaks the chain: %+v", i, got[i])
		}
	}
	next := appendAudit(t, s, "acme", "opsitem.update")
	if next.Seq != 43 || next.PrevHash != last.Hash {
		t.Fatalf("append after the batch: seq %d prev %s", next.Seq, next.PrevHash)
	}

	// A transaction may take the head instead and link every record itself,
	// the first of a tenant included.
	mkTenant(t, s, "fresh")
	for _, tenant := range []string{"acme", "fresh"} {
		var taken []store.AuditRecord
		mustTx(t, s, func(tx store.Tx) error {
			seq, hash, err := tx.TakeAuditHead(ctx, tenant)
			if err != nil {
				return err
			}
			if want := map[string]int64{"acme": 43, "fresh": 0}[tenant]; seq != want || (seq == 43) != (hash == next.Hash) || (seq == 0) != (hash == "") {
				t.Errorf("head of %s taken: %d %q, want %d", tenant, seq, hash, want)
			}
			for i := range 3 {
				r := store.AuditRecord{TenantID: tenant, Seq: seq + 1, Time: t0.Add(time.Duration(i) * time.Second), Actor: "system:pipeline",
					Action: "opsitem.open", Result: "ok", PrevHash: hash}
				r.Hash = chainHash(r)
				taken = append(taken, r)
				seq, hash = r.Seq, r.Hash
			}
			if err := tx.InsertAuditRecords(ctx, taken); err != nil {
				return err
			}
			return tx.SetAuditHead(ctx, tenant, seq, hash)
		})
		after := appendAudit(t, s, tenant, "opsitem.update")
		if l := taken[len(taken)-1]; after.Seq != l.Seq+1 || after.PrevHash != l.Hash {
			t.Errorf("append after the records linked from a taken head of %s: seq %d prev %s, want %d %s", tenant, after.Seq, after.PrevHash, l.Seq+1, l.Hash)
		}
	}
}
