package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestNormalizeHost(t *testing.T) {
	for _, tc := range []struct{ in, host, kind string }{
		{"web-03:9100", "web-03", "hostname"},
		{"Web-03.Example.com", "web-03.example.com", "hostname"},
		{"10.0.0.7:9100", "10.0.0.7", "ip"},
		{"[2001:db8::1]:9100", "2001:db8::1", "ip"},
		{"i-0abc1234def567890", "i-0abc1234def567890", "instance-id"},
		{"arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc1234", "i-0abc1234", "instance-id"},
		{"http://web-04:8080/metrics", "web-04", "hostname"},
		{"127.0.0.1:9100", "", ""},
		{"localhost:9100", "", ""},
		{"", "", ""},
		{"not a host", "", ""},
	} {
		if h, k := fleet.NormalizeHost(tc.in); h != tc.host || k != tc.kind {
			t.Errorf("NormalizeHost(%q) = %q %q, want %q %q", tc.in, h, k, tc.host, tc.kind)
		}
	}
}

func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"web-03:9100", "[::1]:1", "arn:aws:ec2:x:1:instance/i-0123456789", "http://a/b", "i-0abcdef12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, k := fleet.NormalizeHost(s)
		if (h == "") != (k == "") {
			t.Fatalf("NormalizeHost(%q) = %q %q", s, h, k)
		}
		if h != "" {
			if h2, k2 := fleet.NormalizeHost(h); h2 != h || k2 != k {
				t.Fatalf("not idempotent: %q -> %q %q -> %q %q", s, h, k, h2, k2)
			}
		}
	})
}

