package application_test

import (
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/application"
)

// TestImpact: priority follows criticality, one step more urgent with two
// or more dependants; the path runs from the farthest dependant down.
func TestImpact(t *testing.T) {
	t.Parallel()
	extra := `
---
apiVersion: flywheel/v1
kind: Application
metadata: {name: reports}
spec:
  criticality: low
  resources:
    - matchers: ['service="reports"']
  depends_on: [orders]
`
	set, err := load(t, map[string]string{"apps.yaml": shop + extra})
	if err != nil {
		t.Fatal(err)
	}
	c, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, prio, path string
		deps             int
	}{
		{"orders-db", "P1", "reports → orders → orders-db", 3}, // critical, 3 dependants (storefront, reports via orders)
		{"orders", "P1", "reports → orders", 2},                // high, 2 dependants: one step up
		{"storefront", "P3", "storefront", 0},                  // medium, nothing depends on it
		{"reports", "P4", "reports", 0},                        // low
	} {
		im, ok := c.ImpactOf(tc.name)
		if !ok || im.Priority != tc.prio || im.Dependants != tc.deps || strings.Join(im.Path, " → ") != tc.path || im.Application != tc.name {
			t.Errorf("%s: %+v, want %s, %d dependants, path %s", tc.name, im, tc.prio, tc.deps, tc.path)
		}
	}
	if _, ok := c.ImpactOf("nope"); ok {
		t.Error("impact of an unknown application")
	}
	if application.PriorityRank("P1") <= application.PriorityRank("P2") || application.PriorityRank("x") != 0 {
		t.Error("PriorityRank order")
	}
}
