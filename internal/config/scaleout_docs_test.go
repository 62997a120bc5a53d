package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

// TestScaleOutDocExample loads docs/scale-out.md's replica configuration
// through the server's loader, and checks that an execution lease out of
// range is refused naming the field.
func TestScaleOutDocExample(t *testing.T) {
	t.Parallel()
	var found bool
	for _, b := range mdtest.Blocks(t, "../../docs/scale-out.md") {
		if b.Lang != "yaml" {
			continue
		}
		found = true
		path := filepath.Join(t.TempDir(), "flywheel.yaml")
		if err := os.WriteFile(path, []byte(b.Text()), 0o600); err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := c.LoadFile(path); err != nil {
			t.Fatalf("docs/scale-out.md:%d: %v", b.Line, err)
		}
		c = c.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatalf("docs/scale-out.md:%d: %v", b.Line, err)
		}
		if !strings.HasPrefix(c.DB, "postgres://") || c.ExecutionLease != 30*time.Second || !c.InsecureHTTP {
			t.Errorf("docs/scale-out.md:%d: db %q, execution_lease %s, insecure_http %v", b.Line, c.DB, c.ExecutionLease, c.InsecureHTTP)
		}
	}
	if !found {
		t.Fatal("docs/scale-out.md has no yaml example")
	}
	for _, d := range []time.Duration{500 * time.Millisecond, 11 * time.Minute} {
		bad := Config{ExecutionLease: d}
		if err := bad.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "execution_lease") {
			t.Errorf("execution_lease %s: %v, want an error naming execution_lease", d, err)
		}
	}
}
