package rule_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
)

const head = "apiVersion: flywheel/v1\nkind: Rule\nmetadata:\n  name: r\nspec:\n"

// TestSpecErrors loads broken rules through the content loader: every
// error names the file, the line of the field and the field.
func TestSpecErrors(t *testing.T) {
	t.Parallel()
	const fields = "(fields: source, kind, severity, status, title, description, labels, annotations, resources, fingerprint)"
	tests := []struct {
		name string
		spec string // after "spec:\n" on line 5
		want []string
	}{
		{
			name: "no when",
			spec: "  then: {suppress: true}\n",
			want: []string{`ops/r.yaml:5: spec.when: is required (a CEL condition; "true" matches everything; or {schedule: …})`},
		},
		{
			name: "then does nothing",
			spec: "  when: \"true\"\n  then: {}\n",
			want: []string{`ops/r.yaml:7: spec.then: does nothing: set runbook, set, notify or suppress`},
		},
		{
			name: "misspelt event field",
			spec: "  when: event.lables.team == \"db\"\n  then: {suppress: true}\n",
			want: []string{`ops/r.yaml:6: spec.when: event has no field "lables"; did you mean "labels"? ` + fields},
		},
		{
			name: "misspelt opsitem field",
			spec: "  when: opsitem.severty == \"high\"\n  then: {suppress: true}\n",
			want: []string{`ops/r.yaml:6: spec.when: opsitem has no field "severty"; did you mean "severity"? (fields: id, title, description, category, severity, status, source, rule, group_key, occurrences, flapping, created_at, first_event_at, last_event_at)`},
		},
		{
			name: "when of the wrong type",
			spec: "  when: '\"x\"'\n  then: {suppress: true}\n",
			want: []string{`ops/r.yaml:6: spec.when: must be of type bool, not string`},
		},
		{
			name: "runbook without mode, bad parameter",
			spec: "  when: \"true\"\n  then:\n    runbook: disk-cleanup\n    parameters:\n      host: event.resources[0].idd +\n      2bad: '\"x\"'\n",
			want: []string{
				`ops/r.yaml:7: spec.then.mode: is required with runbook: auto, approval or suggest`,
				`ops/r.yaml:10: spec.then.parameters.host: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
				`ops/r.yaml:11: spec.then.parameters.2bad: is not a parameter name (letters, digits and '_', not starting with a digit)`,
			},
		},
		{
			name: "bad mode and runbook name",
			spec: "  when: \"true\"\n  then:\n    runbook: 'disk cleanup'\n    mode: automatic\n",
			want: []string{
				`ops/r.yaml:8: spec.then.runbook: "disk cleanup" is not a content name (letters, digits, '.', '_', '-')`,
				`ops/r.yaml:9: spec.then.mode: "automatic" is not one of auto, approval, suggest`,
			},
		},
		{
			name: "approvers: not for auto, only roles and tokens",
			spec: "  when: \"true\"\n  then:\n    runbook: disk-cleanup\n    mode: auto\n    approvers: [root, \"name:\"]\n",
			want: []string{
				`ops/r.yaml:10: spec.then.approvers: is set but mode auto asks no one: use approval or suggest`,
				`ops/r.yaml:10: spec.then.approvers[0]: "root" is neither a role (viewer, operator, admin) nor a token (token:<id>, name:<token name>)`,
				`ops/r.yaml:10: spec.then.approvers[1]: "name:" is neither a role (viewer, operator, admin) nor a token (token:<id>, name:<token name>)`,
			},
		},
		{
			name: "runbook fields without runbook",
			spec: "  when: \"true\"\n  then:\n    mode: auto\n    parameters: {a: '1'}\n    targets: '[\"i-1\"]'\n    suppress: true\n",
			want: []string{
				`ops/r.yaml:8: spec.then.mode: is set but runbook is not`,
				`ops/r.yaml:9: spec.then.parameters: is set but runbook is not`,
				`ops/r.yaml:10: spec.then.targets: is set but runbook is not`,
			},
		},
		{
			name: "suppress with runbook",
			spec: "  when: \"true\"\n  then:\n    runbook: x\n    mode: auto\n    targets: event.source\n    suppress: true\n",
			want: []string{
				`ops/r.yaml:11: spec.then.suppress: cannot be combined with runbook: a suppressed OpsItem is noise, nothing runs for it`,
			},
		},
		{
			name: "targets of the wrong type",
			spec: "  when: \"true\"\n  then:\n    runbook: x\n    mode: auto\n    targets: '1'\n",
			want: []string{`ops/r.yaml:10: spec.then.targets: must be of type list(string) or list(dyn) or optional_type(dyn), not int`},
		},
		{
			name: "set and notify",
			spec: "  when: \"true\"\n  then:\n    set: {category: securty, severity: urgent}\n    notify: {message: '1'}\n",
			want: []string{
				`ops/r.yaml:8: spec.then.set.category: category "securty" is not one of security, guardrails, monitoring, deployment, patching, backup, service, operations, finance`,
				`ops/r.yaml:8: spec.then.set.severity: "urgent" is not one of critical, high, medium, low, info`,
				`ops/r.yaml:9: spec.then.notify.channel: is required`,
				`ops/r.yaml:9: spec.then.notify.message: must be of type string, not int`,
			},
		},
		{
			name: "limits turned off",
			spec: "  when: \"true\"\n  then: {suppress: true}\n  rate_limit: {max: 0, per: 10ms}\n  circuit_breaker: {failures: 0}\n  cooldown: 5ms\n",
			want: []string{
				`ops/r.yaml:8: spec.rate_limit.max: 0: a rule must act at least once per period (every automated action is bounded; raise max instead of turning the limit off)`,
				`ops/r.yaml:8: spec.rate_limit.per: 10ms is too short; at least 1s`,
				`ops/r.yaml:9: spec.circuit_breaker.failures: 0: at least 1 (every automated action is bounded; raise it instead of turning the breaker off)`,
				`ops/r.yaml:10: spec.cooldown: 5ms is not 0 or at least 1s`,
			},
		},
		{
			name: "unknown field",
			spec: "  when: \"true\"\n  then: {suppress: true, runbok: x}\n",
			want: []string{`ops/r.yaml:7: field "runbok" not found in Rule spec.then; did you mean "runbook"?`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(map[string]string{"r.yaml": head + tc.spec})
			got := errorLines(err)
			if tc.want == nil {
				if len(got) == 0 {
					t.Fatal("loaded without error")
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

// TestSpecDefaults: what a rule leaves out is bounded anyway.
func TestSpecDefaults(t *testing.T) {
	t.Parallel()
	rs := compileYAML(t, map[string]string{"r.yaml": head + "  when: \"true\"\n  then: {runbook: x, mode: approval}\n"})
	r, ok := rs.Rule("r")
	if !ok {
		t.Fatal("rule r missing")
	}
	if r.RateLimit != (rule.RateLimit{Max: 10, Per: time.Hour}) || r.CircuitBreaker.Failures != 3 || r.Cooldown != time.Hour ||
		r.Mode != runbook.ModeApproval || r.Stop || !r.Acts() {
		t.Errorf("defaults: %+v", r)
	}
	if _, ok := rs.ForTenant("anyone").Rule("r"); !ok {
		t.Error("a shared rule is not in every tenant's view")
	}
}

// TestCompileErrors: Compile names the item of each error and refuses
// duplicates and other kinds.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	set, err := loadYAML(map[string]string{
		"a.yaml": head + "  when: \"true\"\n  then: {suppress: true}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	items := set.Items(rule.KindName)
	dup := append(items, items[0])
	if _, err := rule.Compile(dup); err == nil || !strings.Contains(err.Error(), `Rule "r" is defined twice`) {
		t.Errorf("duplicate: %v", err)
	}
	other := items[0]
	other.Kind = "Runbook"
	if _, err := rule.Compile(append(items[:0:0], other)); err == nil || !strings.Contains(err.Error(), `Runbook "r" is not a Rule`) {
		t.Errorf("other kind: %v", err)
	}
}
