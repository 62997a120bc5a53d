package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testStats: the aggregates behind the flywheel metrics — noise counters
// summed per bucket, OpsItems created or resolved in a period, the
// runbooks run on them and their resource types — each scoped to its
// tenant and period.
func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	from := t0.Truncate(time.Hour)

	// Noise: minutes 0, 1 and 61 of acme, minute 0 of globex, one minute
	// before the period.
	mustTx(t, s, func(tx store.Tx) error {
		for _, b := range []store.NoiseBucket{
			{TenantID: "acme", Minute: from, Received: 10, Opened: 2, Suppressed: map[string]int64{"silence": 3}},
			{TenantID: "acme", Minute: from.Add(time.Minute), Received: 5, Deduplicated: 4, Opened: 1},
			{TenantID: "acme", Minute: from.Add(61 * time.Minute), Received: 7, Opened: 1, Suppressed: map[string]int64{"transient": 2}},
			{TenantID: "acme", Minute: from.Add(-time.Minute), Received: 100},
			{TenantID: "globex", Minute: from, Received: 1000},
		} {
			if err := tx.AddNoise(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	series, err := s.NoiseSeries(ctx, "acme", from, from.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("NoiseSeries: %d buckets, want 2: %+v", len(series), series)
	}
	if b := series[0]; !b.Minute.Equal(from) || b.Received != 15 || b.Deduplicated != 4 || b.Opened != 3 || b.Suppressed["silence"] != 3 {
		t.Errorf("first bucket = %+v", b)
	}
	if b := series[1]; !b.Minute.Equal(from.Add(time.Hour)) || b.Received != 7 || b.Opened != 1 || b.Suppressed["transient"] != 2 {
		t.Errorf("second bucket = %+v", b)
	}
	if _, err := s.NoiseSeries(ctx, "acme", from, from.Add(time.Hour), 0); err == nil {
		t.Error("NoiseSeries with a zero step: no error")
	}

	// OpsItems: created before the period and resolved in it (a), created
	// in it and open (b), created and resolved before it (c), created after
	// it (d), and globex's (e).
	at := func(m int) *time.Time { x := from.Add(time.Duration(m) * time.Minute); return &x }
	mk := func(i int, created int, resolved *time.Time, by string) store.OpsItem {
		o := newOpsItem("acme", i)
		o.CreatedAt, o.UpdatedAt = *at(created), *at(created)
		if resolved != nil {
			o.Status, o.ResolvedAt, o.ResolvedBy = "resolved", resolved, by
		}
		return o
	}
	a, b, c, d := mk(1, -30, at(20), "token:tok_1"), mk(2, 10, nil, ""), mk(3, -90, at(-60), "automation:rule:x"), mk(4, 200, nil, "")
	a.HumanSeconds = 420
	e := newOpsItem("globex", 5)
	e.CreatedAt = *at(5)
	mustTx(t, s, func(tx store.Tx) error {
		for _, o := range []store.OpsItem{a, b, c, d, e} {
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
		}
		for _, r := range []struct {
			o   store.OpsItem
			res store.OpsItemResource
		}{{a, store.OpsItemResource{Type: "host", ID: "web-01"}}, {a, store.OpsItemResource{Type: "host", ID: "web-02"}},
			{a, store.OpsItemResource{Type: "ebs-volume", ID: "vol-1"}}, {c, store.OpsItemResource{Type: "host", ID: "web-03"}}} {
			if err := tx.AddOpsItemResource(ctx, r.o.TenantID, r.o.ID, r.res); err != nil {
				return err
			}
		}
		for i, x := range []store.Execution{
			{Runbook: "restart-service", OpsItemID: a.ID, StartedBy: "token:tok_1", Status: "succeeded"},
			{Runbook: "collect-host-diagnostics", OpsItemID: a.ID, Rule: "diag", StartedBy: "rule:diag", Status: "succeeded", DryRun: true},
			{Runbook: "nested", OpsItemID: a.ID, StartedBy: "token:tok_1", Status: "succeeded", ParentID: "ex_parent"},
			{Runbook: "restart-service", OpsItemID: c.ID, StartedBy: "token:tok_1", Status: "failed"},
			{Runbook: "restart-service", StartedBy: "token:tok_1", Status: "succeeded"},
		} {
			x.TenantID, x.ID = "acme", store.NewID("ex", t0.Add(time.Duration(i)*time.Second))
			x.CreatedAt, x.UpdatedAt = t0, t0
			if err := tx.CreateExecution(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	err = s.ScanOpsItemsActive(ctx, "acme", from, from.Add(3*time.Hour), func(o store.OpsItem) error {
		got = append(got, o.ID)
		if o.ID == a.ID && (o.Title != a.Title || o.Category != a.Category || o.Status != "resolved" || o.ResolvedBy != a.ResolvedBy ||
			o.ResolvedAt == nil || !o.ResolvedAt.Equal(*a.ResolvedAt) || !o.CreatedAt.Equal(a.CreatedAt) || o.HumanSeconds != a.HumanSeconds) {
			t.Errorf("ScanOpsItemsActive gave %+v, want the fields of %+v", o, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{a.ID, b.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ScanOpsItemsActive = %v, want %v (oldest first)", got, want)
	}

	// Open at a moment: a until it is resolved (still at minute 20, not
	// after), b from minute 10; c was resolved before, d comes later, e is
	// globex's.
	for _, tc := range []struct {
		minute int
		want   int64
	}{{-40, 0}, {0, 1}, {15, 2}, {20, 2}, {21, 1}, {300, 2}} {
		open, err := s.CountOpenOpsItems(ctx, "acme", *at(tc.minute))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, c := range open {
			n += c
		}
		if n != tc.want || (n > 0 && open[a.Category] == 0) {
			t.Errorf("CountOpenOpsItems at minute %d = %v, want %d in all", tc.minute, open, tc.want)
		}
	}

	rbs, err := s.ListOpsItemRunbooks(ctx, "acme", from, from.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.OpsItemRunbook{
		{OpsItemID: a.ID, Runbook: "restart-service", StartedBy: "token:tok_1", Status: "succeeded"},
		{OpsItemID: a.ID, Runbook: "collect-host-diagnostics", Rule: "diag", StartedBy: "rule:diag", Status: "succeeded", DryRun: true},
	}
	if !reflect.DeepEqual(rbs, want) {
		t.Errorf("ListOpsItemRunbooks = %+v\nwant %+v", rbs, want)
	}

	types, err := s.ListOpsItemResourceTypes(ctx, "acme", from, from.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{a.ID: {"ebs-volume", "host"}}; !reflect.DeepEqual(types, want) {
		t.Errorf("ListOpsItemResourceTypes = %v, want %v", types, want)
	}
	for _, id := range []string{"globex"} {
		n := 0
		_ = s.ScanOpsItemsActive(ctx, id, from, from.Add(3*time.Hour), func(store.OpsItem) error { n++; return nil })
		if n != 1 {
			t.Errorf("globex: %d active OpsItems, want its 1", n)
		}
	}
}

// testAuditSearch: SearchAudit filters by actor, action prefix and target
// prefix (LIKE characters literal), pages newest first, and stays in its
// tenant; ListAudit is the unfiltered search.
func testAuditSearch(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	for i, r := range []store.AuditRecord{
		{TenantID: "acme", Actor: "token:tok_a", Action: "silence.create", Target: "silence/sil_1"},
		{TenantID: "acme", Actor: "token:tok_b", Action: "silence.expire", Target: "silence/sil_1"},
		{TenantID: "acme", Actor: "token:tok_a", Action: "opsitem.update", Target: "opsitem/oi_1"},
		{TenantID: "acme", Actor: "system:pipeline", Action: "opsitem_update", Target: "opsitem/oi_2"},
		{TenantID: "globex", Actor: "token:tok_a", Action: "silence.create", Target: "silence/sil_9"},
	} {
		r.Time, r.Result = t0.Add(time.Duration(i)*time.Second), "ok"
		mustTx(t, s, func(tx store.Tx) error { return tx.AppendAudit(ctx, &r, chainHash) })
	}
	targets := func(f store.AuditFilter, page store.Page) ([]string, string) {
		t.Helper()
		rs, next, err := s.SearchAudit(ctx, "acme", f, page)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Action+" "+r.Target)
		}
		return out, next
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want []string
	}{
		{store.AuditFilter{Actor: "token:tok_a"}, []string{"opsitem.update opsitem/oi_1", "silence.create silence/sil_1"}},
		{store.AuditFilter{Action: "silence."}, []string{"silence.expire silence/sil_1", "silence.create silence/sil_1"}},
		{store.AuditFilter{Action: "opsitem."}, []string{"opsitem.update opsitem/oi_1"}}, // "_" is not a wildcard
		{store.AuditFilter{Target: "opsitem/oi_2"}, []string{"opsitem_update opsitem/oi_2"}},
		{store.AuditFilter{Actor: "token:tok_a", Action: "silence"}, []string{"silence.create silence/sil_1"}},
		{store.AuditFilter{Target: "silence/sil_9"}, nil},
	} {
		if got, _ := targets(tc.f, store.Page{}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SearchAudit(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	first, next := targets(store.AuditFilter{}, store.Page{Limit: 3})
	rest, last := targets(store.AuditFilter{}, store.Page{Limit: 3, Cursor: next})
	if len(first) != 3 || len(rest) != 1 || last != "" || rest[0] != "silence.create silence/sil_1" {
		t.Errorf("pages: %q (next %q), %q (next %q)", first, next, rest, last)
	}
	if _, _, err := s.SearchAudit(ctx, "acme", store.AuditFilter{}, store.Page{Cursor: "x"}); err == nil {
		t.Error("a bad cursor: no error")
	}
}
