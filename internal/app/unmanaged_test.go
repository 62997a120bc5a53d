package app

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestUnmanagedHostOpsItem: Alertmanager alerts naming hosts no agent runs
// on — one of them by its address and its name in the same alert — lead
// through the pipeline to one "Hosts without an agent" OpsItem (deployment,
// low) listing each host once, not one OpsItem per host; when an agent on
// web-03 enrolls, web-03 leaves the list and the OpsItem stays open for the
// others.
func TestUnmanagedHostOpsItem(t *testing.T) {
	a, c, _ := fleetApp(t, FleetOptions{UnmanagedEvery: 200 * time.Millisecond})
	ctx := context.Background()
	now := time.Now().UTC().Format(time.RFC3339)
	var alerts []any
	for i, l := range []map[string]string{
		{"alertname": "NodeDown", "instance": "10.0.3.41:9100", "nodename": "web-03", "job": "node", "severity": "critical"},
		{"alertname": "NodeDown", "instance": "web-04:9100", "job": "node", "severity": "critical"},
		{"alertname": "DiskFull", "instance": "web-05.example.com:9100", "job": "node", "severity": "critical"},
	} {
		alerts = append(alerts, map[string]any{"status": "firing", "labels": l, "annotations": map[string]string{}, "startsAt": now,
			"endsAt": "0001-01-01T00:00:00Z", "fingerprint": fmt.Sprintf("012345678%07d", i)})
	}
	body := map[string]any{"version": "4", "receiver": "flywheel", "status": "firing", "groupKey": `{}:{job="node"}`,
		"groupLabels": map[string]string{"job": "node"}, "commonLabels": map[string]string{"job": "node"}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "alerts": alerts}
	if err := c.Do(ctx, "POST", "/api/v1/intake/alertmanager", body, nil); err != nil {
		t.Fatal(err)
	}

	hosts := func() []string {
		var l api.List[store.UnmanagedHost]
		if err := c.Do(ctx, "GET", "/api/v1/fleet/unmanaged", nil, &l); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range l.Items {
			out = append(out, h.Host)
		}
		slices.Sort(out)
		return out
	}
	summaries := func() []store.OpsItem {
		var l api.List[store.OpsItem]
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?category=deployment&limit=100", nil, &l); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	var related api.Related
	waitFor(t, 60*time.Second, "the Hosts without an agent OpsItem listing three hosts", func() bool {
		items := summaries()
		if len(items) != 1 {
			return false
		}
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+items[0].ID+"/related", nil, &related); err != nil {
			t.Fatal(err)
		}
		return len(related.Resources) == 3
	})
	items := summaries()
	item := items[0]
	if item.Title != "Hosts without an agent" || item.Severity != "low" || item.Status != "open" {
		t.Errorf("OpsItem = %+v", item)
	}
	var listed []string
	for _, r := range related.Resources {
		listed = append(listed, r.ID)
	}
	slices.Sort(listed)
	if want := []string{"web-03", "web-04", "web-05.example.com"}; !slices.Equal(listed, want) || !slices.Equal(hosts(), want) {
		t.Fatalf("OpsItem lists %v, unmanaged %v; want %v (10.0.3.41 is web-03)", listed, hosts(), want)
	}

	// An agent on web-03 enrolls: it leaves the list, the OpsItem stays
	// open for the other two.
	var tok api.CreatedEnrollToken
	if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fleet().Enroll(ctx, wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: "web-03", Version: "v1", OS: "linux", Arch: "amd64"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "web-03 leaving the unmanaged hosts", func() bool { return slices.Equal(hosts(), []string{"web-04", "web-05.example.com"}) })
	if items := summaries(); len(items) != 1 || items[0].ID != item.ID || items[0].Status != "open" {
		t.Errorf("after web-03's agent enrolled: %+v", items)
	}
}
