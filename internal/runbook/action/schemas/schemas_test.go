package schemas_test

import (
	"slices"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/schemas"
)

// TestSameActionsAsTheRegistry: content is validated against every action
// the server runs, and only those.
func TestSameActionsAsTheRegistry(t *testing.T) {
	t.Parallel()
	if got, want := schemas.Names(), registry.New(registry.Options{}).Names(); !slices.Equal(got, want) {
		t.Errorf("schemas has %v, the registry %v", got, want)
	}
	for _, name := range schemas.Names() {
		a, ok := schemas.Get(name)
		if !ok || a.Name() != name {
			t.Errorf("Get(%q) = %v, %v", name, a, ok)
		}
	}
}
