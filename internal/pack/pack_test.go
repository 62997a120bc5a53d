package pack

import (
	"strings"
	"testing"
)

const manifest = `apiVersion: flywheel/v1
kind: Pack
metadata: {name: demo}
spec:
  version: 1.0.0
  service: Demo
  scenarios:
    - name: down
      summary: Demo is down
      alerts: [DemoDown]
      diagnostics: [demo-report]
      remediation: [demo-fix]
`

const report = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: demo-report}
spec:
  steps:
    - {name: look, action: exec, with: {command: ["true"]}}
`

const rules = `groups:
  - name: demo
    rules:
      - alert: DemoDown
        expr: up{job="demo"} == 0
`

func files(m, r, p string) []File {
	return []File{{Path: ManifestFile, Data: []byte(m)}, {Path: "runbooks/demo-report.yaml", Data: []byte(r)}, {Path: "prometheus/demo.yaml", Data: []byte(p)}}
}

// TestFromFilesChecks: every problem of a pack is reported at once, with
// its file: the manifest's fields, a runbook or alert a scenario names that
// the pack lacks, a document replacing a library item or naming a tenant,
// a rule file that is not one.
func TestFromFilesChecks(t *testing.T) {
	fix := strings.Replace(report, "demo-report", "demo-fix", 1)
	good := append(files(manifest, report, rules), File{Path: "runbooks/demo-fix.yaml", Data: []byte(fix)})
	p, err := FromFiles(good, "<pack demo>")
	if err != nil {
		t.Fatalf("good pack: %v", err)
	}
	if p.Name != "demo" || p.Spec.Version != "1.0.0" || strings.Join(p.Alerts, ",") != "DemoDown" || len(p.Documents) != 2 || len(p.Digest) != 64 {
		t.Errorf("pack: %+v", p)
	}

	bad := strings.NewReplacer("version: 1.0.0", "version: v1", "[demo-fix]", "[demo-gone]", "[DemoDown]", "[DemoUp]").Replace(manifest)
	override := "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: restart-service}\nspec:\n  steps:\n    - {name: x, action: exec, with: {command: [\"true\"]}}\n"
	scoped := strings.Replace(fix, "metadata: {name: demo-fix}", "metadata: {name: demo-fix, tenant: acme}", 1)
	fs := append(files(bad, report, "groups: [{name: g, rules: [{alert: DemoDown}]}]\n"),
		File{Path: "runbooks/restart-service.yaml", Data: []byte(override)}, File{Path: "runbooks/demo-fix.yaml", Data: []byte(scoped)},
		File{Path: "groups/web.yaml", Data: []byte("apiVersion: flywheel/v1\nkind: ResourceGroup\nmetadata: {name: demo-web}\nspec: {tags: {role: web}}\n")})
	_, err = FromFiles(fs, "<pack demo>")
	if err == nil {
		t.Fatal("a broken pack reads")
	}
	for _, want := range []string{
		`<pack demo>/pack.yaml:5: spec.version: "v1" is not a semantic version`,
		`<pack demo>/prometheus/demo.yaml: group "g", rule 1: no expr`,
		`replaces the built-in one at <builtin>/runbooks/restart-service.yaml`,
		`Runbook "demo-fix": a pack's documents leave metadata.tenant empty`,
		// A pack is installed for any number of tenants: only kinds each
		// tenant has its own copy of.
		`<pack demo>/groups/web.yaml:1: ResourceGroup "demo-web": a pack holds only kinds that each tenant has its own copy of (ConfigRule, CorrelationRule, DedupRule, InhibitRule, Rule, Runbook); a ResourceGroup is one per server`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	// References are checked once the manifest reads.
	refs := strings.NewReplacer("[demo-fix]", "[demo-gone]", "[DemoDown]", "[DemoUp]").Replace(manifest)
	_, err = FromFiles(files(refs, report, rules), "<pack demo>")
	for _, want := range []string{`scenario "down": runbook "demo-gone" is not a Runbook of the pack`, `scenario "down": alert "DemoUp" is not an alert of prometheus/*.yaml`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	if _, err := FromFiles(files(manifest, report, rules)[1:], "<pack demo>"); err == nil || !strings.Contains(err.Error(), "no pack.yaml") {
		t.Errorf("no manifest: %v", err)
	}
}

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.0.0", "1.0.0", 0}, {"1.0.10", "1.0.9", 1}, {"0.9.0", "1.0.0", -1}, {"2.0.0", "1.99.99", 1}} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestDiff: a changed document lists its changed lines; added and removed
// documents and rule files are named.
func TestDiff(t *testing.T) {
	fix := strings.Replace(report, "demo-report", "demo-fix", 1)
	a, err := FromFiles(append(files(manifest, report, rules), File{Path: "runbooks/demo-fix.yaml", Data: []byte(fix)}), "<pack demo>")
	if err != nil {
		t.Fatal(err)
	}
	m2 := strings.NewReplacer("1.0.0", "1.1.0", "      remediation: [demo-fix]\n", "").Replace(manifest)
	r2 := strings.Replace(report, `command: ["true"]`, `command: ["false"]`, 1)
	b, err := FromFiles(append(files(m2, r2, rules), File{Path: "prometheus/more.yaml", Data: []byte("groups: [{name: more, rules: [{record: x, expr: up}]}]\n")}), "<pack demo>")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Diff(a, b) {
		got = append(got, c.Change+" "+c.Kind+"/"+c.Name+" "+strings.Join(c.Lines, " | "))
	}
	want := []string{
		"changed Pack/demo -   version: 1.0.0 | +   version: 1.1.0 | -       remediation: [demo-fix]",
		"added PrometheusRules/prometheus/more.yaml ",
		"removed Runbook/demo-fix ",
		`changed Runbook/demo-report -         - {name: look, action: exec, with: {command: ["true"]}} | +         - {name: look, action: exec, with: {command: ["false"]}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(Diff(a, a)) != 0 {
		t.Error("a pack differs from itself")
	}
}

// FuzzFromFiles: any manifest, document and rule file either read as a
// pack or are refused with an error; never a panic.
func FuzzFromFiles(f *testing.F) {
	f.Add(manifest, report, rules)
	f.Add("kind: Pack\n", "---\n", "groups:\n")
	f.Add("apiVersion: flywheel/v1\nkind: Pack\nmetadata: {name: x}\nspec: {version: 1.0.0, service: S, scenarios: [{name: a, summary: b, rules: [r], diagnostics: [d]}]}\n", "kind: [", "groups: [{rules: [{alert: a, record: b}]}]")
	f.Fuzz(func(t *testing.T, m, r, p string) {
		pk, err := FromFiles(files(m, r, p), "<pack fuzz>")
		if err == nil && (pk.Name == "" || pk.Spec == nil || len(pk.Digest) != 64) {
			t.Fatalf("read without an error but incomplete: %+v", pk)
		}
	})
}
