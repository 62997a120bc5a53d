package runbook_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

var ioActions = runbook.ActionNames("exec", "http", "notify", "aws")

// load loads YAML documents through the real content loader with the
// Runbook kind registered.
func load(t *testing.T, docs string) (*content.Set, error) {
	t.Helper()
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(ioActions))
	reg.RegisterCheck(runbook.CheckRefs)
	return content.Load(reg, content.Source{Name: "ops", FS: fstest.MapFS{"runbooks/rb.yaml": {Data: []byte(docs)}}})
}

func mustRunbook(t *testing.T, doc string) *runbook.Runbook {
	t.Helper()
	set, err := load(t, doc)
	if err != nil {
		t.Fatalf("load:\n%v", err)
	}
	lib, err := runbook.NewLibrary(set, ioActions)
	if err != nil {
		t.Fatal(err)
	}
	items := set.Items(runbook.KindName)
	rb, ok := lib.Get("acme", items[0].Name)
	if !ok {
		t.Fatalf("runbook %s not in library", items[0].Name)
	}
	return rb
}

const diskCleanup = `apiVersion: flywheel/v1
kind: Runbook
metadata:
  name: disk-cleanup
  description: Free space on a filling volume
spec:
  version: 3
  estimate_minutes: 20
  parameters:
    - name: mount
      type: string
      default: /
      pattern: "/.*"
    - name: threshold
      type: int
      default: 90
    - name: keep
      type: duration
      default: 72h
    - name: mode
      allowed: [gentle, aggressive]
      default: gentle
  targets: {from: opsitem}
  max_concurrency: "10%"
  max_errors: "2"
  outputs:
    freed: steps.measure.outputs.before - steps.measure_after.outputs.used
  steps:
    - name: measure
      action: exec
      with:
        command: "df --output=pcent ${{ params.mount }}"
    - name: vacuum
      action: exec
      when: params.mode == "aggressive" || steps.measure.outputs.used > params.threshold
      with:
        command: "journalctl --vacuum-time=${{ params.keep }}"
        args: ["${{ target.id }}", "${{ params.threshold }}"]
      timeout: 2m
      retries: {max: 2, backoff: 1s}
      on_failure: continue
      idempotent: true
    - name: measure_after
      action: exec
      with: {command: "df ${{ params.mount }}"}
    - name: check
      action: branch
      with:
        cases:
          - when: steps.measure_after.outputs.used < params.threshold
            goto: report
        default: escalate
    - name: escalate
      action: approve
      with: {approvers: [admin], timeout: 1h, message: "still ${{ steps.measure_after.outputs.used }}% full"}
    - name: report
      action: collect
      with: {name: disk, value: "steps.measure_after.outputs"}
`

func TestCompileExample(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, diskCleanup)
	if rb.Name != "disk-cleanup" || rb.Version != 3 || rb.EstimateMinutes != 20 || rb.Description != "Free space on a filling volume" {
		t.Errorf("header = %+v", rb)
	}
	if got := rb.MaxConcurrency.Of(100, true); got != 10 {
		t.Errorf("max_concurrency of 100 = %d", got)
	}
	if got := rb.MaxErrors.Of(100, false); got != 2 {
		t.Errorf("max_errors = %d", got)
	}
	if len(rb.Steps) != 6 {
		t.Fatalf("steps = %d", len(rb.Steps))
	}
	vac := rb.Steps[1]
	if !vac.PerTarget || !vac.Idempotent || vac.OnFailure.Kind != runbook.FailContinue || vac.Retry.Max != 2 || vac.Timeout.Minutes() != 2 {
		t.Errorf("vacuum = %+v", vac)
	}
	br := rb.Steps[3].Control.(*runbook.Branch)
	if br.Cases[0].Goto != 5 || br.Default != 4 {
		t.Errorf("branch = %+v", br)
	}
	if a := rb.Steps[4].Control.(*runbook.Approve); a.MinApprovals != 1 || a.Timeout.Hours() != 1 {
		t.Errorf("approve = %+v", a)
	}
	params, err := rb.ResolveParams(map[string]any{"threshold": "85"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"mount": "/", "threshold": int64(85), "keep": "72h0m0s", "mode": "gentle"}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("params = %#v, want %#v", params, want)
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: p}
spec:
  parameters:
    - {name: s, type: string, pattern: "[a-z]+"}
    - {name: i, type: int, required: true}
    - {name: n, type: number}
    - {name: b, type: bool}
    - {name: d, type: duration}
    - {name: l, type: list}
    - {name: m, type: map}
    - {name: e, type: int, allowed: [1, 2, 3]}
  steps:
    - {name: a, action: assert, with: {that: "true"}}
