package notification_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/rule"
)

const docPage = "../../docs/notifications.md"

// docBlock returns the fenced block of docs/notifications.md whose first
// line is the comment "# <name>".
func docBlock(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(string(b), "```")[1:] {
		_, body, _ := strings.Cut(part, "\n")
		if strings.HasPrefix(body, "# "+name+"\n") {
			return body
		}
	}
	t.Fatalf("%s has no block starting # %s", docPage, name)
	return ""
}

// TestDocsExample loads the page's configuration as the server does, and
// checks its rule against those channels.
func TestDocsExample(t *testing.T) {
	cfg := docConfig(t, "flywheel.yaml")
	env := map[string]string{"FLYWHEEL_OPS_SLACK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
		"FLYWHEEL_SECURITY_SLACK_URL": "https://hooks.slack.com/services/T000/B001/YYYY", "FLYWHEEL_SMTP_PASSWORD": "pw"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	channels, err := notification.Build(cfg.Notifications, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(channels) != 4 || channels["ops-slack"].URL != env["FLYWHEEL_OPS_SLACK_URL"] || channels["dba-oncall"].SMTP.Password != "pw" ||
		channels["dba-oncall"].SMTP.Port != 587 || !channels["dba-oncall"].SMTP.RequireTLS || channels["oncall"].Headers["X-Team"] != "platform" {
		t.Errorf("channels %+v", channels)
	}

	// An unset variable is named, the channel and field too.
	delete(env, "FLYWHEEL_OPS_SLACK_URL")
	if _, err := notification.Build(cfg.Notifications, lookup); err == nil ||
		err.Error() != "notifications.channels.ops-slack.url_env: the environment variable FLYWHEEL_OPS_SLACK_URL is not set" {
		t.Errorf("unset variable: %v", err)
	}

	// The page's rule names a configured channel; misspelt, it is refused
	// with its file and line.
	ruleDoc := docBlock(t, "ops/rules/page-web.yaml")
	load := func(doc string) []content.Item {
		set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{"rules/page-web.yaml": {Data: []byte(doc)}}})
		if err != nil {
			t.Fatal(err)
		}
		return set.Items(rule.KindName)
	}
	if warnings, err := notification.CheckRules(load(ruleDoc), channels); err != nil || len(warnings) != 0 {
		t.Errorf("page-web: %v %v", warnings, err)
	}
	_, err = notification.CheckRules(load(strings.Replace(ruleDoc, "channel: ops-slack", "channel: ops-slak", 1)), channels)
	want := `ops/rules/page-web.yaml:2: Rule "page-web": spec.then.notify.channel: "ops-slak" is not a notification channel configured on this server (configured: dba-oncall, oncall, ops-slack, security)`
	if err == nil || err.Error() != want {
		t.Errorf("misspelt channel:\n got %v\nwant %s", err, want)
	}
	// The library's rules name "security": a server without it warns.
	lib, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := notification.CheckRules(lib.Items(rule.KindName), nil)
	if err != nil || len(warnings) == 0 || !strings.Contains(warnings[0], `spec.then.notify.channel: "security" is not a notification channel configured on this server (none is configured)`) {
		t.Errorf("library without channels: %v %v", warnings, err)
	}
	if warnings, err := notification.CheckRules(lib.Items(rule.KindName), channels); err != nil || len(warnings) != 0 {
		t.Errorf("library with the page's channels: %v %v", warnings, err)
	}
}

// TestDocsOnCallExample builds the on-call section's channels as the
// server does: each type's defaults and keys.
func TestDocsOnCallExample(t *testing.T) {
	cfg := docConfig(t, "flywheel-oncall.yaml")
	env := map[string]string{"FLYWHEEL_PD_DBA_ROUTING_KEY": "R0UTING", "FLYWHEEL_OPSGENIE_KEY": "K3Y",
		"FLYWHEEL_TEAMS_OPS_URL": "https://example.webhook.office.com/webhookb2/x"}
	channels, err := notification.Build(cfg.Notifications, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if pd := channels["pd-dba"]; pd.URL != notification.PagerDutyEventsURL || pd.Key != "R0UTING" {
		t.Errorf("pd-dba: %s", pd.URL)
	}
	if og := channels["og-platform"]; og.URL != notification.OpsgenieEUURL || og.Key != "K3Y" {
		t.Errorf("og-platform: %s", og.URL)
	}
	if tm := channels["ops-teams"]; tm.URL != env["FLYWHEEL_TEAMS_OPS_URL"] || tm.Type != "teams" {
		t.Errorf("ops-teams: %+v", tm.Type)
	}
	delete(env, "FLYWHEEL_OPSGENIE_KEY")
	if _, err := notification.Build(cfg.Notifications, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil ||
		!strings.Contains(err.Error(), "notifications.channels.og-platform.api_key_env: the environment variable FLYWHEEL_OPSGENIE_KEY is not set") {
		t.Errorf("without the key: %v", err)
	}
}

// docConfig loads the page's block named name as the server loads its
// configuration file, and validates it.
func docConfig(t *testing.T, name string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flywheel.yaml")
	if err := os.WriteFile(path, []byte(docBlock(t, name)), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg config.Config
	if err := cfg.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
