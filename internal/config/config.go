// Package config holds the server's configuration: defaults applied in one
// step (WithDefaults), validation in another (Validate), sources layered as
// defaults < YAML file < FLYWHEEL_* environment < command-line flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/config/defaults"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/retention"
)

// Config is everything `flywheel serve` needs.
type Config struct {
	// Addr is the listen address of the API and UI.
	Addr string `yaml:"addr" env:"ADDR"`
	// DataDir holds the SQLite database, the admin token and other local state.
	DataDir string `yaml:"data" env:"DATA"`
	// DB selects the store: "sqlite://PATH" or "postgres://…"; empty means
	// SQLite in DataDir.
	DB string `yaml:"db" env:"DB"`
	// ContentDir is the user's content directory, loaded over the built-in library.
	ContentDir string `yaml:"content" env:"CONTENT"`
	// LogLevel: debug, info, warn, error. LogFormat: text or json.
	LogLevel  string `yaml:"log_level" env:"LOG_LEVEL"`
	LogFormat string `yaml:"log_format" env:"LOG_FORMAT"`
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int64 `yaml:"body_limit" env:"BODY_LIMIT"`
	// ShutdownTimeout bounds a graceful stop (in-flight requests and jobs).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"SHUTDOWN_TIMEOUT"`
	// AdminToken, when set, is the platform-admin token created at first
	// start instead of a generated one (for automation). Environment only.
	AdminToken string `yaml:"-" env:"ADMIN_TOKEN"`
	// SNSTopics are the SNS topic ARNs whose subscriptions are confirmed and
	// whose notifications are accepted ("*" wildcards allowed).
	SNSTopics []string `yaml:"sns_topics" env:"SNS_TOPICS"`
	// SNSCertHosts overrides the hosts SNS signing certificates may come
	// from (default: sns.<region>.amazonaws.com).
	SNSCertHosts []string `yaml:"sns_cert_hosts" env:"SNS_CERT_HOSTS"`
	// OutboundAllow lists the IPs and CIDR prefixes outbound requests
	// (webhook and Slack notifications, runbook http steps) may reach
	// although they are loopback, private or link-local (docs/hardening.md).
	OutboundAllow []string `yaml:"outbound_allow" env:"OUTBOUND_ALLOW"`
	// AuditCheckpointEvery is how often audit chain heads are checkpointed.
	AuditCheckpointEvery time.Duration `yaml:"audit_checkpoint_every" env:"AUDIT_CHECKPOINT_EVERY"`
	// MaintenanceTick is how often the leader opens due maintenance window
	// runs and advances running ones (docs/schedules.md).
	MaintenanceTick time.Duration `yaml:"maintenance_tick" env:"MAINTENANCE_TICK"`
	// ExecutionLease is how long a replica owns a running execution
	// without renewing it: a replica that dies mid-run leaves its
	// executions to another (or to its own restart) after this long
	// (docs/scale-out.md).
	ExecutionLease time.Duration `yaml:"execution_lease" env:"EXECUTION_LEASE"`
	// ContentPoll is how often a replica reads the database's content
	// generation, to load content another replica reloaded.
	ContentPoll time.Duration `yaml:"content_poll" env:"CONTENT_POLL"`

	// TLS is "auto" (a CA and server certificate generated in DATA/tls on
	// first start) or "off"; TLSCert and TLSKey serve given files instead.
	TLS     string `yaml:"tls" env:"TLS"`
	TLSCert string `yaml:"tls_cert" env:"TLS_CERT"`
	TLSKey  string `yaml:"tls_key" env:"TLS_KEY"`
	// TLSCA is the PEM CA that TLSCert chains to, handed to agents in
	// enrollment bundles to pin (a private CA); none: agents use the
	// system's roots.
	TLSCA string `yaml:"tls_ca" env:"TLS_CA"`
	// TLSHosts are extra names and IPs the auto certificate covers.
	TLSHosts []string `yaml:"tls_hosts" env:"TLS_HOSTS"`
	// InsecureHTTP allows plain HTTP on a non-loopback address (behind a
	// TLS-terminating proxy).
	InsecureHTTP bool `yaml:"insecure_http" env:"INSECURE_HTTP"`
	// IntakeSync flushes the SQLite store's intake journal to the device
	// before each delivery is acknowledged: acknowledged deliveries then
	// survive power loss, not only the process dying (docs/server.md).
	IntakeSync bool `yaml:"intake_sync" env:"INTAKE_SYNC"`

	// Fleet settings (docs/agent.md).
	//
	// AgentVersion is the version agents should run ("-": no version
	// drift; default this server's version).
	AgentVersion string `yaml:"agent_version" env:"AGENT_VERSION"`
	// AgentHeartbeat is the heartbeat interval the server gives agents
	// that were not started with one of their own.
	AgentHeartbeat time.Duration `yaml:"agent_heartbeat" env:"AGENT_HEARTBEAT"`
	// AgentMisses is how many heartbeat intervals may pass before an agent
	// is "not reporting".
	AgentMisses int `yaml:"agent_misses" env:"AGENT_MISSES"`
	// AgentBinaries holds agent builds flywheel-<os>-<arch> offered to
	// outdated agents (default DATA/agent-binaries).
	AgentBinaries string `yaml:"agent_binaries" env:"AGENT_BINARIES"`
	// AgentUpdateKey is the ed25519 key (PEM) that signs the builds
	// offered to agents, created on first start (default
	// DATA/agent-update.key); agents pin it at enrollment.
	AgentUpdateKey string `yaml:"agent_update_key" env:"AGENT_UPDATE_KEY"`
	// AgentRequiredServices are the systemd units that must run on hosts
	// whose agent has no required-services tag.
	AgentRequiredServices []string `yaml:"agent_required_services" env:"AGENT_REQUIRED_SERVICES"`
	// UnmanagedHosts turns the detection of hosts without an agent "on"
	// (default) or "off"; hosts tagged (or events labelled) with
	// UnmanagedExcludeTag are left out.
	UnmanagedHosts      string `yaml:"unmanaged_hosts" env:"UNMANAGED_HOSTS"`
	UnmanagedExcludeTag string `yaml:"unmanaged_exclude_tag" env:"UNMANAGED_EXCLUDE_TAG"`

	// Notifications are the named notification channels
	// (docs/notifications.md).
	Notifications Notifications `yaml:"notifications"`
	// Retention is how long expiring data is kept (docs/retention.md).
	Retention retention.Config `yaml:"retention"`
}

