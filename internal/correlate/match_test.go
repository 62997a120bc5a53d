package correlate_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// TestMatchFixtures runs every fixture's normalized events through the
// built-in rules: which rule takes each, the OpsItem title and category it
// would open with, and the hold. Every fixture must be listed.
func TestMatchFixtures(t *testing.T) {
	t.Parallel()
	type want struct {
		rule, title, category string
		hold                  time.Duration
	}
	const (
		prom = "prometheus-alerts"
		gd   = "guardduty-findings"
		sh   = "securityhub-findings"
	)
	fs := "NodeFilesystemAlmostFull in prod-use1"
	tests := map[string][]want{
		"alertmanager/webhook-v4-firing.json":   {{prom, fs, "monitoring", 2 * time.Minute}, {prom, fs, "monitoring", 2 * time.Minute}},
		"alertmanager/webhook-v4-resolved.json": {{prom, fs, "monitoring", 2 * time.Minute}, {prom, fs, "monitoring", 2 * time.Minute}},
		"alertmanager/v2-postable-alerts.json": {
			{prom, "KubeDeploymentReplicasMismatch in prod-euw1 (payments)", "monitoring", 2 * time.Minute},
			{"services", "HTTPErrorRateHigh in prod-euw1 (payments)", "monitoring", 0}, // a service label: critical, no hold
			{prom, "KubePodCrashLooping in prod-euw1 (payments)", "monitoring", 2 * time.Minute},
		},
		"cloudwatch/sns-alarm-notification.json":         {{"cloudwatch-alarms", "prod-web-03-cpu-utilization-high", "monitoring", 0}},
		"cloudwatch/sns-alarm-ok.json":                   {{"cloudwatch-alarms", "prod-web-03-cpu-utilization-high", "monitoring", 0}},
		"cloudwatch/sns-subscription-confirmation.json":  nil, // a handshake, no events
		"eventbridge/cloudwatch-alarm-state-change.json": {{"cloudwatch-alarms", "prod-batch-02-root-disk-used", "monitoring", 0}},
		"eventbridge/config-compliance-change.json":      {{"config-compliance", "Config rule encrypted-volumes: non-compliant resources", "guardrails", 0}},
		"eventbridge/ec2-state-change.json":              {{"ec2-state-changes", "EC2 instance i-011accafc243a5044 is not running", "operations", 10 * time.Minute}},
		"eventbridge/guardduty-cryptocurrency.json":      {{gd, "CryptoCurrency:EC2/BitcoinTool.B!DNS on i-02df00202c8d153a7", "security", 0}},
		"eventbridge/guardduty-iam-anomalous.json":       {{gd, "CredentialAccess:IAMUser/AnomalousBehavior on AKIAYIZDXYS5N5GXCDN3", "security", 0}},
		"eventbridge/guardduty-s3.json":                  {{gd, "Discovery:S3/MaliciousIPCaller on acme-prod-invoices-111122223333", "security", 0}},
		"eventbridge/guardduty-ssh-bruteforce.json":      {{gd, "UnauthorizedAccess:EC2/SSHBruteForce on i-05617b8c8cc2687e3", "security", 0}},
		"eventbridge/health-event.json":                  {{"aws-health", "AWS Health: AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "service", 0}},
		"eventbridge/inspector2-finding.json":            {{"inspector-findings", "Vulnerable packages on i-015de4c7d28bab629", "security", 0}},
		"eventbridge/macie-finding.json":                 {{"macie-findings", "The S3 bucket is publicly accessible: acme-marketing-assets-prod", "security", 0}},
		"eventbridge/securityhub-findings-imported.json": {
			{sh, "EC2.13: Security groups should not allow ingress from 0.0.0.0/0 to port 22 (sg-0a9b404505ca54ef5)", "security", 0},
			{sh, "S3.4: S3 buckets should have server-side encryption enabled (acme-dev-scratch-exports)", "security", 0},
		},
		"generic/webhook.json": {{"generic-events", "HTTPS check failing for status page", "monitoring", 0}},
	}
	names := fixtureNames(t)
	if got := slices.Sorted(maps.Keys(tests)); !slices.Equal(got, names) {
		t.Fatalf("fixtures on disk %q\n  and in this table %q differ; add the new fixture's expectations", names, got)
	}
	rs := builtinRules(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evs := fixtureEvents(t, name)
			if len(evs) != len(tests[name]) {
				t.Fatalf("%d events, want %d", len(evs), len(tests[name]))
			}
			for i, w := range tests[name] {
				e := &evs[i]
				m := match(t, rs, e)
				if m.Rule.Name != w.rule {
					t.Errorf("event %d (%s): rule %s, want %s", i, e.Title, m.Rule.Name, w.rule)
					continue
				}
				if len(m.EvalErrors) > 0 {
					t.Errorf("event %d: evaluation errors: %v", i, m.EvalErrors)
				}
				if got := m.Rule.Title(e); got != w.title {
					t.Errorf("event %d: title %q, want %q", i, got, w.title)
				}
				if got := m.Rule.Category(e); got != w.category {
					t.Errorf("event %d: category %q, want %q", i, got, w.category)
				}
				if got := m.Rule.HoldFor(e); got != w.hold {
					t.Errorf("event %d: hold %s, want %s", i, got, w.hold)
				}
				if len(m.GroupKey) != 16 || len(m.GroupValues) == 0 {
					t.Errorf("event %d: group key %q, values %q", i, m.GroupKey, m.GroupValues)
				}
			}
		})
	}
}

