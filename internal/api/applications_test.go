package api_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// harnessApps: two shared applications (orders depends on orders-db) and
// one of acme's own.
const harnessAppsYAML = `apiVersion: flywheel/v1
kind: Application
metadata: {name: orders}
spec:
  criticality: high
  owners: [team-orders]
  resources: [{matchers: ['service="orders"']}]
  depends_on: [orders-db]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: orders-db}
spec:
  criticality: critical
  resources: [{ids: [db-01]}]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: acme-ledger, tenant: acme}
spec:
  criticality: low
  resources: [{matchers: ['service="ledger"']}]
`

func harnessApps(t *testing.T) *application.Catalog {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{"apps.yaml": {Data: []byte(harnessAppsYAML)}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func init() {
	isolationCases["GET /api/v1/applications/proposals"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		seedServiceEvent(t, h, other, "secret-"+other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[application.Proposal]
			h.call("GET", "/api/v1/applications/proposals", sec, nil).ok(t, 200, &l)
			for _, p := range l.Items {
				if strings.Contains(p.Value+p.YAML, other) {
					t.Errorf("%s is proposed %s's service: %+v", self, other, p)
				}
			}
			h.call("GET", "/api/v1/applications/proposals?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["GET /api/v1/applications"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[api.ApplicationView]
			h.call("GET", "/api/v1/applications", sec, nil).ok(t, 200, &l)
			for _, a := range l.Items {
				if a.Tenant != "" && a.Tenant != self {
					t.Errorf("%s lists %s's application %s", self, a.Tenant, a.Name)
				}
			}
			h.call("GET", "/api/v1/applications?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["GET /api/v1/applications/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		own := map[string]string{acme: "acme-ledger"}
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			if name := own[other]; name != "" {
				h.call("GET", "/api/v1/applications/"+name, sec, nil).fail(t, 404, "not_found")
			}
			h.call("GET", "/api/v1/applications/orders?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
}

// TestApplicationsAPI: the applications content declares, with their
// impact; a tenant's own application is listed for it alone.
func TestApplicationsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var l api.List[api.ApplicationView]
	h.call("GET", "/api/v1/applications", h.secret("acme/viewer"), nil).ok(t, 200, &l)
	var names []string
	for _, a := range l.Items {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "acme-ledger,orders,orders-db" {
		t.Errorf("acme's applications %v", names)
	}
	h.call("GET", "/api/v1/applications", h.secret("globex/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 2 {
		t.Errorf("globex's applications %+v, want the two shared", l.Items)
	}
	var db api.ApplicationView
	h.call("GET", "/api/v1/applications/orders-db", h.secret("globex/viewer"), nil).ok(t, 200, &db)
	if db.Criticality != "critical" || db.Impact.Priority != "P1" || db.Impact.Dependants != 1 || strings.Join(db.Impact.Path, ">") != "orders>orders-db" {
		t.Errorf("orders-db: %+v", db)
	}
	h.call("GET", "/api/v1/applications/acme-ledger", h.secret("globex/viewer"), nil).fail(t, 404, "not_found", "acme-ledger")
}

// seedServiceEvent stores an event of tenant labelled service=svc, an hour ago.
func seedServiceEvent(t *testing.T, h *harness, tenant, svc string) {
	t.Helper()
	ctx, at := context.Background(), h.clock.Now().Add(-time.Hour)
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		return tx.InsertEvent(ctx, store.Event{ID: store.NewID("ev", at), TenantID: tenant, Source: "alertmanager", Fingerprint: "fp-" + svc,
			Kind: "alert", Severity: "high", Status: "firing", Title: "HTTP5xx", OccurredAt: at, ReceivedAt: at,
			Labels: map[string]string{"alertname": "HTTP5xx", "service": svc}, Decision: "opened"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestApplicationProposals: a service seen in the tenant's events that no
// application selects is proposed with a drafted Application of the
// tenant; a declared one is not; another tenant's events propose nothing.
func TestApplicationProposals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedServiceEvent(t, h, acme, "billing")
	seedServiceEvent(t, h, acme, "orders") // declared
	seedServiceEvent(t, h, globex, "payroll")
	var l api.List[application.Proposal]
	h.call("GET", "/api/v1/applications/proposals", h.secret("acme/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 1 || l.Items[0].Name != "billing" || l.Items[0].Events != 1 ||
		!strings.Contains(l.Items[0].YAML, `tenant: "acme"`) || !strings.Contains(l.Items[0].YAML, `matchers: ["service=\"billing\""]`) {
		t.Fatalf("acme's proposals: %+v", l.Items)
	}
	// A period before the events proposes nothing.
	h.call("GET", "/api/v1/applications/proposals?to="+h.clock.Now().Add(-2*time.Hour).Format(time.RFC3339), h.secret("acme/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 0 {
		t.Errorf("proposals before the events: %+v", l.Items)
	}
	h.call("GET", "/api/v1/applications/proposals?from=nonsense", h.secret("acme/viewer"), nil).fail(t, 400, "bad_request", "from")
}