`)
	for _, tc := range []struct {
		in   map[string]any
		want map[string]any
		err  string
	}{
		{in: map[string]any{"i": 3.0}, want: map[string]any{"i": int64(3)}},
		{in: map[string]any{"i": "7", "n": "1.5", "b": "true", "d": "90s", "l": "a, b", "m": `{"k":1}`, "e": 2.0, "s": "abc"},
			want: map[string]any{"i": int64(7), "n": 1.5, "b": true, "d": "1m30s", "l": []any{"a", "b"}, "m": map[string]any{"k": int64(1)}, "e": int64(2), "s": "abc"}},
		{in: map[string]any{"l": []any{"x"}, "i": int64(1)}, want: map[string]any{"i": int64(1), "l": []any{"x"}}},
		{in: map[string]any{}, err: `parameter "i" is required`},
		{in: map[string]any{"i": 1.5}, err: `parameter "i": 1.5 is not a whole number`},
		{in: map[string]any{"i": 1, "s": "ABC"}, err: `"ABC" does not match the pattern [a-z]+`},
		{in: map[string]any{"i": 1, "e": 4}, err: `4 is not one of the allowed values [1,2,3]`},
		{in: map[string]any{"i": 1, "d": "soon"}, err: `"soon" is not a duration`},
		{in: map[string]any{"i": 1, "b": []any{}}, err: `parameter "b": [] is a list, not a bool`},
		{in: map[string]any{"i": 1, "x": 1}, err: `unknown parameter "x" (parameters: s, i, n, b, d, l, m, e)`},
	} {
		got, err := rb.ResolveParams(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !runbook.IsParamError(err) {
				t.Errorf("ResolveParams(%v) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ResolveParams(%v) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

// TestValidationErrors: each mistake is reported at its own line, naming
// the field.
func TestValidationErrors(t *testing.T) {
	t.Parallel()
	head := "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: bad}\nspec:\n"
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"duplicate step", "  steps:\n    - {name: a, action: exec}\n    - {name: a, action: exec}\n",
			`rb.yaml:7: spec.steps[1].name: step name "a" is already used by steps[0]`},
		{"unknown action", "  steps:\n    - {name: a, action: exce}\n",
			`rb.yaml:6: spec.steps[0].action: unknown action "exce"`},
		{"goto missing", "  steps:\n    - {name: a, action: exec, on_failure: 'goto:nope'}\n",
			`spec.steps[0].on_failure: there is no step "nope" to go to`},
		{"branch to self", "  steps:\n    - name: a\n      action: branch\n      with: {cases: [{when: 'true', goto: a}]}\n",
			`spec.steps[0].with.cases[0].goto: step "a" cannot go to itself`},
		{"bad cel", "  steps:\n    - {name: a, action: exec, when: 'params.x ==', with: {}}\n",
			`spec.steps[0].when: Syntax error`},
		{"non-bool when", "  steps:\n    - {name: a, action: exec, when: '1 + 2'}\n",
			`spec.steps[0].when: must be a bool, not int`},
		{"unknown step ref", "  steps:\n    - {name: a, action: exec}\n    - {name: b, action: exec, with: {x: '${{ steps.aa.outputs.y }}'}}\n",
			`spec.steps[1].with: steps.aa: there is no step "aa"`},
		{"unknown param ref", "  parameters: [{name: mount}]\n  steps:\n    - {name: a, action: assert, with: {that: 'params.mout == \"/\"'}}\n",
			`params.mout: there is no parameter "mout"; did you mean "mount"?`},
		{"template syntax", "  steps:\n    - {name: a, action: exec, with: {command: 'echo ${{ 1 +  }}'}}\n",
			`rb.yaml:6: spec.steps[0].with.command: ${{ 1 + }}: Syntax error`},
		{"unclosed template", "  steps:\n    - {name: a, action: exec, with: {command: 'echo ${{ x'}}\n",
			`spec.steps[0].with.command: "${{" has no closing "}}"`},
		{"bad duration", "  steps:\n    - {name: a, action: sleep, with: {duration: soon}}\n",
			`spec.steps[0].with.duration: "soon" is not a positive duration`},
		{"timeout unit", "  steps:\n    - {name: a, action: exec, timeout: 30}\n",
			`spec.steps[0].timeout: cannot unmarshal !!int ` + "`30`" + ` into time.Duration`},
		{"default type", "  parameters: [{name: n, type: int, default: many}]\n  steps:\n    - {name: a, action: exec}\n",
			`rb.yaml:5: spec.parameters[0].default: "many" is not an int`},
		{"default not allowed", "  parameters: [{name: n, type: string, default: c, allowed: [a, b]}]\n  steps:\n    - {name: a, action: exec}\n",
			`spec.parameters[0].default: "c" is not one of the allowed values ["a","b"]`},
		{"param type", "  parameters: [{name: n, type: float}]\n  steps:\n    - {name: a, action: exec}\n",
			`spec.parameters[0].type: "float" is not a parameter type`},
		{"limit", "  max_concurrency: ten\n  steps:\n    - {name: a, action: exec}\n",
			`spec.max_concurrency: "ten" is not a count (10) or a percentage (10%)`},
		{"control unknown field", "  steps:\n    - {name: a, action: assert, with: {that: 'true', mesage: x}}\n",
			`spec.steps[0].with.mesage: unknown field "mesage"`},
		{"approver", "  steps:\n    - {name: a, action: approve, with: {approvers: [boss]}}\n",
			`spec.steps[0].with.approvers[0]: "boss" is neither a role`},
		{"per-target control", "  steps:\n    - {name: a, action: sleep, per_target: true, with: {duration: 1s}}\n",
			`spec.steps[0].per_target: sleep steps run once`},
		{"opsitem status", "  steps:\n    - {name: a, action: opsitem, with: {status: done}}\n",
			`spec.steps[0].with.status: status "done" is not one of`},
		{"opsitem severity", "  steps:\n    - {name: a, action: opsitem, with: {severity: urgent}}\n",
			`spec.steps[0].with.severity: severity "urgent" is not one of`},
		{"no steps", "  version: 1\n", `spec.steps: a runbook needs at least one step`},
		{"reserved name", "  steps:\n    - {name: end, action: exec}\n", `"end" is reserved`},
		{"nested missing", "  steps:\n    - {name: a, action: runbook, with: {name: ghost}}\n",
			`steps[0] runs runbook "ghost", which does not exist`},
		{"test refs", "  steps:\n    - {name: a, action: exec}\n  tests:\n    - name: t\n      mocks: {b: {}}\n      expect: {steps_run: [a, c], status: done}\n",
			`spec.tests[0].mocks.b: there is no step "b"`},
		{"unknown field", "  steps:\n    - {name: a, action: exec, retry: {max: 1}}\n",
			`rb.yaml:6: field "retry" not found`},
		{"verify undeclared output", "  outputs: {ok: 'true'}\n  verify: {condition: outputs.fixed}\n  steps:\n    - {name: a, action: exec}\n",
			`spec.verify.condition: reads outputs.fixed, which the runbook does not declare`},
		{"verify not bool", "  verify: {condition: '1 + 2'}\n  steps:\n    - {name: a, action: exec}\n",
			`spec.verify.condition: must be a bool, not int`},
		{"verify empty", "  verify: {message: fixed}\n  steps:\n    - {name: a, action: exec}\n",
			`spec.verify.condition: is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, head+tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: t}