// TLS modes.
const (
	TLSOff   = "off"
	TLSAuto  = "auto"
	TLSFiles = "files" // derived: tls_cert and tls_key given
)

// TLSMode is how the server serves: TLSOff, TLSAuto or TLSFiles.
func (c Config) TLSMode() string {
	if c.TLSCert != "" || c.TLSKey != "" {
		return TLSFiles
	}
	if c.TLS == TLSAuto {
		return TLSAuto
	}
	return TLSOff
}

// Fleet defaults.
const (
	DefaultAgentHeartbeat      = 10 * time.Second
	DefaultAgentMisses         = 3
	DefaultUnmanagedExcludeTag = "flywheel-no-agent"
)

// Loopback reports whether addr's host only accepts local connections.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultAddr is where `flywheel serve` listens with no flags.
const DefaultAddr = defaults.Addr

// DefaultDataDir is the data directory with no flags, relative to the
// working directory.
const DefaultDataDir = defaults.DataDir

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.DB == "" {
		c.DB = "sqlite://" + filepath.Join(c.DataDir, "flywheel.db")
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = 10 << 20
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.AuditCheckpointEvery == 0 {
		c.AuditCheckpointEvery = 15 * time.Minute
	}
	if c.MaintenanceTick == 0 {
		c.MaintenanceTick = 15 * time.Second
	}
	if c.ContentPoll == 0 {
		c.ContentPoll = 5 * time.Second
	}
	if c.ExecutionLease == 0 {
		c.ExecutionLease = 30 * time.Second
	}
	if c.TLS == "" {
		c.TLS = TLSOff
	}
	if c.AgentHeartbeat == 0 {
		c.AgentHeartbeat = DefaultAgentHeartbeat
	}
	if c.AgentMisses == 0 {
		c.AgentMisses = DefaultAgentMisses
	}
	if c.AgentBinaries == "" {
		c.AgentBinaries = filepath.Join(c.DataDir, "agent-binaries")
	}
	if c.UnmanagedHosts == "" {
		c.UnmanagedHosts = "on"
	}
	if c.UnmanagedExcludeTag == "" {
		c.UnmanagedExcludeTag = DefaultUnmanagedExcludeTag
	}
	c.Notifications = c.Notifications.WithDefaults()
	c.Retention = c.Retention.WithDefaults()
	return c
}

