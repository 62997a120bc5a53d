package main

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the packages the agent binary must not carry: the server's
// store, API and UI, and the AWS SDK (prefixes, so their subpackages too).
var forbidden = []string{
	"github.com/flywheel-ops/flywheel/internal/store",
	"github.com/flywheel-ops/flywheel/internal/api",
	"github.com/flywheel-ops/flywheel/internal/web",
	"github.com/flywheel-ops/flywheel/internal/app",
	"github.com/aws/aws-sdk-go-v2",
}

// TestAgentCarriesNoServerCode lists the binary's dependencies with
// `go list -deps` and fails on any server, UI, store or AWS package.
func TestAgentCarriesNoServerCode(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	found := false
	for _, d := range deps {
		if d == "github.com/flywheel-ops/flywheel/internal/agent" {
			found = true
		}
		for _, bad := range forbidden {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("cmd/flywheel-agent depends on %s", d)
			}
		}
	}
	if !found {
		t.Fatalf("internal/agent is not among the %d dependencies; is this the agent?", len(deps))
	}
}
