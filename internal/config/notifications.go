package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Notifications are the server's named notification channels: rules'
// then.notify and notify steps with `channel: <name>` deliver through them
// (docs/notifications.md). Secrets — a webhook URL, an SMTP password — come
// from FLYWHEEL_* environment variables the channel names (url_env,
// password_env), so the YAML file can be kept in git.
type Notifications struct {
	// Channels by name.
	Channels map[string]Channel `yaml:"channels"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Attempts is how many times a delivery is tried before it is
	// recorded as failed (5xx and network errors are retried, 4xx not).
	Attempts int `yaml:"attempts"`
	// Backoff is the wait before the first retry; it doubles each attempt,
	// up to MaxBackoff.
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// Channel types.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelEmail   = "email"
	// On-call services: an OpsItem paged through one is acknowledged and
	// resolved there when it is in Flywheel (internal/notification).
	ChannelPagerDuty = "pagerduty"
	ChannelOpsgenie  = "opsgenie"
	// Microsoft Teams: an incoming webhook (Workflows) posting an Adaptive
	// Card.
	ChannelTeams = "teams"
)

// Channel is one named notification channel.
type Channel struct {
	// Type is webhook (JSON POST), slack (a Slack-compatible incoming
	// webhook) or email (SMTP).
	Type string `yaml:"type"`

	// URL (webhook, slack), or URLEnv: the FLYWHEEL_* variable that holds
	// it. A Slack URL is a credential: prefer url_env.
	URL     string            `yaml:"url"`
	URLEnv  string            `yaml:"url_env"`
	Headers map[string]string `yaml:"headers"`

	// Email: the SMTP server, sender and recipients.
	Host        string   `yaml:"host"`
	Port        int      `yaml:"port"`
	From        string   `yaml:"from"`
	To          []string `yaml:"to"`
	Cc          []string `yaml:"cc"`
	Username    string   `yaml:"username"`
	PasswordEnv string   `yaml:"password_env"`
	RequireTLS  bool     `yaml:"require_tls"`

	// PagerDuty: the FLYWHEEL_* variable holding the Events API v2
	// integration's routing key. URL, if set, replaces
	// https://events.pagerduty.com/v2/enqueue.
	RoutingKeyEnv string `yaml:"routing_key_env"`
	// Opsgenie: the FLYWHEEL_* variable holding the API integration's key,
	// and the account's region (us, the default, or eu). URL, if set,
	// replaces the region's API address.
	APIKeyEnv string `yaml:"api_key_env"`
	Region    string `yaml:"region"`
}

// Notification defaults.
const (
	DefaultNotifyTimeout    = 30 * time.Second
	DefaultNotifyAttempts   = 5
	DefaultNotifyBackoff    = 10 * time.Second
	DefaultNotifyMaxBackoff = 10 * time.Minute
)

// WithDefaults returns n with unset fields given their defaults.
func (n Notifications) WithDefaults() Notifications {
	if n.Timeout == 0 {
		n.Timeout = DefaultNotifyTimeout
	}
	if n.Attempts == 0 {
		n.Attempts = DefaultNotifyAttempts
	}
	if n.Backoff == 0 {
		n.Backoff = DefaultNotifyBackoff
	}
	if n.MaxBackoff == 0 {
		n.MaxBackoff = DefaultNotifyMaxBackoff
	}
	return n
}

var (
	channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envName     = regexp.MustCompile(`^` + EnvPrefix + `[A-Z0-9_]+$`)
)

// ReservedChannelNames are the notify step's own channel types: a named
// channel cannot take them, or `channel: slack` in a step would be
// ambiguous.
var ReservedChannelNames = []string{ChannelWebhook, ChannelSlack, ChannelEmail}

// Validate reports every invalid field, each named
// notifications.channels.<name>.<field>. It does not read the environment
// (see notification.Build, which also checks that url_env and
// password_env are set).
func (n Notifications) Validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("notifications.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if n.Timeout < 100*time.Millisecond || n.Timeout > 10*time.Minute {
		bad("timeout", "%s must be from 100ms to 10m", n.Timeout)
	}
	if n.Attempts < 1 || n.Attempts > 25 {
		bad("attempts", "%d must be from 1 to 25", n.Attempts)
	}
	if n.Backoff < 10*time.Millisecond {
		bad("backoff", "%s is too short (minimum 10ms)", n.Backoff)
	}
	if n.MaxBackoff < n.Backoff {
		bad("max_backoff", "%s is shorter than backoff %s", n.MaxBackoff, n.Backoff)
	}
	names := make([]string, 0, len(n.Channels))
	for name := range n.Channels {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		field := "channels." + name
		if !channelName.MatchString(name) {
			bad(field, "%q is not a channel name (letters, digits, '.', '_', '-')", name)
			continue
		}
		if slices.Contains(ReservedChannelNames, name) {
			bad(field, "%q is a channel type; give the channel another name", name)
			continue
		}
		for _, err := range n.Channels[name].validate() {
			bad(field+"."+err.field, "%s", err.msg)
		}
	}
	return errs
}

type fieldError struct{ field, msg string }

func (c Channel) validate() []fieldError {
	var errs []fieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, fieldError{field, fmt.Sprintf(format, args...)})
	}
	forbid := func(field string, set bool) {
		if set {
			bad(field, "is not used by a %s channel", c.Type)
		}
	}
	env := func(field, v string) {
		if v != "" && !envName.MatchString(v) {
			bad(field, "%q is not a %s* environment variable name (upper case, digits, '_')", v, EnvPrefix)
		}
	}
	// urlFields checks url and url_env: one of them, or neither when the
	// type has a default address.
	urlFields := func(required bool) {
		switch {
		case required && c.URL == "" && c.URLEnv == "":
			bad("url", "is required (or url_env, the variable holding it)")
		case c.URL != "" && c.URLEnv != "":
			bad("url", "set url or url_env, not both")
		case c.URL != "":
			if err := checkURL(c.URL); err != "" {
				bad("url", "%s", err)
			}
		}
		env("url_env", c.URLEnv)
	}
	noEmail := func() {
		forbid("host", c.Host != "")
		forbid("port", c.Port != 0)
		forbid("from", c.From != "")
		forbid("to", len(c.To) > 0)
		forbid("cc", len(c.Cc) > 0)
		forbid("username", c.Username != "")
		forbid("password_env", c.PasswordEnv != "")
		forbid("require_tls", c.RequireTLS)
	}
	switch c.Type {
	case ChannelWebhook, ChannelSlack, ChannelEmail:
		forbid("routing_key_env", c.RoutingKeyEnv != "")
		forbid("api_key_env", c.APIKeyEnv != "")
		forbid("region", c.Region != "")
	}
	switch c.Type {
	case ChannelWebhook, ChannelSlack:
		urlFields(true)
		for k, v := range c.Headers {
			if c.Type == ChannelSlack {
				bad("headers", "is not used by a slack channel")
				break
			}
			if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
				bad("headers", "%q is not a valid header", k)
			}
		}
		noEmail()
	case ChannelEmail:
		if c.Host == "" {
			bad("host", "is required")
		}
		if c.Port < 0 || c.Port > 65535 {
			bad("port", "%d is not a port", c.Port)
		}
		if c.From == "" {
			bad("from", "is required")
		} else if _, err := mail.ParseAddress(c.From); err != nil {
			bad("from", "%q is not an email address", c.From)
		}
		if len(c.To) == 0 {
			bad("to", "is required (at least one address)")
		}
		for i, a := range append(append([]string{}, c.To...), c.Cc...) {
			field := fmt.Sprintf("to[%d]", i)
			if i >= len(c.To) {
				field = fmt.Sprintf("cc[%d]", i-len(c.To))
			}
			if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
				bad(field, "%q is not an email address", a)
			}
		}
		if c.PasswordEnv != "" && c.Username == "" {
			bad("password_env", "is set without a username")
		}
		env("password_env", c.PasswordEnv)
		forbid("url", c.URL != "")
		forbid("url_env", c.URLEnv != "")
		forbid("headers", len(c.Headers) > 0)
	case ChannelPagerDuty, ChannelOpsgenie, ChannelTeams:
		key, keyField := c.RoutingKeyEnv, "routing_key_env"
		if c.Type == ChannelOpsgenie {
			key, keyField = c.APIKeyEnv, "api_key_env"
		}
		urlFields(c.Type == ChannelTeams)
		if c.Type != ChannelTeams && key == "" {
			bad(keyField, "is required: the %s* environment variable holding the %s", EnvPrefix, map[string]string{
				ChannelPagerDuty: "Events API v2 routing key", ChannelOpsgenie: "API integration key"}[c.Type])
		}
		env(keyField, key)
		forbid("routing_key_env", c.Type != ChannelPagerDuty && c.RoutingKeyEnv != "")
		forbid("api_key_env", c.Type != ChannelOpsgenie && c.APIKeyEnv != "")
		if c.Type == ChannelOpsgenie {
			if c.Region != "" && c.Region != "us" && c.Region != "eu" {
				bad("region", "%q is not us or eu", c.Region)
			}
		} else {
			forbid("region", c.Region != "")
		}
		forbid("headers", len(c.Headers) > 0)
		noEmail()
	case "":
		bad("type", "is required (webhook, slack, email, pagerduty, opsgenie or teams)")
	default:
		bad("type", "%q is not webhook, slack, email, pagerduty, opsgenie or teams", c.Type)
	}
	return errs
}

// checkURL explains what is wrong with a webhook URL, or returns "". The
// URL is never echoed: it may hold a credential.
func checkURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "only http and https URLs are supported"
	case u.Host == "":
		return "the URL has no host"
	}
	return ""
}
