package rule_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func rulesDoc(name, tenant, spec string) string {
	meta := "metadata:\n  name: " + name + "\n"
	if tenant != "" {
		meta += "  tenant: " + tenant + "\n"
	}
	return "apiVersion: flywheel/v1\nkind: Rule\n" + meta + "spec:\n" + indent(spec)
}

// TestEvaluateOrder: highest priority first, then by name; stop and
// suppress end evaluation; a failing condition counts as false and is
// reported.
func TestEvaluateOrder(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{
		"a.yaml": rulesDoc("a-low", "", "priority: 1\nwhen: \"true\"\nthen: {set: {category: service}}\n"),
		"b.yaml": rulesDoc("b-high", "", "priority: 10\nwhen: event.source == \"alertmanager\"\nthen: {notify: {channel: ops}}\n"),
		"c.yaml": rulesDoc("c-high", "", "priority: 10\nwhen: event.labels.team == \"db\"\nthen: {runbook: db-diag, mode: suggest}\nstop: true\n"),
		"d.yaml": rulesDoc("d-mute", "", "priority: 5\nwhen: event.labels[?\"noise\"].hasValue()\nthen: {suppress: true}\n"),
	})
	ev := &event.Event{Source: "alertmanager", Labels: map[string]string{"alertname": "X"}}
	ms, errs := rs.Evaluate(ev, nil)
	if got := ruleNames(ms); !slices.Equal(got, []string{"b-high", "a-low"}) {
		t.Errorf("matches = %v", got)
	}
	var ee *rule.EvalError
	if len(errs) != 1 || !errors.As(errs[0], &ee) || ee.Rule != "c-high" || ee.Field != "when" ||
		!strings.Contains(errs[0].Error(), "rule c-high: spec.when: no such key: team") {
		t.Errorf("errors = %v", errs)
	}
	ev.Labels["team"] = "db"
	if ms, _ := rs.Evaluate(ev, nil); !slices.Equal(ruleNames(ms), []string{"b-high", "c-high"}) {
		t.Errorf("with stop: %v", ruleNames(ms))
	}
	delete(ev.Labels, "team")
	ev.Labels["noise"] = "yes"
	if ms, _ := rs.Evaluate(ev, nil); !slices.Equal(ruleNames(ms), []string{"b-high", "d-mute"}) {
		t.Errorf("suppress ends evaluation: %v", ruleNames(ms))
	}
	if got := ruleNames(matchesOf(rs.List())); !slices.Equal(got, []string{"b-high", "c-high", "d-mute", "a-low"}) {
		t.Errorf("List = %v", got)
	}
	// Route skips matches without a runbook.
	ev.Labels = map[string]string{"team": "db"}
	if m, ok := rs.Route(ev, nil); !ok || m.Rule.Name != "c-high" {
		t.Errorf("Route = %+v", m)
	}
	if _, ok := rs.Route(&event.Event{Source: "x"}, nil); ok {
		t.Error("Route found a runbook for an event only a set rule matches")
	}
}

func matchesOf(rs []*rule.Rule) []rule.Match {
	out := make([]rule.Match, len(rs))
	for i, r := range rs {
		out[i].Rule = r
	}
	return out
}

// TestTenantViews: a tenant's rules apply to its events only, beside the
// shared ones.
func TestTenantViews(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{
		"shared.yaml": rulesDoc("shared", "", "when: \"true\"\nthen: {notify: {channel: ops}}\n"),
		"acme.yaml":   rulesDoc("acme-only", "acme", "priority: 5\nwhen: \"true\"\nthen: {runbook: r, mode: auto}\n"),
	})
	ev := &event.Event{}
	if ms, _ := rs.ForTenant("acme").Evaluate(ev, nil); !slices.Equal(ruleNames(ms), []string{"acme-only", "shared"}) {
		t.Errorf("acme = %v", ruleNames(ms))
	}
	if ms, _ := rs.ForTenant("globex").Evaluate(ev, nil); !slices.Equal(ruleNames(ms), []string{"shared"}) {
		t.Errorf("globex = %v", ruleNames(ms))
	}
	if _, ok := rs.ForTenant("globex").Rule("acme-only"); ok {
		t.Error("globex sees acme's rule")
	}
	if r, ok := rs.ForTenant("acme").Rule("acme-only"); !ok || r.Tenant != "acme" {
		t.Errorf("acme's rule = %+v", r)
	}
}

