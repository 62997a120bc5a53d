package application_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
)

func load(t *testing.T, files map[string]string) (*content.Set, error) {
	t.Helper()
	fs := fstest.MapFS{}
	for name, body := range files {
		fs[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return content.Load(kinds.NewRegistry(), content.Source{Name: "test", FS: fs})
}

const shop = `apiVersion: flywheel/v1
kind: Application
metadata: {name: orders}
spec:
  environment: prod
  criticality: high
  owners: [team-orders]
  resources:
    - matchers: ['service="orders"']
    - ids: [db-orders-01]
  depends_on: [orders-db]
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: orders-db}
spec:
  criticality: critical
  resources:
    - tags: {Application: orders-db}
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: storefront}
spec:
  resources:
    - matchers: ['app.kubernetes.io/name="storefront"']
  depends_on: [orders]
`

func TestCatalog(t *testing.T) {
	t.Parallel()
	set, err := load(t, map[string]string{"apps.yaml": shop})
	if err != nil {
		t.Fatal(err)
	}
	c, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"service": "orders", "alertname": "X"}, "orders"},
		{map[string]string{"instance": "db-orders-01:9187"}, "orders"},
		{map[string]string{"tag:Application": "orders-db"}, "orders-db"},
		{map[string]string{"app.kubernetes.io/name": "storefront"}, "storefront"},
		{map[string]string{"service": "billing"}, ""},
	} {
		a, ok := c.Of("", &event.Event{Labels: tc.labels})
		got := ""
		if ok {
			got = a.Name
		}
		if got != tc.want {
			t.Errorf("Of(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
	if up := c.Upstream("storefront"); up["orders"] != 1 || up["orders-db"] != 2 || len(up) != 2 {
		t.Errorf("Upstream(storefront) = %v", up)
	}
	if down := c.Downstream("orders-db"); down["orders"] != 1 || down["storefront"] != 2 || len(down) != 2 {
		t.Errorf("Downstream(orders-db) = %v", down)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ doc, want string }{
		"environment": {"spec: {environment: qa, resources: [{ids: [a]}]}", `environment: "qa" is not one of dev, stage, prod`},
		"criticality": {"spec: {criticality: huge, resources: [{ids: [a]}]}", `criticality: "huge" is not one of`},
		"no selector": {"spec: {}", "resources: is empty"},
		"empty sel":   {"spec: {resources: [{}]}", "selects nothing"},
		"bad matcher": {"spec: {resources: [{matchers: ['service=~\"(\"']}]}", "resources[0].matchers"},
		"unknown":     {"spec: {resources: [{ids: [a]}], tier: 1}", "tier"},
		"missing dep": {"spec: {resources: [{ids: [a]}], depends_on: [nope]}", `no Application "nope"`},
		"cycle": {"spec: {resources: [{ids: [a]}], depends_on: [b]}\n---\napiVersion: flywheel/v1\nkind: Application\nmetadata: {name: b}\nspec: {resources: [{ids: [b]}], depends_on: [a]}",
			"makes a cycle"},
	} {
		_, err := load(t, map[string]string{"a.yaml": "apiVersion: flywheel/v1\nkind: Application\nmetadata: {name: a}\n" + tc.doc + "\n"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}