spec:
  parameters: [{name: n, type: int, default: 2}, {name: hosts, type: list, default: [a, b]}]
  steps:
    - name: one
      action: http
      with:
        whole: "${{ params.hosts }}"
        mixed: "n=${{ params.n }} hosts=${{ params.hosts }} ok=${{ params.n > 1 }}"
        literal: "cost $${{ not an expr }}"
        nested: {list: ["${{ params.n * 2 }}", 3], target: "${{ target.id }}"}
        prev: "${{ steps.one.outputs.x }}"
`)
	params, _ := rb.ResolveParams(nil)
	s := &runbook.Scope{Params: params, Target: runbook.TargetScope(action.Target{ID: "web-1"}),
		Steps: map[string]any{"one": map[string]any{"outputs": map[string]any{"x": "y"}}}}
	got, err := rb.Steps[0].Render(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"whole":   []any{"a", "b"},
		"mixed":   `n=2 hosts=["a","b"] ok=true`,
		"literal": "cost ${{ not an expr }}",
		"nested":  map[string]any{"list": []any{int64(4), int64(3)}, "target": "web-1"},
		"prev":    "y",
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		t.Errorf("rendered %s", gj)
	}
	// A dry run cannot know step outputs: that input is shown as written.
	dry := rb.DryRun(context.Background(), runbook.Scope{Params: params}, nil)
	if len(dry) != 1 || !strings.Contains(dry[0].Note, "not rendered") || dry[0].With["prev"] != "${{ steps.one.outputs.x }}" ||
		dry[0].With["mixed"] != want["mixed"] {
		t.Errorf("dry run = %+v", dry)
	}
}

func TestDryRunPerTarget(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, diskCleanup)
	params, _ := rb.ResolveParams(map[string]any{"mode": "aggressive"})
	targets := []action.Target{{ID: "web-1", Type: "host"}, {ID: "web-2", Type: "host"}}
	dry := rb.DryRun(context.Background(), runbook.Scope{Params: params}, targets)
	// measure, vacuum, measure_after per target (2 each) + 3 control steps.
	if len(dry) != 9 {
		t.Fatalf("dry run has %d entries: %+v", len(dry), dry)
	}
	v := dry[2]
	if v.Step != "vacuum" || v.Target != "web-1" || v.When == nil || !*v.When ||
		!reflect.DeepEqual(v.With["args"], []any{"web-1", int64(90)}) || v.With["command"] != "journalctl --vacuum-time=72h0m0s" {
		t.Errorf("vacuum = %+v", v)
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s       string
		targets int
		up      bool
		want    int
	}{{"10", 100, true, 10}, {"10%", 100, true, 10}, {"10%", 5, true, 1}, {"10%", 5, false, 0}, {"50%", 7, false, 3}, {"", 3, true, 10}} {
		l, err := runbook.ParseLimit(tc.s, runbook.DefaultMaxConcurrency, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Of(tc.targets, tc.up); got != tc.want {
			t.Errorf("%q of %d = %d, want %d", tc.s, tc.targets, got, tc.want)
		}
	}
	for _, bad := range []string{"-1", "101%", "x", "1.5"} {
		if _, err := runbook.ParseLimit(bad, runbook.Limit{}, true); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
}

func TestLibraryScoping(t *testing.T) {
	t.Parallel()
	set, err := load(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: shared}
spec: {steps: [{name: a, action: exec}]}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: own, tenant: acme}
spec: {steps: [{name: a, action: exec}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, ioActions)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Get("globex", "own"); ok {
		t.Error("globex sees acme's runbook")
	}
	if _, ok := lib.Get("acme", "own"); !ok {
		t.Error("acme does not see its runbook")
	}
	if got := len(lib.List("globex")); got != 1 {
		t.Errorf("globex lists %d runbooks", got)
	}
}

// Runbook names are one per tenant: two tenants' runbooks of one name (a
// pack installed for each) and a shared one of that name are three
// runbooks; each tenant gets its own, others the shared one.
func TestLibrarySameNamePerTenant(t *testing.T) {
	t.Parallel()
	set, err := load(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: report, description: shared}
spec: {steps: [{name: a, action: exec}]}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: report, tenant: acme, description: acme's}
spec: {steps: [{name: a, action: exec}]}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: report, tenant: globex, description: globex's}
spec: {steps: [{name: a, action: exec}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, ioActions)
	if err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]string{"acme": "acme's", "globex": "globex's", "initech": "shared", "": "shared"} {
		rb, ok := lib.Get(tenant, "report")
		if !ok || rb.Description != want {
			t.Errorf("Get(%q) = %v, %v; want %q", tenant, rb, ok, want)
		}
		if l := lib.List(tenant); len(l) != 1 || l[0].Description != want {
			t.Errorf("List(%q) = %d runbooks, want only %q", tenant, len(l), want)
		}
	}
}

func TestRunTest(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: restart}
spec:
  parameters: [{name: service, required: true}]
  targets: {resources: [web-1, web-2]}
  max_errors: "0"
  outputs: {healthy: steps.check.outputs.status == 200, hosts: steps.restart.outputs.succeeded}
  steps:
    - {name: restart, action: exec, with: {command: [systemctl, restart, "${{ params.service }}"]}, on_failure: goto:page}
    - {name: check, action: http, with: {url: "http://${{ params.service }}/health"}}
    - {name: done, action: branch, with: {cases: [{when: "steps.check.outputs.status == 200", goto: end}]}}
    - {name: page, action: notify, with: {text: "restart of ${{ params.service }} failed"}}
    - {name: fail, action: assert, with: {that: "false", message: "paged"}}
  tests:
    - name: healthy
      parameters: {service: nginx}
      mocks: {check: {outputs: {status: 200}}}
      expect: {steps_run: [restart, check, done], outputs: {healthy: true, hosts: 2}}
    - name: restart fails
      parameters: {service: nginx}
      mocks: {restart: {fail: "exit code 1"}}
      expect: {status: failed, steps_run: [restart, page, fail]}
    - name: wrong expectations
      parameters: {service: nginx}
      mocks: {check: {outputs: {status: 503}}}
      expect: {steps_run: [restart, check, done], outputs: {healthy: true}}
`)
	res := rb.RunTests(context.Background())
	if !res[0].Passed() || !res[1].Passed() {
		t.Errorf("passing tests failed:\n%s", runbook.TestSummary(rb.Name, res))
	}
	got := strings.Join(res[2].Problems, "\n")
	for _, want := range []string{"status failed, want succeeded", "steps run [restart check done page fail], want [restart check done]"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if s := runbook.TestSummary(rb.Name, res); !strings.Contains(s, "ok   Runbook restart: healthy") || !strings.Contains(s, "FAIL Runbook restart: wrong expectations") {
		t.Errorf("summary:\n%s", s)
	}
}

