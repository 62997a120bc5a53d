package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

// TestHardeningDocExample loads docs/hardening.md's outbound_allow example
// through the server's loader: it is a valid configuration with those
// entries.
func TestHardeningDocExample(t *testing.T) {
	t.Parallel()
	var found bool
	for _, b := range mdtest.Blocks(t, "../../docs/hardening.md") {
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
			t.Fatalf("docs/hardening.md:%d: %v", b.Line, err)
		}
		if err := c.WithDefaults().Validate(); err != nil {
			t.Fatalf("docs/hardening.md:%d: %v", b.Line, err)
		}
		if !slices.Equal(c.OutboundAllow, []string{"10.20.0.0/16", "192.168.1.5", "fd00:1::/64"}) {
			t.Errorf("docs/hardening.md:%d: outbound_allow = %q", b.Line, c.OutboundAllow)
		}
	}
	if !found {
		t.Fatal("docs/hardening.md has no yaml example")
	}
	// A wrong entry is named.
	bad := Config{OutboundAllow: []string{"10.0.0.0/33"}}
	if err := bad.WithDefaults().Validate(); err == nil {
		t.Error("outbound_allow 10.0.0.0/33 accepted")
	}
}
