// Package notification delivers the notifications automation rules ask
// for (then.notify) through the server's named channels — a generic JSON
// webhook, a Slack-compatible incoming webhook, email over SMTP —
// configured in the notifications section of the server's configuration
// (docs/notifications.md). PagerDuty and Opsgenie channels page: their
// incidents then follow the OpsItem (oncall.go).
//
// A rule's notification is a River job inserted in the transaction that
// processes the event (Service.Enqueue), so it is sent once the OpsItem
// commits and never for one rolled back. The job sends through the notify
// action's senders with a timeout, retries network errors and 5xx answers
// with a doubling backoff, does not retry refusals (4xx), and records the
// outcome on the OpsItem's timeline and in the audit log — the channel's
// name and type, never its URL or password.
package notification

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
)

// Build turns the configured channels into the notify action's, reading
// the secrets their url_env and password_env name through lookup
// (os.LookupEnv). Every channel whose variable is unset or empty is an
// error naming the channel, the field and the variable (never its value).
// cfg must have passed config.Notifications.Validate.
func Build(cfg config.Notifications, lookup func(string) (string, bool)) (map[string]notify.Channel, error) {
	out := make(map[string]notify.Channel, len(cfg.Channels))
	var errs []error
	secret := func(name, field, env string) string {
		if env == "" {
			return ""
		}
		v, ok := lookup(env)
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("notifications.channels.%s.%s: the environment variable %s is not set", name, field, env))
		}
		return v
	}
	for _, name := range names(cfg.Channels) {
		c := cfg.Channels[name]
		ch := notify.Channel{Type: c.Type, URL: c.URL, Headers: c.Headers, To: c.To, Cc: c.Cc}
		if c.URLEnv != "" {
			ch.URL = strings.TrimSpace(secret(name, "url_env", c.URLEnv))
		}
		switch c.Type {
		case config.ChannelPagerDuty:
			ch.URL = cmp.Or(ch.URL, PagerDutyEventsURL)
			ch.Key = strings.TrimSpace(secret(name, "routing_key_env", c.RoutingKeyEnv))
		case config.ChannelOpsgenie:
			base := OpsgenieURL
			if c.Region == "eu" {
				base = OpsgenieEUURL
			}
			ch.URL = cmp.Or(ch.URL, base)
			ch.Key = strings.TrimSpace(secret(name, "api_key_env", c.APIKeyEnv))
		}
		if c.Type == config.ChannelEmail {
			ch.SMTP = notify.SMTPOptions{Host: c.Host, Port: c.Port, From: c.From, Username: c.Username,
				Password: secret(name, "password_env", c.PasswordEnv), RequireTLS: c.RequireTLS}
		}
		out[name] = ch
	}
	return out, errors.Join(errs...)
}

func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CheckRules finds Rule items (content.Set.Items(rule.KindName)) whose
// then.notify names a channel that is not in channels. The user's rules
// doing so are errors naming the file, line and field; the built-in
// library's rules (which name channels such as "security" that a server
// may not have) are returned as warnings: their notifications are recorded
// as failed, saying which channel to configure.
func CheckRules(items []content.Item, channels map[string]notify.Channel) (warnings []string, err error) {
	var errs []error
	for _, it := range items {
		spec, ok := it.Spec.(*rule.Spec)
		if !ok || spec.Then.Notify == nil {
			continue
		}
		name := spec.Then.Notify.Channel
		if _, ok := channels[name]; ok {
			continue
		}
		msg := fmt.Sprintf("%s: Rule %q: spec.then.notify.channel: %q is not a notification channel configured on this server (%s)",
			it.Origin, it.Name, name, configured(channels))
		if it.Origin.Source == content.BuiltinName {
			warnings = append(warnings, msg)
			continue
		}
		errs = append(errs, errors.New(msg))
	}
	return warnings, errors.Join(errs...)
}

func configured(channels map[string]notify.Channel) string {
	if len(channels) == 0 {
		return "none is configured"
	}
	return "configured: " + strings.Join(names(channels), ", ")
}