// TestUnmanagedHosts: host resources without an agent and hosts named by
// events, matched against agents by hostname (short or full), inventory IP
// and instance ID, raise one event per host once; a host whose agent
// enrolls resolves; excluded ones never raise.
func TestUnmanagedHosts(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			st := d.open(t)
			clk := newClock()
			sk := &sink{}
			svc, err := fleet.New(fleet.Options{Store: st, Clock: clk.now, Sink: sk})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			web1 := enrolled(t, st, svc, "web-1")
			net, _ := json.Marshal(map[string]any{"ips": []string{"10.0.0.7"}})
			cloud, _ := json.Marshal(map[string]any{"provider": "aws", "instance_id": "i-0aaa12345678"})
			if err := svc.Inventory(ctx, web1, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"network": net, "cloud": cloud}}); err != nil {
				t.Fatal(err)
			}
			err = st.InTx(ctx, func(tx store.Tx) error {
				for _, r := range []store.Resource{
					{ID: "res_ec2", Type: "ec2-instance", Name: "i-0abc12345678", Tags: map[string]string{"private_ip": "10.0.0.7"}},
					{ID: "res_ec2b", Type: "ec2-instance", Name: "i-0def12345678"},
					{ID: "res_ec2c", Type: "ec2-instance", Name: "i-0aaa12345678"}, // web-1's own instance
					{ID: "res_db", Type: "host", Name: "db-1", Tags: map[string]string{"flywheel-no-agent": "true"}},
					{ID: "res_bucket", Type: "s3-bucket", Name: "logs"},
				} {
					r.TenantID, r.CreatedAt, r.UpdatedAt = "acme", t0, t0
					if err := tx.PutResource(ctx, r); err != nil {
						return err
					}
				}
				var es []store.Event
				for i, l := range []map[string]string{
					{"instance": "web-03:9100"},
					{"instance": "10.0.0.7:9100"},          // web-1's IP
					{"instance": "web-1.example.com:9100"}, // web-1 by its full name
					{"instance": "batch-9:9100", "flywheel-no-agent": "1"},
					{"instance": "https://shop.example.com/health", "job": "blackbox"},    // a probed site
					{"instance": "10.2.3.4:8080", "namespace": "shop", "pod": "cart-7d9"}, // a pod
				} {
					at := t0.Add(time.Duration(i) * time.Second)
					es = append(es, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "alertmanager", Fingerprint: fmt.Sprint("fp", i),
						Kind: "alert", Severity: "high", Status: "firing", Title: "NodeDown", Labels: l, OccurredAt: at, ReceivedAt: at, Decision: "opened"})
				}
				at := t0.Add(30 * time.Second)
				es = append(es, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "alertmanager", Fingerprint: "pod",
					Kind: "alert", Severity: "high", Status: "firing", Title: "PodDown", Resources: []byte(`[{"type":"host","id":"10.2.3.5"}]`),
					Labels: map[string]string{"instance": "10.2.3.5:8080", "namespace": "shop", "pod": "cart-1"}, OccurredAt: at, ReceivedAt: at, Decision: "opened"})
				at = t0.Add(time.Minute)
				es = append(es, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "generic:fleet", Fingerprint: "own",
					Kind: "health", Severity: "high", Status: "firing", Title: "Agent not reporting: ghost-1", Resources: []byte(`[{"type":"host","id":"ghost-1"}]`),
					OccurredAt: at, ReceivedAt: at, Decision: "opened"})
				return tx.InsertEvents(ctx, es)
			})
			if err != nil {
				t.Fatal(err)
			}

			clk.advance(time.Hour)
			res, err := svc.CheckUnmanaged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(res.Raised)
			if want := []string{"i-0def12345678", "web-03"}; !slices.Equal(res.Raised, want) {
				t.Fatalf("raised %v, want %v", res.Raised, want)
			}
			evs := sk.got()
			if len(evs) != 2 {
				t.Fatalf("%d events, want 2: %+v", len(evs), evs)
			}
			for _, ev := range evs {
				if ev.Status != event.StatusFiring || ev.Severity != event.SeverityLow || ev.Labels["alertname"] != "HostWithoutAgent" ||
					ev.Fingerprint != fleet.UnmanagedFingerprint(ev.Labels["host"]) {
					t.Errorf("event %+v", ev)
				}
			}
			hosts, _, err := st.ListUnmanagedHosts(ctx, "acme", store.Page{})
			if err != nil || len(hosts) != 2 || hosts[0].Host != "web-03" || hosts[0].Source != "event alertmanager" || hosts[0].RaisedAt == nil ||
				hosts[1].Kind != "instance-id" || hosts[1].ResourceID != "res_ec2b" {
				t.Fatalf("stored = %+v %v", hosts, err)
			}

			// A second look raises nothing new.
			if res, err := svc.CheckUnmanaged(ctx); err != nil || len(res.Raised)+len(res.Resolved) != 0 || len(sk.got()) != 2 {
				t.Fatalf("second look: %+v %v, %d events", res, err, len(sk.got()))
			}

			// web-03's agent enrolls: its event resolves and the host is forgotten.
			enrolled(t, st, svc, "web-03")
			res, err = svc.CheckUnmanaged(ctx)
			if err != nil || !slices.Equal(res.Resolved, []string{"web-03"}) || len(res.Raised) != 0 {
				t.Fatalf("after enrolling web-03: %+v %v", res, err)
			}
			last := sk.got()[len(sk.got())-1]
			if last.Status != event.StatusResolved || last.Fingerprint != fleet.UnmanagedFingerprint("web-03") {
				t.Errorf("resolution = %+v", last)
			}
			if hosts, _, _ := st.ListUnmanagedHosts(ctx, "acme", store.Page{}); len(hosts) != 1 || hosts[0].Host != "i-0def12345678" {
				t.Errorf("after resolution = %+v", hosts)
			}

			// Tagging the instance to be left out clears it too.
			err = st.InTx(ctx, func(tx store.Tx) error {
				return tx.PutResource(ctx, store.Resource{ID: "res_ec2b", TenantID: "acme", Type: "ec2-instance", Name: "i-0def12345678",
					Tags: map[string]string{"flywheel-no-agent": ""}, CreatedAt: t0, UpdatedAt: t0})
			})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := svc.CheckUnmanaged(ctx); err != nil || !slices.Equal(res.Resolved, []string{"i-0def12345678"}) {
				t.Fatalf("after excluding the instance: %+v %v", res, err)
			}
			if hosts, _, _ := st.ListUnmanagedHosts(ctx, "acme", store.Page{}); len(hosts) != 0 {
				t.Errorf("after exclusion = %+v", hosts)
			}

			// Disabled: nothing is looked at.
			off, err := fleet.New(fleet.Options{Store: st, Clock: clk.now, Sink: sk, Unmanaged: fleet.UnmanagedOptions{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			at := clk.now()
			err = st.InTx(ctx, func(tx store.Tx) error {
				return tx.InsertEvents(ctx, []store.Event{{ID: store.NewID("ev", at), TenantID: "acme", Source: "alertmanager", Fingerprint: "fp-99",
					Kind: "alert", Severity: "high", Status: "firing", Title: "NodeDown", Labels: map[string]string{"instance": "web-99:9100"},
					// Firing for a month, received now: read by its receipt.
					OccurredAt: at.Add(-30 * 24 * time.Hour), ReceivedAt: at, Decision: "opened"}})
			})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := off.CheckUnmanaged(ctx); err != nil || len(res.Raised) != 0 {
				t.Errorf("disabled: %+v %v", res, err)
			}
			if hosts, _, _ := st.ListUnmanagedHosts(ctx, "acme", store.Page{}); len(hosts) != 0 {
				t.Errorf("disabled, stored = %+v", hosts)
			}
			// The same event is found when detection is on.
			if res, err := svc.CheckUnmanaged(ctx); err != nil || !slices.Equal(res.Raised, []string{"web-99"}) {
				t.Errorf("enabled after the disabled look: %+v %v", res, err)
			}
		})
	}
}

