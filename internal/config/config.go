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
	// AuditCheckpointEvery is how often audit chain heads are checkpointed.
	AuditCheckpointEvery time.Duration `yaml:"audit_checkpoint_every" env:"AUDIT_CHECKPOINT_EVERY"`

	// Notifications are the named notification channels
	// (docs/notifications.md).
	Notifications Notifications `yaml:"notifications"`
}

// DefaultAddr is where `flywheel serve` listens with no flags.
const DefaultAddr = "127.0.0.1:8080"

// DefaultDataDir is the data directory with no flags, relative to the
// working directory.
const DefaultDataDir = "flywheel-data"

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
	c.Notifications = c.Notifications.WithDefaults()
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
	if c.AdminToken != "" && len(c.AdminToken) < 20 {
		bad("FLYWHEEL_ADMIN_TOKEN", "must be at least 20 characters")
	}
	errs = append(errs, c.Notifications.Validate()...)
	return errors.Join(errs...)
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
	case int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.SetInt(n)
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}