// TestGroups checks which fixture events share a group and which do not —
// the point of correlation.
func TestGroups(t *testing.T) {
	t.Parallel()
	rs := builtinRules(t)
	key := func(e event.Event) string { return match(t, rs, &e).GroupKey }
	one := func(name string) event.Event { return fixtureEvents(t, name)[0] }
	with := func(e event.Event, edit func(*event.Event)) event.Event {
		e.Labels = maps.Clone(e.Labels)
		e.Resources = slices.Clone(e.Resources)
		edit(&e)
		e.Fingerprint = event.FingerprintOf(e.Source, map[string]string{"title": e.Title, "id": e.SourceID})
		return e
	}
	relabel := func(k, v string) func(*event.Event) { return func(e *event.Event) { e.Labels[k] = v } }

	firing := fixtureEvents(t, "alertmanager/webhook-v4-firing.json")
	resolved := fixtureEvents(t, "alertmanager/webhook-v4-resolved.json")
	v2 := fixtureEvents(t, "alertmanager/v2-postable-alerts.json")
	hub := fixtureEvents(t, "eventbridge/securityhub-findings-imported.json")
	ssh := one("eventbridge/guardduty-ssh-bruteforce.json")
	cfg := one("eventbridge/config-compliance-change.json")
	inspector := one("eventbridge/inspector2-finding.json")
	health := one("eventbridge/health-event.json")
	generic := one("generic/webhook.json")

	same := []struct {
		name string
		a, b event.Event
	}{
		{"one alert on two hosts of a cluster", firing[0], firing[1]},
		{"an alert and its resolution", firing[0], resolved[0]},
		{"warning and critical of one alert", firing[0], with(firing[0], func(e *event.Event) {
			e.Severity, e.Labels["severity"] = event.SeverityCritical, "critical"
		})},
		{"a 30th host", firing[0], with(firing[0], relabel("instance", "10.20.9.9:9100"))},
		{"an alarm over SNS and its OK", one("cloudwatch/sns-alarm-notification.json"), one("cloudwatch/sns-alarm-ok.json")},
		{"two GuardDuty findings of one type on one instance", ssh, with(ssh, func(e *event.Event) {
			e.SourceID, e.Labels["remote_ip"] = "another-finding", "203.0.113.9"
		})},
		{"two volumes failing one Config rule", cfg, with(cfg, func(e *event.Event) {
			e.Resources[0].ID, e.Title = "vol-0aaaaaaaaaaaaaaaa", "encrypted-volumes: AWS::EC2::Volume vol-0aaaaaaaaaaaaaaaa is NON_COMPLIANT"
		})},
		{"two CVEs on one instance", inspector, with(inspector, func(e *event.Event) {
			e.Labels["vulnerability_id"], e.Title = "CVE-2026-0001", "CVE-2026-0001 - glibc"
		})},
		{"one Health event type on two instances", health, with(health, func(e *event.Event) {
			e.Resources[0].ID = "i-0bbbbbbbbbbbbbbbb"
		})},
		{"one generic check for two resources", generic, with(generic, func(e *event.Event) {
			e.Resources = []event.ResourceRef{{Type: "url", ID: "https://www.example.com/"}}
		})},
	}
	for _, c := range same {
		if ka, kb := key(c.a), key(c.b); ka != kb {
			t.Errorf("%s: keys differ (%s, %s); want one group", c.name, ka, kb)
		}
	}

	differ := []struct {
		name string
		a, b event.Event
	}{
		{"one alert in two clusters", firing[0], with(firing[0], relabel("cluster", "prod-euw1"))},
		{"two alerts in one cluster", v2[0], v2[2]},
		{"one alert in two namespaces", v2[0], with(v2[0], relabel("namespace", "search"))},
		{"two Security Hub controls", hub[0], hub[1]},
		{"one control on two resources", hub[0], with(hub[0], func(e *event.Event) { e.Resources[0].ID = "sg-0ccccccccccccccc" })},
		{"one GuardDuty type on two instances", ssh, with(ssh, func(e *event.Event) { e.Resources[0].ID = "i-0ddddddddddddddd" })},
		{"two GuardDuty types on one instance", ssh, with(ssh, relabel("finding_type", "Recon:EC2/PortProbeUnprotectedPort"))},
		{"two Config rules", cfg, with(cfg, relabel("config_rule", "ebs-snapshot-public-restorable-check"))},
		{"two alarms of one name in two accounts", one("eventbridge/cloudwatch-alarm-state-change.json"),
			with(one("eventbridge/cloudwatch-alarm-state-change.json"), relabel("alarm_arn", "arn:aws:cloudwatch:us-east-1:444455556666:alarm:prod-batch-02-root-disk-used"))},
	}
	for _, c := range differ {
		if ka, kb := key(c.a), key(c.b); ka == kb {
			t.Errorf("%s: same key %s; want two groups", c.name, ka)
		}
	}
}

