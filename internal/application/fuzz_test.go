package application_test

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// FuzzApplicationYAML feeds arbitrary documents through the content
// loader: loading never panics, whatever loads compiles, and the catalog
// answers for any event and walks any dependency graph that loaded.
func FuzzApplicationYAML(f *testing.F) {
	f.Add(shop)
	f.Add("apiVersion: flywheel/v1\nkind: Application\nmetadata: {name: a}\nspec: {resources: [{tags: {Application: a}, ids: [x]}], depends_on: [a]}\n")
	f.Add("apiVersion: flywheel/v1\nkind: Application\nmetadata: {name: a}\nspec: {resources: [{matchers: ['job=~\".+\"']}], owners: [me]}\n")
	evs := []event.Event{
		{Labels: map[string]string{"service": "orders", "instance": "db-orders-01:9187", "tag:Application": "orders-db"}},
		{Resources: []event.ResourceRef{{Type: "host", ID: "x"}}},
		{},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		set, err := load(t, map[string]string{"a.yaml": doc})
		if err != nil {
			return
		}
		c, err := application.Compile(set.Items(application.KindName))
		if err != nil {
			t.Fatalf("loaded but does not compile: %v", err)
		}
		for i := range evs {
			if a, ok := c.Of("", &evs[i]); ok {
				if up := c.Upstream(a.Name); up[a.Name] != 0 {
					t.Fatalf("%s is its own dependency: %v", a.Name, up)
				}
				_ = c.Downstream(a.Name)
			}
		}
	})
}
