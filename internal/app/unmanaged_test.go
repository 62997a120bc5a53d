package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestUnmanagedHostOpsItem: an Alertmanager alert about web-03:9100, a host
// no agent runs on, leads through the pipeline to one "Host without an
// agent" OpsItem (deployment, low); when an agent on web-03 enrolls, the
// OpsItem resolves by itself and the host leaves the unmanaged list.
func TestUnmanagedHostOpsItem(t *testing.T) {
	a, c, _ := fleetApp(t, FleetOptions{UnmanagedEvery: 200 * time.Millisecond})
	ctx := context.Background()
	now := time.Now().UTC().Format(time.RFC3339)
	labels := map[string]string{"alertname": "NodeDown", "instance": "web-03:9100", "job": "node", "severity": "critical"}
	body := map[string]any{"version": "4", "receiver": "flywheel", "status": "firing", "groupKey": `{}:{alertname="NodeDown"}`,
		"groupLabels": map[string]string{"alertname": "NodeDown"}, "commonLabels": labels, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "alerts": []any{map[string]any{"status": "firing", "labels": labels,
			"annotations": map[string]string{}, "startsAt": now, "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "0123456789abcdef"}}}
	if err := c.Do(ctx, "POST", "/api/v1/intake/alertmanager", body, nil); err != nil {
		t.Fatal(err)
	}

	var item store.OpsItem
	waitFor(t, 60*time.Second, "a Host without an agent OpsItem", func() bool {
		var l api.List[store.OpsItem]
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?category=deployment&limit=100", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, it := range l.Items {
			if strings.HasPrefix(it.Title, "Host without an agent: web-03") {
				item = it
				return true
			}
		}
		return false
	})
	if item.Severity != "low" || item.Category != "deployment" || item.Status != "open" {
		t.Errorf("OpsItem = %+v", item)
	}
	var hosts api.List[store.UnmanagedHost]
	if err := c.Do(ctx, "GET", "/api/v1/fleet/unmanaged", nil, &hosts); err != nil {
		t.Fatal(err)
	}
	if len(hosts.Items) != 1 || hosts.Items[0].Host != "web-03" || hosts.Items[0].Source != "event alertmanager" {
		t.Fatalf("unmanaged = %+v", hosts.Items)
	}

	// An agent on web-03 enrolls.
	var tok api.CreatedEnrollToken
	if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fleet().Enroll(ctx, wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: "web-03", Version: "v1", OS: "linux", Arch: "amd64"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the OpsItem resolving", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID, nil, &item); err != nil {
			t.Fatal(err)
		}
		return item.Status == "resolved"
	})
	if err := c.Do(ctx, "GET", "/api/v1/fleet/unmanaged", nil, &hosts); err != nil {
		t.Fatal(err)
	}
	if len(hosts.Items) != 0 {
		t.Errorf("still unmanaged: %+v", hosts.Items)
	}
}
