package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testOpsItemHandling: the human-handling fields round-trip, a resolution
// settles the running in-hands interval whoever writes it, and the
// resource and assignee filters select what they name.
func testOpsItemHandling(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	o := newOpsItem("acme", 1)
	acked, since := t0.Add(time.Minute), t0.Add(2*time.Minute)
	o.AcknowledgedAt, o.AcknowledgedBy, o.Assignee = &acked, "token:tok_1", "dana"
	o.HumanSeconds, o.HumanSince = 30, &since
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateOpsItem(ctx, o) })
	got, err := s.GetOpsItem(ctx, "acme", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Errorf("GetOpsItem = %+v\nwant %+v", got, o)
	}
	if n := got.HumanSecondsAt(since.Add(90 * time.Second)); n != 120 {
		t.Errorf("HumanSecondsAt(open, +90s) = %d, want 120", n)
	}

	// An automated resolution (no handling code involved) ends the interval.
	resolved := since.Add(10 * time.Minute)
	o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = "resolved", &resolved, "automation:rule/x", resolved
	mustTx(t, s, func(tx store.Tx) error { return tx.UpdateOpsItem(ctx, o) })
	got, _ = s.GetOpsItem(ctx, "acme", o.ID)
	if got.HumanSince != nil || got.HumanSeconds != 630 {
		t.Errorf("after resolution: human_seconds %d, human_since %v; want 630, none", got.HumanSeconds, got.HumanSince)
	}
	if n := got.HumanSecondsAt(resolved.Add(time.Hour)); n != 630 {
		t.Errorf("HumanSecondsAt(resolved, later) = %d, want 630", n)
	}

	second := newOpsItem("acme", 2)
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, second); err != nil {
			return err
		}
		return tx.AddOpsItemResource(ctx, "acme", second.ID, store.OpsItemResource{Type: "host", ID: "web-02"})
	})
	if got, _ := s.GetOpsItem(ctx, "acme", second.ID); got.HumanSeconds != 0 || got.HumanSince != nil || got.AcknowledgedAt != nil {
		t.Errorf("untouched OpsItem has handling: %+v", got)
	}
	for _, tc := range []struct {
		f    store.OpsItemFilter
		want string
	}{
		{store.OpsItemFilter{Resource: "web-02"}, second.ID},
		{store.OpsItemFilter{Resource: "web-0"}, ""},
		{store.OpsItemFilter{Assignee: "dana"}, o.ID},
		{store.OpsItemFilter{Assignee: "dana", Status: "open"}, ""},
	} {
		list, _, err := s.ListOpsItems(ctx, "acme", tc.f, store.Page{})
		var ids string
		for _, x := range list {
			ids += x.ID
		}
		if err != nil || ids != tc.want {
			t.Errorf("ListOpsItems(%+v) = %q, %v; want %q", tc.f, ids, err, tc.want)
		}
	}
}
