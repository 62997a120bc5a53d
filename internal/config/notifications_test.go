package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNotificationsLoadAndValidate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flywheel.yaml")
	os.WriteFile(path, []byte(`
notifications:
  attempts: 3
  channels:
    ops-slack: {type: slack, url_env: FLYWHEEL_OPS_SLACK_URL}
    oncall: {type: webhook, url: "https://hooks.example.com/flywheel", headers: {X-Team: ops}}
    dba-mail:
      type: email
      host: smtp.example.com
      from: flywheel@example.com
      to: [dba@example.com]
      username: flywheel
      password_env: FLYWHEEL_SMTP_PASSWORD
`), 0o600)
	var c Config
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if n.Attempts != 3 || n.Timeout != DefaultNotifyTimeout || n.Backoff != DefaultNotifyBackoff || len(n.Channels) != 3 {
		t.Errorf("notifications = %+v", n)
	}
	if ch := n.Channels["dba-mail"]; ch.Type != ChannelEmail || ch.To[0] != "dba@example.com" || ch.PasswordEnv != "FLYWHEEL_SMTP_PASSWORD" {
		t.Errorf("dba-mail = %+v", ch)
	}
}

func TestNotificationsErrorsNameChannelAndField(t *testing.T) {
	for _, tc := range []struct {
		ch   Channel
		want string
	}{
		{Channel{}, "notifications.channels.x.type: is required"},
		{Channel{Type: "pager"}, `notifications.channels.x.type: "pager" is not webhook, slack, email, pagerduty, opsgenie or teams`},
		{Channel{Type: "pagerduty"}, "notifications.channels.x.routing_key_env: is required: the FLYWHEEL_* environment variable holding the Events API v2 routing key"},
		{Channel{Type: "pagerduty", RoutingKeyEnv: "PD_KEY"}, `notifications.channels.x.routing_key_env: "PD_KEY" is not a FLYWHEEL_*`},
		{Channel{Type: "pagerduty", RoutingKeyEnv: "FLYWHEEL_K", APIKeyEnv: "FLYWHEEL_O"}, "notifications.channels.x.api_key_env: is not used by a pagerduty channel"},
		{Channel{Type: "pagerduty", RoutingKeyEnv: "FLYWHEEL_K", URL: "ftp://events/SECRET"}, "notifications.channels.x.url: only http and https"},
		{Channel{Type: "opsgenie"}, "notifications.channels.x.api_key_env: is required: the FLYWHEEL_* environment variable holding the API integration key"},
		{Channel{Type: "opsgenie", APIKeyEnv: "FLYWHEEL_O", Region: "asia"}, `notifications.channels.x.region: "asia" is not us or eu`},
		{Channel{Type: "teams"}, "notifications.channels.x.url: is required (or url_env, the variable holding it)"},
		{Channel{Type: "teams", URL: "https://h", Region: "eu"}, "notifications.channels.x.region: is not used by a teams channel"},
		{Channel{Type: "webhook", URL: "https://h", RoutingKeyEnv: "FLYWHEEL_K"}, "notifications.channels.x.routing_key_env: is not used by a webhook channel"},
		{Channel{Type: "slack"}, "notifications.channels.x.url: is required"},
		{Channel{Type: "slack", URL: "ftp://hooks/T0/SECRET"}, "notifications.channels.x.url: only http and https"},
		{Channel{Type: "webhook", URL: "https://h", URLEnv: "FLYWHEEL_X"}, "notifications.channels.x.url: set url or url_env, not both"},
		{Channel{Type: "webhook", URLEnv: "HOOK_URL"}, `notifications.channels.x.url_env: "HOOK_URL" is not a FLYWHEEL_*`},
		{Channel{Type: "slack", URL: "https://h", Host: "smtp"}, "notifications.channels.x.host: is not used by a slack channel"},
		{Channel{Type: "email", From: "a@b.c", To: []string{"d@e.f"}}, "notifications.channels.x.host: is required"},
		{Channel{Type: "email", Host: "h", To: []string{"d@e.f"}}, "notifications.channels.x.from: is required"},
		{Channel{Type: "email", Host: "h", From: "a@b.c"}, "notifications.channels.x.to: is required"},
		{Channel{Type: "email", Host: "h", From: "a@b.c", To: []string{"nobody"}}, `notifications.channels.x.to[0]: "nobody" is not an email address`},
		{Channel{Type: "email", Host: "h", From: "a@b.c", To: []string{"d@e.f"}, PasswordEnv: "FLYWHEEL_P"}, "notifications.channels.x.password_env: is set without a username"},
	} {
		c := Config{Notifications: Notifications{Channels: map[string]Channel{"x": tc.ch}}}
		err := c.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Validate = %v, want %q", tc.ch, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error echoes the URL: %v", err)
		}
	}
	c := Config{Notifications: Notifications{Channels: map[string]Channel{"slack": {Type: "slack", URL: "https://h"}}}}
	if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "notifications.channels.slack: \"slack\" is a channel type") {
		t.Errorf("reserved name: %v", err)
	}
	c = Config{Notifications: Notifications{Attempts: 99}}
	if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "notifications.attempts") {
		t.Errorf("attempts: %v", err)
	}
}
