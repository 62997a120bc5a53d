package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/flywheel-ops/flywheel/"

// Forbidden import prefixes (a prefix covers its subpackages).
var (
	server = []string{module + "internal/store", module + "internal/api", module + "internal/web", module + "internal/app"}
	awsSDK = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	// drivers are the store's concrete drivers and the database clients
	// under them; handlers and services see only the store interface.
	drivers = []string{module + "internal/store/sqlite", module + "internal/store/postgres", module + "internal/store/sqlstore",
		"modernc.org/sqlite"}
)

func TestLayering(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pkg       string
		forbidden [][]string
	}{
		{"internal/agent/...", [][]string{server, awsSDK}},
		{"internal/client/...", [][]string{server, awsSDK}},
		// The command line's client commands and the API's wire types:
		// the server's commands are in internal/servercmd.
		{"internal/cli/...", [][]string{server, awsSDK}},
		{"apiv1/...", [][]string{server, awsSDK}},
		{"cmd/flywheel-agent", [][]string{server, awsSDK}},
		{"internal/api", [][]string{drivers, awsSDK}},
		{"internal/web", [][]string{drivers, awsSDK}},
		{"internal/service", [][]string{drivers, awsSDK, {module + "internal/api", module + "internal/web"}}},
		// Validating content checks aws steps against awsspec's schema.
		{"internal/content/...", [][]string{drivers, awsSDK}},
		{"internal/stats", [][]string{drivers, awsSDK}},
	} {
		t.Run(c.pkg, func(t *testing.T) {
			t.Parallel()
			for _, dep := range deps(t, c.pkg) {
				for _, list := range c.forbidden {
					for _, bad := range list {
						if dep == bad || strings.HasPrefix(dep, bad+"/") {
							t.Errorf("%s depends on %s", c.pkg, dep)
						}
					}
				}
			}
		})
	}
}

// deps lists the packages pattern's non-test code depends on.
func deps(t *testing.T, pattern string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "./"+pattern)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pattern, err)
	}
	ds := strings.Fields(string(out))
	if len(ds) < 10 {
		t.Fatalf("go list -deps %s: only %d packages; is the pattern right?", pattern, len(ds))
	}
	return ds
}

// TestLayeringSeesAViolation: the check above finds forbidden
// dependencies that are there: the server binary reaches the drivers, and
// its server commands (internal/servercmd, beside the client commands of
// internal/cli) reach the store, the API and the AWS SDK.
func TestLayeringSeesAViolation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ pkg, dep string }{
		{"cmd/flywheel", module + "internal/store/sqlite"},
		{"internal/servercmd", module + "internal/store"},
		{"internal/servercmd", module + "internal/app"},
		{"internal/servercmd", "github.com/aws/aws-sdk-go-v2"},
	} {
		found := false
		for _, d := range deps(t, c.pkg) {
			if d == c.dep || strings.HasPrefix(d, c.dep+"/") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not depend on %s; the dependency listing is wrong", c.pkg, c.dep)
		}
	}
}
