package rule_test

import (
	"slices"
	"testing"
)

// TestLibraryRuleTests runs the tests the built-in rules carry.
func TestLibraryRuleTests(t *testing.T) {
	t.Parallel()
	res := builtinRules(t).Test()
	if len(res) < 20 {
		t.Errorf("the library's rules carry %d tests; every rule should have at least one", len(res))
	}
	tested := map[string]bool{}
	for _, r := range res {
		tested[r.Rule] = true
		if r.Err != nil {
			t.Errorf("%s: rule %s: test %q: %v", r.Origin, r.Rule, r.Test, r.Err)
		}
	}
	for _, r := range builtinRules(t).List() {
		if !tested[r.Name] {
			t.Errorf("library rule %s has no tests", r.Name)
		}
	}
}

// TestRuleTests: what a failing rule test says.
func TestRuleTests(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{
		"a.yaml": rulesDoc("catch-db", "", `priority: 10
when: event.labels[?"team"].orValue("") == "db"
then: {runbook: db-diag, mode: suggest}
stop: true
`),
		"b.yaml": rulesDoc("restart", "", `when: event.labels.alertname == "ServiceDown"
then:
  runbook: restart-service
  mode: auto
  parameters: {unit: event.labels.unit, retries: "3"}
  targets: '[event.labels.instance]'
  notify: {channel: ops, message: '"restarting " + event.labels.unit'}
tests:
  - name: passes
    event: {labels: {alertname: ServiceDown, unit: nginx.service, instance: web-1}}
    expect:
      parameters: {unit: nginx.service, retries: 3}
      targets: [web-1]
      message: restarting nginx.service
  - name: wrong parameter and targets
    event: {labels: {alertname: ServiceDown, unit: nginx.service, instance: web-1}}
    expect:
      parameters: {unit: apache.service}
      targets: [web-2]
  - name: shadowed
    event: {labels: {alertname: ServiceDown, unit: x, instance: y, team: db}}
  - name: condition fails
    event: {labels: {unit: x}}
  - name: false
    event: {labels: {alertname: DiskFull}}
  - name: unexpected match
    event: {labels: {alertname: ServiceDown, unit: x, instance: y}}
    expect: {match: false}
  - name: resolved events still evaluate
    event: {status: resolved, labels: {alertname: ServiceDown, unit: x, instance: y}}
`),
		"c.yaml": rulesDoc("acme-only", "acme", `when: event.source == "x"
then: {suppress: true}
tests:
  - event: {source: x}
`),
	})
	var got []string
	for _, r := range rs.Test() {
		msg := "ok"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		got = append(got, r.Rule+"/"+r.Test+": "+msg)
	}
	want := []string{
		"acme-only/tests[0]: ok",
		"restart/passes: ok",
		"restart/wrong parameter and targets: parameter unit = \"nginx.service\", want \"apache.service\"\ntargets = [\"web-1\"], want [\"web-2\"]",
		"restart/shadowed: does not match: rule catch-db matched first and stops evaluation",
		"restart/condition fails: does not match: rule restart: spec.when: no such key: alertname",
		"restart/false: does not match: its condition is false",
		"restart/unexpected match: matches, but the test expects it not to",
		"restart/resolved events still evaluate: ok",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results:\n%q\nwant\n%q", got, want)
	}
}

// TestRuleTestErrors: a test is checked against its rule when content
// loads.
func TestRuleTestErrors(t *testing.T) {
	t.Parallel()
	_, err := loadYAML(map[string]string{"r.yaml": head + `  when: "true"
  then: {runbook: x, mode: auto, parameters: {a: '1'}}
  tests:
    - event: {severity: urgent, status: open, kind: alarm, labels: {a: b}}
      opsitem: {status: closed}
      expect:
        parameters: {b: 1}
        targets: [x]
        message: hi
`})
	want := []string{
		`ops/r.yaml:9: spec.tests[0].event.severity: "urgent" is not one of critical, high, medium, low, info`,
		`ops/r.yaml:9: spec.tests[0].event.status: "open" is not firing or resolved`,
		`ops/r.yaml:9: spec.tests[0].event.kind: "alarm" is not one of alert, finding, change, compliance, health`,
		`ops/r.yaml:10: spec.tests[0].opsitem.status: status "closed" is not one of open, in-progress, resolved, suppressed`,
		`ops/r.yaml:12: spec.tests[0].expect.parameters.b: is not one of the rule's parameters`,
		`ops/r.yaml:13: spec.tests[0].expect.targets: is set but the rule has no targets expression`,
		`ops/r.yaml:14: spec.tests[0].expect.message: is set but the rule does not notify`,
	}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
}