// A look reports at most MaxRaises hosts; the others are recorded and
// reported by the next looks, even with no new event naming them.
func TestUnmanagedRaisesPaced(t *testing.T) {
	st := drivers[0].open(t)
	clk := newClock()
	sk := &sink{}
	svc, err := fleet.New(fleet.Options{Store: st, Clock: clk.now, Sink: sk, Unmanaged: fleet.UnmanagedOptions{MaxRaises: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
			return err
		}
		var es []store.Event
		for i := range 5 {
			at := t0.Add(time.Duration(i) * time.Second)
			es = append(es, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "alertmanager", Fingerprint: fmt.Sprint("fp", i),
				Kind: "alert", Severity: "high", Status: "firing", Title: "NodeDown", Labels: map[string]string{"instance": fmt.Sprintf("storm-%d:9100", i)},
				OccurredAt: at, ReceivedAt: at, Decision: "opened"})
		}
		return tx.InsertEvents(ctx, es)
	})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for look, want := range []int{2, 2, 1, 0} {
		clk.advance(time.Hour)
		res, err := svc.CheckUnmanaged(ctx)
		if err != nil || len(res.Raised) != want {
			t.Fatalf("look %d raised %v, %v; want %d", look, res.Raised, err, want)
		}
		all = append(all, res.Raised...)
	}
	slices.Sort(all)
	if want := []string{"storm-0", "storm-1", "storm-2", "storm-3", "storm-4"}; !slices.Equal(all, want) || len(sk.got()) != 5 {
		t.Fatalf("raised %v with %d events, want %v", all, len(sk.got()), want)
	}
	hosts, _, err := st.ListUnmanagedHosts(ctx, "acme", store.Page{})
	if err != nil || len(hosts) != 5 {
		t.Fatalf("recorded %d hosts, %v", len(hosts), err)
	}
	for _, h := range hosts {
		if h.RaisedAt == nil {
			t.Errorf("%s recorded but never raised", h.Host)
		}
	}
}
