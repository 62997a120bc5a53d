package fleet_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestResolveHost: an event's host reference finds the agent's host by
// its resource or agent ID, hostname (with or without a port, any case),
// FQDN or short name, any inventory IP, its cloud instance ID, an alias
// tag, and a loopback address by the port its exporter listens on; two
// hosts matching, or none, is no match, with the reason.
func TestResolveHost(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			st := d.open(t)
			svc, err := fleet.New(fleet.Options{Store: st, Clock: newClock().now})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			inv := func(a fleet.Agent, sections map[string]any) {
				raw := map[string]json.RawMessage{}
				for k, v := range sections {
					raw[k], _ = json.Marshal(v)
				}
				if err := svc.Inventory(ctx, a, wire.Inventory{Full: true, Sections: raw}); err != nil {
					t.Fatal(err)
				}
			}
			res := func(a fleet.Agent) string {
				r, _ := fleet.AgentOfTarget(a.ID)
				return "res_" + strings.TrimPrefix(r, "agt_")
			}
			web := enrolled(t, st, svc, "web-1.example.com")
			inv(web, map[string]any{"network": map[string]any{"ips": []string{"10.0.0.7", "2001:db8::7"}, "listening": []int{22, 9100}},
				"cloud": map[string]any{"provider": "aws", "instance_id": "i-0aaa12345678"}})
			db := enrolled(t, st, svc, "db-1")
			inv(db, map[string]any{"network": map[string]any{"ips": []string{"10.0.0.8"}, "listening": []int{22, 5432, 9187}}})
			// An alias through the resource's tag.
			if err := st.InTx(ctx, func(tx store.Tx) error {
				r, err := tx.GetResource(ctx, "acme", res(db))
				if err != nil {
					return err
				}
				r.Tags[fleet.AliasTag] = "postgres-primary, pg.internal"
				return tx.PutResource(ctx, r)
			}); err != nil {
				t.Fatal(err)
			}
			// A host resource without an agent is never a match.
			if err := st.InTx(ctx, func(tx store.Tx) error {
				return tx.PutResource(ctx, store.Resource{ID: "res_other", TenantID: "acme", Type: "host", Name: "web-9", CreatedAt: t0, UpdatedAt: t0})
			}); err != nil {
				t.Fatal(err)
			}
			for ref, want := range map[string]string{
				res(web): res(web) + " id", web.ID: res(web) + " agent",
				"web-1.example.com": res(web) + " hostname", "WEB-1.example.com:9100": res(web) + " hostname",
				"web-1:9100": res(web) + " short name", "web-1": res(web) + " short name",
				"10.0.0.7:9100": res(web) + " ip", "[2001:db8::7]:9100": res(web) + " ip",
				"i-0aaa12345678": res(web) + " instance-id", "http://web-1.example.com:9100/metrics": res(web) + " hostname",
				"127.0.0.1:9100": res(web) + " loopback port", "localhost:9187": res(db) + " loopback port",
				"db-1.example.com:9100": res(db) + " short name", "pg.internal": res(db) + " alias",
				"postgres-primary:9187": res(db) + " alias",
				"web-9":                 `"web-9" is not the hostname`, "10.0.0.99:9100": `"10.0.0.99:9100" is not the hostname`,
				"127.0.0.1:22": "matches 2 agents' hosts", "127.0.0.1": "loopback address without a port",
				"127.0.0.1:8080": "no agent's host listens on port 8080", "": "no host named",
			} {
				r, err := fleet.ResolveHost(ctx, st, "acme", ref)
				if err != nil {
					t.Fatal(err)
				}
				got := r.ResourceID + " " + r.By
				if !r.Resolved() {
					got = r.Reason
				}
				if (r.Resolved() && got != want) || (!r.Resolved() && !strings.Contains(got, want)) {
					t.Errorf("ResolveHost(%q) = %q, want %q", ref, got, want)
				}
			}
			// Another tenant's agent is never found.
			if res, err := fleet.ResolveHost(ctx, st, "globex", "web-1.example.com"); err != nil || res.Resolved() {
				t.Errorf("another tenant: %+v %v", res, err)
			}
		})
	}
}

// FuzzResolveHost: any host reference an event carries resolves or says
// why not, never panics, and never matches a host that is not there.
func FuzzResolveHost(f *testing.F) {
	for _, s := range []string{"web-1:9100", "127.0.0.1:9100", "[::1]:9100", "http://a:1/b", "i-0abcdef12", "agt_x", "res_", "a..b", "localhost", ":9100", "[]:"} {
		f.Add(s)
	}
	st := drivers[0].open(f)
	svc, err := fleet.New(fleet.Options{Store: st, Clock: newClock().now})
	if err != nil {
		f.Fatal(err)
	}
	web := enrolled(f, st, svc, "web-1")
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := fleet.ResolveHost(context.Background(), st, "acme", ref)
		if err != nil {
			t.Fatal(err)
		}
		if r.Resolved() == (r.Reason != "") {
			t.Fatalf("ResolveHost(%q) = %+v: resolved and a reason, or neither", ref, r)
		}
		if r.Resolved() && r.AgentID != web.ID {
			t.Fatalf("ResolveHost(%q) = %+v", ref, r)
		}
	})
}

// TestResolverKeepsIndex: a Resolver reads a tenant's index of agent
// hosts once per TTL; a host whose address appears within the TTL is found
// by that address only once the index is read again, by its hostname at
// once (that lookup needs no index).
func TestResolverKeepsIndex(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	clk := newClock()
	svc, err := fleet.New(fleet.Options{Store: st, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rv := &fleet.Resolver{TTL: time.Minute, Now: clk.now}
	enrolled(t, st, svc, "web-1")
	if r, err := rv.Resolve(ctx, st, "acme", "10.0.0.9"); err != nil || r.Resolved() {
		t.Fatalf("before: %+v, %v", r, err)
	}
	db := enrolled(t, st, svc, "db-1")
	raw, _ := json.Marshal(map[string]any{"ips": []string{"10.0.0.9"}})
	if err := svc.Inventory(ctx, db, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"network": raw}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := rv.Resolve(ctx, st, "acme", "10.0.0.9"); r.Resolved() {
		t.Errorf("within the TTL the kept index was not used: %+v", r)
	}
	if r, _ := rv.Resolve(ctx, st, "acme", "db-1"); !r.Resolved() {
		t.Errorf("by hostname within the TTL: %+v", r)
	}
	clk.advance(2 * time.Minute)
	if r, _ := rv.Resolve(ctx, st, "acme", "10.0.0.9"); !r.Resolved() || r.By != "ip" {
		t.Errorf("after the TTL: %+v", r)
	}
}
