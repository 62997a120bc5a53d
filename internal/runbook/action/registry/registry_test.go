package registry_test

import (
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := registry.New(registry.Options{})
	if got := strings.Join(r.Names(), ","); got != "aws,backup,exec,http,notify,patch" {
		t.Errorf("Names = %s", got)
	}
	for _, name := range r.Names() {
		a, ok := r.Get(name)
		if !ok || a.Name() != name {
			t.Errorf("Get(%q) = %v, %v", name, a, ok)
		}
	}
	if _, ok := r.Get("sleep"); ok {
		t.Error("sleep is the executor's, not an I/O action")
	}
	if err := r.Validate("shell", nil); err == nil || !strings.Contains(err.Error(), `action "shell" is not an I/O action (aws, backup, exec, http, notify, patch)`) {
		t.Errorf("Validate(shell) = %v", err)
	}
	if err := r.Validate("http", map[string]any{}); err == nil || !strings.Contains(err.Error(), "action http: url: is required") {
		t.Errorf("Validate(http) = %v", err)
	}
}