// TestMatchOrder covers priority, name order, the catch-all, tenants and
// evaluation errors with rules written for the test.
func TestMatchOrder(t *testing.T) {
	t.Parallel()
	rule := func(name, tenant, body string) string {
		meta := "{name: " + name + "}"
		if tenant != "" {
			meta = "{name: " + name + ", tenant: " + tenant + "}"
		}
		return "apiVersion: flywheel/v1\nkind: CorrelationRule\nmetadata: " + meta + "\nspec:\n" + body
	}
	set, err := loadYAML(map[string]string{
		"a.yaml": rule("b-high", "", "  priority: 10\n  filter: event.source == 'x'\n  group_by: [event.labels.team]\n"),
		"b.yaml": rule("a-high", "", "  priority: 10\n  filter: event.source == 'x' && event.title == 'first'\n"),
		"c.yaml": rule("low", "", "  priority: 1\n  filter: event.labels.team == 'db'\n"),
		"d.yaml": rule("acme-only", "acme", "  priority: 20\n  filter: event.source == 'x'\n"),
		"e.yaml": rule("typed", "", "  priority: 5\n  filter: event.labels.size() > 100\n  group_by: [event.labels.zone]\n"),
		// Names are one per tenant: initech's a-high in place of the shared one.
		"f.yaml": rule("a-high", "initech", "  priority: 10\n  filter: event.source == 'x'\n  group_by: [event.labels.team]\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range rs.List() {
		order = append(order, r.Name)
	}
	// No catch-all in this content: Compile adds the fallback.
	if want := []string{"a-high", "b-high", "typed", "low", correlate.FallbackName}; !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}

	ev := func(source, title string, labels map[string]string) *event.Event {
		return &event.Event{Source: source, Title: title, Labels: labels, Fingerprint: "fp-" + title}
	}
	tests := []struct {
		name, tenant string
		e            *event.Event
		rule         string
		values       []string
		errs         int
	}{
		{"higher priority, then name", "", ev("x", "first", map[string]string{"team": "web"}), "a-high", []string{"fp-first"}, 0},
		{"next by name", "", ev("x", "second", map[string]string{"team": "web"}), "b-high", []string{"web"}, 0},
		{"missing group_by label is empty", "", ev("x", "third", nil), "b-high", []string{""}, 1},
		{"failing filter is false", "", ev("y", "fourth", nil), correlate.FallbackName, []string{"fp-fourth"}, 1},
		{"lower priority", "", ev("y", "fifth", map[string]string{"team": "db"}), "low", []string{"fp-fifth"}, 0},
		{"tenant rule first for its tenant", "acme", ev("x", "first", nil), "acme-only", []string{"fp-first"}, 0},
		{"tenant rule absent for others", "globex", ev("x", "first", nil), "a-high", []string{"fp-first"}, 0},
		{"a tenant's rule of a shared rule's name", "initech", ev("x", "first", map[string]string{"team": "web"}), "a-high", []string{"web"}, 0},
	}
	for _, tt := range tests {
		m := match(t, rs.ForTenant(tt.tenant), tt.e)
		if m.Rule.Name != tt.rule || !slices.Equal(m.GroupValues, tt.values) || len(m.EvalErrors) != tt.errs {
			t.Errorf("%s: rule %s values %q errors %v; want %s %q and %d errors",
				tt.name, m.Rule.Name, m.GroupValues, m.EvalErrors, tt.rule, tt.values, tt.errs)
		}
	}
	if r, ok := rs.ForTenant("acme").Rule("acme-only"); !ok || r.Tenant != "acme" {
		t.Errorf(`acme's Rule("acme-only") = %+v, %v`, r, ok)
	}
	if _, ok := rs.ForTenant("globex").Rule("acme-only"); ok {
		t.Error(`globex sees acme's rule`)
	}
	if r, ok := rs.ForTenant("initech").Rule("a-high"); !ok || r.Tenant != "initech" {
		t.Errorf(`initech's Rule("a-high") = %+v, %v`, r, ok)
	}
	if r, ok := rs.Rule("a-high"); !ok || r.Tenant != "" {
		t.Errorf(`shared Rule("a-high") = %+v, %v`, r, ok)
	}
	if _, err := rs.Match(nil); err == nil {
		t.Error("Match(nil) did not fail")
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []event.Severity
		want event.Severity
	}{
		{nil, event.SeverityInfo},
		{[]event.Severity{"bogus"}, event.SeverityInfo},
		{[]event.Severity{event.SeverityLow, event.SeverityHigh, event.SeverityMedium}, event.SeverityHigh},
		{[]event.Severity{event.SeverityMedium, event.SeverityCritical, "bogus"}, event.SeverityCritical},
	}
	for _, tt := range tests {
		if got := correlate.Severity(tt.in); got != tt.want {
			t.Errorf("Severity(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDefaultCategory(t *testing.T) {
	t.Parallel()
	for k, want := range map[event.Kind]string{
		event.KindFinding: "security", event.KindCompliance: "guardrails", event.KindHealth: "service",
		event.KindChange: "operations", event.KindAlert: "monitoring", "": "monitoring",
	} {
		if got := correlate.DefaultCategory(k); got != want {
			t.Errorf("DefaultCategory(%q) = %s, want %s", k, got, want)
		}
	}
}
