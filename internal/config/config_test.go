package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValidate(t *testing.T) {
	c := Config{}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DB != "sqlite://flywheel-data/flywheel.db" || c.BodyLimit != 10<<20 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestValidateNamesFields(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Addr: "nonsense"}, "addr:"},
		{Config{Addr: "127.0.0.1:99999"}, "addr: port"},
		{Config{DB: "mysql://x"}, "db:"},
		{Config{LogLevel: "loud"}, "log_level:"},
		{Config{BodyLimit: 10}, "body_limit:"},
		{Config{AdminToken: "short"}, "FLYWHEEL_ADMIN_TOKEN"},
	} {
		err := tc.c.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.c, err, tc.want)
		}
	}
}

func TestParseDB(t *testing.T) {
	for _, tc := range []struct{ in, driver, loc string }{
		{"sqlite:///var/lib/flywheel/fw.db", "sqlite", "/var/lib/flywheel/fw.db"},
		{"sqlite://data/fw.db", "sqlite", "data/fw.db"},
		{"postgres://postgres@127.0.0.1:5432/fw", "postgres", "postgres://postgres@127.0.0.1:5432/fw"},
	} {
		d, l, err := ParseDB(tc.in)
		if err != nil || d != tc.driver || l != tc.loc {
			t.Errorf("ParseDB(%q) = %q %q %v", tc.in, d, l, err)
		}
	}
	_, _, err := ParseDB("mysql://user:hunter2@db/x")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks password or is nil: %v", err)
	}
}

func TestLayering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flywheel.yaml")
	os.WriteFile(path, []byte("addr: 127.0.0.1:9000\nshutdown_timeout: 3s\nlog_level: debug\n"), 0o600)
	var c Config
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FLYWHEEL_ADDR": "127.0.0.1:9100", "FLYWHEEL_BODY_LIMIT": "2048"}
	if err := c.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if c.Addr != "127.0.0.1:9100" || c.ShutdownTimeout != 3*time.Second || c.LogLevel != "debug" || c.BodyLimit != 2048 {
		t.Errorf("layered = %+v", c)
	}
	bad := map[string]string{"FLYWHEEL_SHUTDOWN_TIMEOUT": "soon"}
	err := c.ApplyEnv(func(k string) (string, bool) { v, ok := bad[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "FLYWHEEL_SHUTDOWN_TIMEOUT") {
		t.Errorf("bad env: %v", err)
	}
}

func TestLoadFileUnknownField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flywheel.yaml")
	os.WriteFile(path, []byte("addr: 127.0.0.1:9000\nlisten: x\n"), 0o600)
	var c Config
	err := c.LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), "flywheel.yaml") || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "listen") {
		t.Errorf("unknown field error = %v", err)
	}
}

func TestTLSAndFleetSettings(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.TLSMode() != TLSOff || c.AgentHeartbeat != 10*time.Second || c.AgentMisses != 3 || c.UnmanagedHosts != "on" ||
		c.AgentBinaries != filepath.Join("flywheel-data", "agent-binaries") || c.UnmanagedExcludeTag != DefaultUnmanagedExcludeTag {
		t.Errorf("defaults = %+v", c)
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Addr: "0.0.0.0:8080"}, "--insecure-http"},
		{Config{Addr: ":8080"}, "not a loopback address"},
		{Config{Addr: "flywheel.example.com:8080"}, "not a loopback address"},
		{Config{TLS: "yes"}, "tls:"},
		{Config{TLSCert: "a.crt"}, "tls_cert and tls_key"},
		{Config{TLS: "auto", TLSCert: "a.crt", TLSKey: "a.key"}, "exclude each other"},
		{Config{TLS: "auto", TLSCA: "ca.crt"}, "tls_ca:"},
		{Config{AgentHeartbeat: time.Millisecond}, "agent_heartbeat:"},
		{Config{AgentMisses: 500}, "agent_misses:"},
		{Config{UnmanagedHosts: "maybe"}, "unmanaged_hosts:"},
	} {
		err := tc.c.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.c, err, tc.want)
		}
	}
	for _, ok := range []Config{
		{Addr: "0.0.0.0:8080", InsecureHTTP: true},
		{Addr: "0.0.0.0:8443", TLS: "auto"},
		{Addr: "[::]:8443", TLSCert: "a.crt", TLSKey: "a.key"},
		{Addr: "localhost:8080"},
		{Addr: "[::1]:8080"},
	} {
		if err := ok.WithDefaults().Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", ok, err)
		}
	}
	env := map[string]string{"FLYWHEEL_TLS": "auto", "FLYWHEEL_TLS_HOSTS": "a.example.com, 10.0.0.1", "FLYWHEEL_INSECURE_HTTP": "true",
		"FLYWHEEL_AGENT_MISSES": "5", "FLYWHEEL_AGENT_HEARTBEAT": "30s", "FLYWHEEL_AGENT_REQUIRED_SERVICES": "sshd,chronyd",
		"FLYWHEEL_UNMANAGED_HOSTS": "off", "FLYWHEEL_INTAKE_SYNC": "true"}
	var e Config
	if err := e.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if e.TLSMode() != TLSAuto || len(e.TLSHosts) != 2 || e.TLSHosts[1] != "10.0.0.1" || !e.InsecureHTTP || e.AgentMisses != 5 ||
		e.AgentHeartbeat != 30*time.Second || len(e.AgentRequiredServices) != 2 || e.UnmanagedHosts != "off" || !e.IntakeSync {
		t.Errorf("from env = %+v", e)
	}
	if err := e.ApplyEnv(func(k string) (string, bool) { return "sometimes", k == "FLYWHEEL_INSECURE_HTTP" }); err == nil ||
		!strings.Contains(err.Error(), "FLYWHEEL_INSECURE_HTTP") {
		t.Errorf("bad bool: %v", err)
	}
	path := filepath.Join(t.TempDir(), "flywheel.yaml")
	os.WriteFile(path, []byte("tls: auto\ntls_hosts: [flywheel.example.com]\nagent_misses: 4\nunmanaged_exclude_tag: no-agent\n"), 0o600)
	var y Config
	if err := y.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if y.TLS != "auto" || y.TLSHosts[0] != "flywheel.example.com" || y.AgentMisses != 4 || y.UnmanagedExcludeTag != "no-agent" {
		t.Errorf("from YAML = %+v", y)
	}
}