// Validate reports every invalid field, naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not HOST:PORT: %v", c.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("addr", "port %q is not a number from 0 to 65535", port)
	}
	if c.DataDir == "" {
		bad("data", "must not be empty")
	}
	if _, _, err := ParseDB(c.DB); err != nil {
		bad("db", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "%q is not text or json", c.LogFormat)
	}
	if c.BodyLimit < 1024 {
		bad("body_limit", "%d bytes is too small (minimum 1024)", c.BodyLimit)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout", "must not be negative")
	}
	if c.AuditCheckpointEvery < time.Second {
		bad("audit_checkpoint_every", "%s is too short (minimum 1s)", c.AuditCheckpointEvery)
	}
	if c.ContentPoll < 100*time.Millisecond || c.ContentPoll > 10*time.Minute {
		bad("content_poll", "%s is out of range 100ms..10m", c.ContentPoll)
	}
	if c.MaintenanceTick < 100*time.Millisecond || c.MaintenanceTick > time.Minute {
		bad("maintenance_tick", "%s is out of range 100ms..1m", c.MaintenanceTick)
	}
	if c.ExecutionLease < time.Second || c.ExecutionLease > 10*time.Minute {
		bad("execution_lease", "%s is out of range 1s..10m", c.ExecutionLease)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 20 {
		bad("FLYWHEEL_ADMIN_TOKEN", "must be at least 20 characters")
	}
	errs = append(errs, c.validateTLS()...)
	if c.AgentHeartbeat < 100*time.Millisecond || c.AgentHeartbeat > time.Hour {
		bad("agent_heartbeat", "%s must be from 100ms to 1h", c.AgentHeartbeat)
	}
	if c.AgentMisses < 1 || c.AgentMisses > 100 {
		bad("agent_misses", "%d must be from 1 to 100", c.AgentMisses)
	}
	switch c.UnmanagedHosts {
	case "on", "off":
	default:
		bad("unmanaged_hosts", "%q is not on or off", c.UnmanagedHosts)
	}
	for _, a := range c.OutboundAllow {
		if _, err := outbound.ParsePrefix(a); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.Notifications.Validate()...)
	if err := c.Retention.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c Config) validateTLS() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch c.TLS {
	case TLSOff, TLSAuto:
	default:
		bad("tls", "%q is not auto or off", c.TLS)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key go together")
	}
	if c.TLSCA != "" && c.TLSMode() != TLSFiles {
		bad("tls_ca", "goes with tls_cert and tls_key (tls: auto makes its own CA)")
	}
	if c.TLSCert != "" && c.TLS == TLSAuto {
		bad("tls_cert", "given files and tls: auto exclude each other")
	}
	if c.TLSMode() == TLSOff && !c.InsecureHTTP && !Loopback(c.Addr) {
		bad("addr", "%s is not a loopback address: plain HTTP would carry tokens and agent credentials in clear; "+
			"serve TLS (--tls auto, or --tls-cert and --tls-key) or, behind a TLS-terminating proxy, pass --insecure-http", c.Addr)
	}
	return errs
}

// ParseDB splits a --db value into driver ("sqlite" or "postgres") and the
// driver's own location (a file path, or the PostgreSQL URL).
func ParseDB(s string) (driver, location string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite://"):
		p := strings.TrimPrefix(s, "sqlite://")
		if p == "" {
			return "", "", fmt.Errorf("%q has no file path", s)
		}
		return "sqlite", p, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "", "", fmt.Errorf("invalid PostgreSQL URL: %v", err)
		}
		return "postgres", s, nil
	}
	return "", "", fmt.Errorf("%q must start with sqlite:// or postgres://", redact(s))
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return s
}

// LoadFile merges a YAML file into c. Unknown fields are errors naming the
// file, line and field.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// EnvPrefix prefixes every environment variable.
const EnvPrefix = "FLYWHEEL_"

// ApplyEnv sets fields from FLYWHEEL_* variables found through lookup.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs []error
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("env")
		if name == "" {
			continue
		}
		s, ok := lookup(EnvPrefix + name)
		if !ok || s == "" {
			continue
		}
		if err := setField(v.Field(i), s); err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %v", EnvPrefix, name, err))
		}
	}
	return errors.Join(errs...)
}

func setField(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case string:
		f.SetString(s)
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s, 5m)", s)
		}
		f.SetInt(int64(d))
	case []string:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	case int64, int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.SetInt(n)
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}
