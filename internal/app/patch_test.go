package app

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestInspectorFindingExpedites: the recorded Inspector2 finding
// (CVE-2026-21987, HIGH, openssl and openssl-libs on instance
// i-015de4c7d28bab629), posted to the EventBridge intake, expedites both
// packages on the agent's host that is that instance — through the
// pipeline, in the event's transaction — each execution waiting for an
// admin's approval; delivered again, it expedites nothing more.
func TestInspectorFindingExpedites(t *testing.T) {
	a, c, _ := fleetApp(t, FleetOptions{})
	ctx := context.Background()
	var tok api.CreatedEnrollToken
	if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	enr, err := a.Fleet().Enroll(ctx, wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: "orders-api-3", Version: "v1", OS: "linux", Arch: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	// The agent's inventory names its EC2 instance.
	var host store.Resource
	err = a.Store().InTx(ctx, func(tx store.Tx) error {
		if host, err = tx.GetResource(ctx, "default", enr.ResourceID); err != nil {
			return err
		}
		host.Config, _ = json.Marshal(map[string]any{"cloud": map[string]any{"instance_id": "i-015de4c7d28bab629"}})
		return tx.PutResource(ctx, host)
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func() []store.Expedite {
		var l api.List[store.Expedite]
		if err := c.Do(ctx, "GET", "/api/v1/patch/expedites", nil, &l); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	// The finding, and a second finding of the same CVE on the same
	// instance (another ARN).
	first := fixture(t, "eventbridge/inspector2-finding.json")
	second := bytes.ReplaceAll(first, []byte("finding/045736d3b68e16904e39210289c9cdad"), []byte("finding/145736d3b68e16904e39210289c9cdae"))
	for _, body := range [][]byte{first, second} {
		if err := c.Do(ctx, "POST", "/api/v1/intake/eventbridge", json.RawMessage(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "two expedites", func() bool { return len(list()) >= 2 })
	got := map[string]store.Expedite{}
	for _, e := range list() {
		got[e.Package] = e
	}
	if len(got) != 2 || got["openssl"].ID == "" || got["openssl-libs"].ID == "" {
		t.Fatalf("expedites = %+v", got)
	}
	for _, e := range got {
		if strings.Join(e.Targets, ",") != host.ID || e.RequestedBy != patch.SystemActor || e.Source != "inspector2 CVE-2026-21987" {
			t.Errorf("expedite = %+v", e)
		}
		waitFor(t, 30*time.Second, "expedite "+e.Package+" waiting for approval", func() bool {
			var x api.ExecutionView
			return c.Do(ctx, "GET", "/api/v1/executions/"+e.ExecutionID, nil, &x) == nil && x.Status == runbook.StatusWaitingApproval
		})
	}
	var events api.List[store.Event]
	waitFor(t, 30*time.Second, "both findings processed", func() bool {
		if c.Do(ctx, "GET", "/api/v1/events?limit=100", nil, &events) != nil {
			return false
		}
		n := 0
		for _, e := range events.Items {
			if e.Source == "inspector2" && e.Decision != "" {
				n++
			}
		}
		return n == 2
	})
	if l := list(); len(l) != 2 {
		t.Errorf("after the second finding: %d expedites, want 2", len(l))
	}
}