// TestSameNamePerTenant: rule names are one per tenant. Two tenants' rules
// of one name (a pack installed for each) and a shared one of that name
// all compile; each tenant's view has its own in place of the shared one,
// and other tenants keep the shared one.
func TestSameNamePerTenant(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{
		"shared.yaml": rulesDoc("r", "", "when: \"true\"\nthen: {notify: {channel: shared}}\n"),
		"acme.yaml":   rulesDoc("r", "acme", "when: \"true\"\nthen: {notify: {channel: acme}}\n"),
		"globex.yaml": rulesDoc("r", "globex", "when: \"true\"\nthen: {notify: {channel: globex}}\n"),
	})
	for tenant, want := range map[string]string{"acme": "acme", "globex": "globex", "initech": "shared"} {
		ms, _ := rs.ForTenant(tenant).Evaluate(&event.Event{}, nil)
		if len(ms) != 1 || ms[0].Rule.Notify.Channel != want {
			t.Errorf("%s: %d matches %v, want only the rule notifying %s", tenant, len(ms), ruleNames(ms), want)
		}
		if r, ok := rs.ForTenant(tenant).Rule("r"); !ok || r.Notify.Channel != want {
			t.Errorf("%s: Rule(r) = %+v", tenant, r)
		}
	}
}

// TestMatchValues: parameters convert to plain Go, targets to strings,
// the message defaults to the OpsItem's title, and expressions read both
// the event and the OpsItem.
func TestMatchValues(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{"r.yaml": rulesDoc("r", "", `when: opsitem.occurrences >= 3 && opsitem.severity == "high"
then:
  runbook: collect
  mode: auto
  parameters:
    host: event.resources[0].id
    count: opsitem.occurrences * 2
    ratio: "0.5"
    force: "true"
    ports: '[22, 3389]'
    tags: '{"team": event.labels.team}'
    since: opsitem.created_at
    window: duration("90m")
    missing: event.labels[?"nope"]
    title: event.?title.orValue("")
  targets: 'event.resources.map(r, r.id) + ["", "web-1"]'
  notify: {channel: ops}
`)})
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	ev := &event.Event{Title: "t", Labels: map[string]string{"team": "web"},
		Resources: []event.ResourceRef{{Type: "host", ID: "web-1"}, {Type: "host", ID: "web-2"}}}
	o := &store.OpsItem{Title: "Disk full", Severity: "high", Occurrences: 3, CreatedAt: at}
	ms, errs := rs.Evaluate(ev, o)
	if len(ms) != 1 || len(errs) != 0 {
		t.Fatalf("matches %v, errors %v", ruleNames(ms), errs)
	}
	m := ms[0]
	want := map[string]any{"host": "web-1", "count": int64(6), "ratio": 0.5, "force": true, "ports": []any{int64(22), int64(3389)},
		"tags": map[string]any{"team": "web"}, "since": at, "window": "1h30m0s", "missing": nil, "title": "t"}
	if !reflect.DeepEqual(m.Parameters, want) || len(m.Errors) != 0 {
		t.Errorf("parameters = %#v\nwant %#v (errors %v)", m.Parameters, want, m.Errors)
	}
	if !slices.Equal(m.Targets, []string{"web-1", "web-2"}) {
		t.Errorf("targets = %q", m.Targets)
	}
	if m.Message != "Disk full" {
		t.Errorf("message = %q", m.Message)
	}
	// Below the threshold the rule does not match; without an OpsItem its
	// fields read as zero.
	o.Occurrences = 2
	if ms, _ := rs.Evaluate(ev, o); len(ms) != 0 {
		t.Errorf("matched with 2 occurrences")
	}
	if ms, errs := rs.Evaluate(nil, nil); len(ms) != 0 || len(errs) != 0 {
		t.Errorf("nil inputs: %v %v", ruleNames(ms), errs)
	}
	// A parameter that fails is reported on the match.
	o.Occurrences = 3
	ev.Resources = nil
	ms, _ = rs.Evaluate(ev, o)
	if len(ms) != 1 || len(ms[0].Errors) != 1 || !strings.Contains(ms[0].Errors[0].Error(), "spec.then.parameters.host") {
		t.Errorf("errors = %v", ms[0].Errors)
	}
}

// TestWholeRecords: event and opsitem behave as maps in whole-value
// operations too (iteration, equality, has()).
func TestWholeRecords(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{"r.yaml": rulesDoc("r", "", `when: >-
  "labels" in event && has(opsitem.title) && event.size() == 10
  && opsitem.exists(k, k == "group_key") && event.filter(k, k.startsWith("s")).size() == 3
then: {suppress: true}
`)})
	if ms, errs := rs.Evaluate(&event.Event{}, &store.OpsItem{}); len(ms) != 1 || len(errs) != 0 {
		t.Errorf("matches %v errors %v", ruleNames(ms), errs)
	}
}

// TestCostLimit: a runaway expression fails on the event, not the server.
func TestCostLimit(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{"r.yaml": rulesDoc("r", "",
		"when: 'event.labels.all(k, event.labels.all(j, event.labels.all(i, event.title + k + j + i != \"\")))'\nthen: {suppress: true}\n")})
	labels := map[string]string{}
	for i := range 60 {
		labels[strings.Repeat("k", i+1)] = "v"
	}
	_, errs := rs.Evaluate(&event.Event{Labels: labels, Title: strings.Repeat("x", 100)}, nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cost") {
		t.Errorf("errors = %v", errs)
	}
}
