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
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestAgentIdentityFixedAtEnrollment speaks the agent HTTP protocol to the
// real server: two agents enroll as web-01 and db-01; web-01's heartbeat
// and inventory claiming to be db-01 are refused (403) and open one
// security OpsItem, its own name is still accepted, and the agents keep the
// hostnames they enrolled with.
func TestAgentIdentityFixedAtEnrollment(t *testing.T) {
	a, c, _ := fleetApp(t, FleetOptions{})
	base := "http://" + a.Addr()
	ctx := context.Background()
	call := func(method, path, authz string, body any) (int, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		return rawCall(t, method, base+path, authz, "application/json", bytes.NewReader(b))
	}
	enroll := func(host string) (wire.EnrollResponse, string) {
		t.Helper()
		var tok api.CreatedEnrollToken
		if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
			t.Fatal(err)
		}
		code, body := call("POST", wire.PathEnroll, "", wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: host, Version: "v1", OS: "linux", Arch: "amd64"}})
		var er wire.EnrollResponse
		if code != 200 && code != 201 || json.Unmarshal([]byte(body), &er) != nil {
			t.Fatalf("enroll %s: %d %s", host, code, body)
		}
		return er, wire.AuthScheme + " " + er.AgentID + ":" + er.Secret
	}
	web, webAuth := enroll("web-01")
	db, _ := enroll("db-01")
	beat := func(host string) wire.Heartbeat {
		return wire.Heartbeat{Host: wire.Host{Hostname: host, Version: "v1", OS: "linux", Arch: "amd64"}, StartedAt: time.Now().UTC(), Interval: time.Second}
	}
	if code, body := call("POST", wire.PathHeartbeat, webAuth, beat("web-01")); code != 200 {
		t.Fatalf("own heartbeat: %d %s", code, body)
	}
	for i := 0; i < 3; i++ { // a rogue agent retries; one OpsItem
		if code, body := call("POST", wire.PathHeartbeat, webAuth, beat("DB-01")); code != 403 || !strings.Contains(body, "identity conflict") ||
			!strings.Contains(body, `enrolled as \"web-01\"`) {
			t.Fatalf("heartbeat claiming db-01: %d %s", code, body)
		}
	}
	inv := wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"host": json.RawMessage(`{"hostname":"db-01","os":"linux"}`)}}
	if code, body := call("PUT", wire.PathInventory, webAuth, inv); code != 403 || !strings.Contains(body, "inventory claiming") {
		t.Fatalf("inventory claiming db-01: %d %s", code, body)
	}
	inv.Sections["host"] = json.RawMessage(`{"hostname":"web-01","os":"linux"}`)
	if code, body := call("PUT", wire.PathInventory, webAuth, inv); code >= 300 {
		t.Fatalf("own inventory: %d %s", code, body)
	}
	items := waitOpsItems(t, c, "q=identity", 1)
	if len(items) != 1 || items[0].Category != "security" || !strings.Contains(items[0].Title, "Agent identity conflict: agent "+web.AgentID+" of web-01 claims") {
		t.Errorf("OpsItems %+v", items)
	}
	time.Sleep(300 * time.Millisecond) // a flush of buffered heartbeats
	for _, ag := range agentsOf(t, c) {
		want := map[string]string{web.AgentID: "web-01", db.AgentID: "db-01"}[ag.ID]
		if ag.Hostname != want {
			t.Errorf("agent %s has hostname %q, enrolled as %q", ag.ID, ag.Hostname, want)
		}
	}
	var all struct{ Items []store.OpsItem }
	if err := c.Do(ctx, "GET", "/api/v1/opsitems?limit=500", nil, &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range all.Items {
		if strings.Contains(o.Title, "identity conflict") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d identity-conflict OpsItems, want 1", n)
	}
}
