package correlate_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

const apps = `apiVersion: flywheel/v1
kind: Application
metadata: {name: db}
spec:
  resources: [{matchers: ['service="db"']}]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: api}
spec:
  resources: [{matchers: ['service="api"']}]
  depends_on: [db]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: web}
spec:
  resources: [{matchers: ['service="web"']}]
  depends_on: [api]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: acme-only, tenant: acme}
spec:
  resources: [{matchers: ['service="legacy"']}]
`

// TestApplications: the built-in services rule groups a declared
// application's events by the application, whatever their cluster and
// alert name, links them to the applications on their dependency path,
// and ranks the upstream higher; applications of one tenant are invisible
// to another's events.
func TestApplications(t *testing.T) {
	t.Parallel()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(),
		content.Source{Name: "ops", FS: fstest.MapFS{"apps.yaml": {Data: []byte(apps)}}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	rs = rs.WithApplications(cat)
	alert := func(name, service, cluster string) *event.Event {
		return &event.Event{Source: "alertmanager", Kind: event.KindAlert, Title: name, Severity: event.SeverityMedium,
			Status: event.StatusFiring, Fingerprint: name + service + cluster,
			Labels: map[string]string{"alertname": name, "service": service, "cluster": cluster}}
	}
	m1 := match(t, rs.ForTenant("t"), alert("APIErrors", "api", "east"))
	m2 := match(t, rs.ForTenant("t"), alert("APILatency", "api", "west"))
	if m1.Rule.Name != "services" || m1.Application != "api" || m1.GroupKey != m2.GroupKey {
		t.Errorf("api alerts: rule %s application %q keys %s %s; want one group of services", m1.Rule.Name, m1.Application, m1.GroupKey, m2.GroupKey)
	}
	if m1.Why != "same application api" {
		t.Errorf("why %q", m1.Why)
	}
	db := match(t, rs.ForTenant("t"), alert("PostgresDown", "db", "db-1"))
	web := match(t, rs.ForTenant("t"), alert("HTTP5xx", "web", "east"))
	if db.Rank != 2 || m1.Rank != 1 || web.Rank != 0 {
		t.Errorf("ranks db %d api %d web %d, want 2 1 0", db.Rank, m1.Rank, web.Rank)
	}
	// Impact: db (medium by default) has two dependants, one step more
	// urgent; the path runs from web down to it.
	if db.Impact == nil || db.Impact.Priority != "P2" || strings.Join(db.Impact.Path, ">") != "web>api>db" ||
		web.Impact == nil || web.Impact.Priority != "P3" || web.Impact.Dependants != 0 {
		t.Errorf("impacts db %+v web %+v", db.Impact, web.Impact)
	}
	var keys, whys []string
	for _, l := range web.Links {
		keys, whys = append(keys, l.GroupKey), append(whys, l.Why)
	}
	if !slices.Equal(keys, []string{m1.GroupKey, db.GroupKey}) ||
		!slices.Equal(whys, []string{"application web depends on api", "application web depends on db (through 2 dependencies)"}) {
		t.Errorf("web links %v %v", keys, whys)
	}
	if len(db.Links) != 2 || db.Links[0].Why != "application api depends on db" {
		t.Errorf("db links %+v, want its dependants nearest first", db.Links)
	}
	// Without a declared application: the service label, per cluster.
	other := match(t, rs.ForTenant("t"), alert("X", "billing", "east"))
	if other.Rule.Name != "services" || other.Application != "" || other.Why != "same billing / east" || len(other.Links) > 0 {
		t.Errorf("billing: %+v", other)
	}
	// A tenant's application is invisible to another tenant.
	if m := match(t, rs.ForTenant("acme"), alert("Old", "legacy", "east")); m.Application != "acme-only" {
		t.Errorf("acme: application %q", m.Application)
	}
	if m := match(t, rs.ForTenant("globex"), alert("Old", "legacy", "east")); m.Application != "" {
		t.Errorf("globex sees acme's application %q", m.Application)
	}
	// A rule without applications: true groups by its group_by even for
	// an application's event, which still reads event.application.
	plain := &event.Event{Source: "alertmanager", Kind: event.KindAlert, Title: "NodeDown", Fingerprint: "n",
		Labels: map[string]string{"alertname": "NodeDown", "job": "node", "instance": "x"}}
	if m := match(t, rs.ForTenant("t"), plain); m.Rule.Name != "prometheus-alerts" || len(m.Links) > 0 {
		t.Errorf("node alert: rule %s links %v", m.Rule.Name, m.Links)
	}
}
