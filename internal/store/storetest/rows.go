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

// testRowsWriter covers the batched writes of new alerts (store.RowsWriter):
// many rows per call, across the statement size classes, equal to what the
// one-row writes store; upserts replace, resource links are added once.
func testRowsWriter(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	const n = 95 // 64 + 16 + 8 + 4 + 2 + 1: every size class but 256
	var (
		alerts  []store.Alert
		items   []store.OpsItem
		members []store.OpsItemMember
		links   []store.OpsItemResourceLink
		lines   []store.TimelineEntry
	)
	for i := range n {
		fp, id := fmt.Sprintf("fp%03d", i), fmt.Sprintf("oi_rows_%03d", i)
		at := t0.Add(time.Duration(i) * time.Second)
		alerts = append(alerts, store.Alert{TenantID: "acme", Fingerprint: fp, Source: "alertmanager", Title: "Alert " + fp, Severity: "high",
			Status: "firing", Labels: map[string]string{"alertname": "A", "i": fp}, FirstSeen: at, LastSeen: at, LastChange: at,
			Occurrences: 1, OpsItemID: id, Changes: []time.Time{at}, Rule: "r", GroupKey: fp})
		items = append(items, store.OpsItem{ID: id, TenantID: "acme", Title: "Alert " + fp, Category: "monitoring", Severity: "high",
			Status: "open", Source: "alertmanager", CreatedAt: at, UpdatedAt: at, Rule: "r", GroupKey: fp, FirstEventAt: at, LastEventAt: at,
			Occurrences: 1, Resolution: "all", OperationalData: []byte(`{"generator_url":"http://p"}`)})
		members = append(members, store.OpsItemMember{TenantID: "acme", OpsItemID: id, Fingerprint: fp, Title: "Alert " + fp, Source: "alertmanager",
			Severity: "high", Status: "firing", Occurrences: 1, FirstSeen: at, LastSeen: at})
		links = append(links, store.OpsItemResourceLink{TenantID: "acme", OpsItemID: id, OpsItemResource: store.OpsItemResource{Type: "host", ID: "web-" + fp}})
		lines = append(lines, store.TimelineEntry{ID: fmt.Sprintf("tl_rows_%03d", i), TenantID: "acme", OpsItemID: id, At: at, Kind: "opened",
			Message: "opened by " + fp, Actor: "system:pipeline"})
	}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.PutAlerts(ctx, alerts); err != nil {
			return err
		}
		if err := tx.CreateOpsItems(ctx, items); err != nil {
			return err
		}
		if err := tx.PutOpsItemMembers(ctx, members); err != nil {
			return err
		}
		if err := tx.AddOpsItemResources(ctx, links); err != nil {
			return err
		}
		return tx.AddTimelines(ctx, lines)
	})

	// Upserts: alerts and members replaced, a link added again is one link.
	alerts[7].Status, alerts[7].Occurrences, alerts[7].Flapping = "resolved", 5, true
	members[7].Status, members[7].Occurrences = "resolved", 5
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.PutAlerts(ctx, alerts[5:9]); err != nil {
			return err
		}
		if err := tx.PutOpsItemMembers(ctx, members[5:9]); err != nil {
			return err
		}
		return tx.AddOpsItemResources(ctx, links[6:8])
	})

	got, err := s.GetAlerts(ctx, "acme", []string{"fp000", "fp007", "fp089"})
	if err != nil || len(got) != 3 {
		t.Fatalf("GetAlerts: %d, %v", len(got), err)
	}
	for _, a := range got {
		var want store.Alert
		for _, w := range alerts {
			if w.Fingerprint == a.Fingerprint {
				want = w
			}
		}
		if a.Status != want.Status || a.Occurrences != want.Occurrences || a.Flapping != want.Flapping || a.OpsItemID != want.OpsItemID ||
			a.Labels["i"] != a.Fingerprint || !a.LastChange.Equal(want.LastChange) || len(a.Changes) != 1 || !a.Changes[0].Equal(want.Changes[0]) {
			t.Errorf("alert %s = %+v, want %+v", a.Fingerprint, a, want)
		}
	}
	for _, i := range []int{0, 7, 89} {
		id := items[i].ID
		o, err := s.GetOpsItem(ctx, "acme", id)
		if err != nil || o.Title != items[i].Title || o.GroupKey != items[i].GroupKey || !o.FirstEventAt.Equal(items[i].FirstEventAt) ||
			string(o.OperationalData) != `{"generator_url":"http://p"}` {
			t.Errorf("opsitem %s = %+v, %v", id, o, err)
		}
		ms, err := s.ListOpsItemMembers(ctx, "acme", id)
		if err != nil || len(ms) != 1 || ms[0].Fingerprint != members[i].Fingerprint || ms[0].Status != members[i].Status ||
			ms[0].Occurrences != members[i].Occurrences {
			t.Errorf("members of %s = %+v, %v", id, ms, err)
		}
		rs, err := s.ListOpsItemResources(ctx, "acme", id)
		if err != nil || len(rs) != 1 || rs[0] != links[i].OpsItemResource {
			t.Errorf("resources of %s = %+v, %v", id, rs, err)
		}
		tl, err := s.ListTimeline(ctx, "acme", id)
		if err != nil || len(tl) != 1 || tl[0].ID != lines[i].ID || tl[0].Message != lines[i].Message || !tl[0].At.Equal(lines[i].At) {
			t.Errorf("timeline of %s = %+v, %v", id, tl, err)
		}
	}
	// Inhibition keys: replaced per alert, removed with none.
	mustTx(t, s, func(tx store.Tx) error {
		var ks []store.InhibitKeys
		for i := range n {
			ks = append(ks, store.InhibitKeys{TenantID: "acme", Fingerprint: fmt.Sprintf("fp%03d", i), Keys: []string{"k" + fmt.Sprint(i%3), "all"}})
		}
		return tx.SetInhibitKeysMany(ctx, ks)
	})
	mustTx(t, s, func(tx store.Tx) error {
		return tx.SetInhibitKeysMany(ctx, []store.InhibitKeys{{TenantID: "acme", Fingerprint: "fp001", Keys: []string{"k9"}},
			{TenantID: "acme", Fingerprint: "fp002"}})
	})
	inhibiting := func(keys []string, except string) string {
		t.Helper()
		fp, err := s.InhibitingAlert(ctx, "acme", keys, except)
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	if fp := inhibiting([]string{"k9"}, ""); fp != "fp001" {
		t.Errorf("k9 asserted by %q, want fp001", fp)
	}
	if fp := inhibiting([]string{"k9"}, "fp001"); fp != "" {
		t.Errorf("k9 asserted by %q besides fp001", fp)
	}
	if fp := inhibiting([]string{"k1"}, ""); fp == "" || fp == "fp001" {
		t.Errorf("k1 asserted by %q (fp001 replaced its keys)", fp)
	}
	if fp := inhibiting([]string{"k2", "nothing"}, ""); fp == "" || fp == "fp002" {
		t.Errorf("k2 asserted by %q (fp002 has none left)", fp)
	}
	var keys []string
	if err := s.InhibitKeys(ctx, "acme", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"all", "k0", "k1", "k2", "k9"}; !slices.Equal(keys, want) {
		t.Errorf("inhibit keys of acme = %q, want %q (each once)", keys, want)
	}
	stop := errors.New("stop")
	if err := s.InhibitKeys(ctx, "acme", func(string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("InhibitKeys returned %v, want fn's error", err)
	}
	if err := s.InhibitKeys(ctx, "other", func(k string) error { return fmt.Errorf("tenant other has key %q", k) }); err != nil {
		t.Error(err)
	}
	// A new alert's keys are added, deleting none first (New says there
	// are none); the others' are replaced.
	mustTx(t, s, func(tx store.Tx) error {
		return tx.SetInhibitKeysMany(ctx, []store.InhibitKeys{{TenantID: "acme", Fingerprint: "fpA", Keys: []string{"x1"}},
			{TenantID: "acme", Fingerprint: "fpB", Keys: []string{"x2"}}})
	})
	mustTx(t, s, func(tx store.Tx) error {
		return tx.SetInhibitKeysMany(ctx, []store.InhibitKeys{{TenantID: "acme", Fingerprint: "fpA", Keys: []string{"y1"}, New: true},
			{TenantID: "acme", Fingerprint: "fpB", Keys: []string{"y2"}}, {TenantID: "acme", Fingerprint: "fpC", Keys: []string{"y3"}, New: true}})
	})
	for key, want := range map[string]string{"x1": "fpA", "y1": "fpA", "x2": "", "y2": "fpB", "y3": "fpC"} {
		if fp := inhibiting([]string{key}, ""); fp != want {
			t.Errorf("%s asserted by %q, want %q", key, fp, want)
		}
	}

	// Correlation groups of OpsItems: each once, whatever the status, of
	// the tenant only.
	mkTenant(t, s, "groups")
	mustTx(t, s, func(tx store.Tx) error {
		for i, o := range []store.OpsItem{{Rule: "r", GroupKey: "g1", Status: "open"}, {Rule: "r", GroupKey: "g1", Status: "resolved"},
			{Rule: "r", GroupKey: "g2", Status: "closed"}, {Status: "open"}} {
			o.ID, o.TenantID, o.Title, o.Category, o.Severity, o.CreatedAt, o.UpdatedAt = fmt.Sprint("oi_group_", i), "groups", "T", "monitoring", "high", t0, t0
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	var groups []string
	if err := s.OpsItemGroups(ctx, "groups", func(rule, key string) error { groups = append(groups, rule+"/"+key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(groups)
	if want := []string{"/", "r/g1", "r/g2"}; !slices.Equal(groups, want) {
		t.Errorf("groups of OpsItems = %q, want %q", groups, want)
	}
	if err := s.OpsItemGroups(ctx, "groups", func(string, string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("OpsItemGroups returned %v, want fn's error", err)
	}

	// An OpsItem created twice is a conflict, and nothing of that call stays.
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CreateOpsItems(ctx, items[:2]) })
	if err == nil {
		t.Fatal("creating existing OpsItems succeeded")
	}
}
