package servercmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestServeFlagsLayer: every TLS and fleet flag reaches the configuration
// and wins over the environment and the file; unset flags leave them be.
func TestServeFlagsLayer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "flywheel.yaml")
	os.WriteFile(file, []byte("agent_misses: 4\nagent_version: v9\nunmanaged_exclude_tag: from-file\n"), 0o600)
	env := map[string]string{"FLYWHEEL_CONFIG": file, "FLYWHEEL_AGENT_HEARTBEAT": "20s", "FLYWHEEL_AGENT_MISSES": "6"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	var f serverFlags
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f.bind(fs, true)
	err := fs.Parse([]string{"--addr", "0.0.0.0:8443", "--tls", "auto", "--tls-hosts", "flywheel.example.com,10.0.0.5",
		"--agent-misses", "5", "--agent-binaries", "/srv/builds", "--agent-required-services", "sshd,chronyd",
		"--unmanaged-hosts", "off", "--data", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.resolve(fs, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS != "auto" || strings.Join(c.TLSHosts, ",") != "flywheel.example.com,10.0.0.5" || c.AgentMisses != 5 ||
		c.AgentHeartbeat != 20*time.Second || c.AgentVersion != "v9" || c.AgentBinaries != "/srv/builds" ||
		strings.Join(c.AgentRequiredServices, ",") != "sshd,chronyd" || c.UnmanagedHosts != "off" || c.UnmanagedExcludeTag != "from-file" {
		t.Errorf("resolved = %+v", c)
	}

	var g serverFlags
	fs = pflag.NewFlagSet("serve", pflag.ContinueOnError)
	g.bind(fs, true)
	if err := fs.Parse([]string{"--addr", "0.0.0.0:8080", "--data", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.resolve(fs, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "--insecure-http") {
		t.Errorf("plain HTTP off loopback: %v", err)
	}
	if err := fs.Parse([]string{"--insecure-http"}); err != nil {
		t.Fatal(err)
	}
	if c, err := g.resolve(fs, func(string) (string, bool) { return "", false }); err != nil || !c.InsecureHTTP {
		t.Errorf("with --insecure-http: %+v %v", c, err)
	}
}