// TestVerify: a run whose verify condition is false ends ineffective
// with the verification's message; one whose condition holds succeeds.
func TestVerify(t *testing.T) {
	t.Parallel()
	rb := mustRunbook(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: clean}
spec:
  parameters: [{name: target, type: int, default: 80}]
  outputs: {used: steps.measure.outputs.used}
  verify: {condition: outputs.used < params.target, message: the volume is still above its target}
  steps:
    - {name: measure, action: http, with: {url: "http://disk/used"}}
  tests:
    - name: below
      mocks: {measure: {outputs: {used: 71}}}
      expect: {outputs: {used: 71}}
    - name: still full
      mocks: {measure: {outputs: {used: 93}}}
      expect: {status: ineffective}
    - name: wrongly expected to succeed
      mocks: {measure: {outputs: {used: 93}}}
`)
	if rb.Verify == nil {
		t.Fatal("verify not compiled")
	}
	res := rb.RunTests(context.Background())
	if !res[0].Passed() || !res[1].Passed() {
		t.Errorf("passing tests failed:\n%s", runbook.TestSummary(rb.Name, res))
	}
	got := strings.Join(res[2].Problems, "\n")
	for _, want := range []string{"not verified: the volume is still above its target", "status ineffective, want succeeded"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	ok, why := rb.Verified(context.Background(), &runbook.Scope{Params: map[string]any{"target": int64(80)}, Outputs: map[string]any{"used": int64(93)}})
	if ok || why != "not verified: the volume is still above its target" {
		t.Errorf("Verified = %v, %q", ok, why)
	}
	if ok, _ := rb.Verified(context.Background(), &runbook.Scope{Params: map[string]any{"target": int64(80)}, Outputs: map[string]any{"used": int64(50)}}); !ok {
		t.Error("50 < 80 not verified")
	}
}
