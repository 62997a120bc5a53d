package content_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestRulesPassTheEventsRegion: a library rule running a runbook that
// takes a region passes the event's — left out, the runbook calls AWS
// with region "" (the credentials' default, or none at all).
func TestRulesPassTheEventsRegion(t *testing.T) {
	t.Parallel()
	set, lib := loadLibrary(t)
	rs, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.List() {
		rb, ok := lib.Get("", r.Runbook)
		if r.Runbook == "" || !ok {
			continue
		}
		for _, p := range rb.Params {
			if p.Name != "region" && p.Name != "account" {
				continue
			}
			if _, ok := r.Parameters[p.Name]; !ok {
				t.Errorf("rule %s runs %s, which takes %s, but does not pass the event's", r.Name, r.Runbook, p.Name)
			}
		}
	}

	// The Macie finding as the EventBridge adapter normalizes it
	// (internal/intake/eventbridge's golden output).
	b, err := os.ReadFile("../internal/intake/eventbridge/testdata/golden/macie-finding.json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	if err := json.Unmarshal(b, &evs); err != nil || len(evs) != 1 {
		t.Fatalf("macie golden: %v (%d events)", err, len(evs))
	}
	o := store.OpsItem{ID: "oi_1", TenantID: "acme", Title: evs[0].Title, Category: "security", Status: "open"}
	m, ok := rs.Route(&evs[0], &o)
	if !ok || m.Rule.Runbook != "block-s3-public-access" {
		t.Fatalf("the Macie finding routes to %+v", m.Rule)
	}
	if m.Parameters["region"] != "us-east-1" || m.Parameters["account"] != "111122223333" || m.Parameters["bucket"] != "acme-marketing-assets-prod" {
		t.Errorf("block-s3-public-access parameters from the Macie finding = %v, want region us-east-1, account and bucket", m.Parameters)
	}
}
