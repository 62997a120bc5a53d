package inhibit_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/inhibit"
	"github.com/flywheel-ops/flywheel/internal/matcher"
)

// load loads YAML documents (path → text) on their own, with every kind
// registered.
func load(t *testing.T, files map[string]string) (*content.Set, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fsys})
}

func labels(t *testing.T, s string) map[string]string {
	t.Helper()
	ms, err := matcher.ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.Name] = m.Value
	}
	return out
}

func rulesFrom(t *testing.T, yaml string) *inhibit.Rules {
	t.Helper()
	set, err := load(t, map[string]string{"r.yaml": yaml})
	if err != nil {
		t.Fatal(err)
	}
	r, err := inhibit.Compile(set.Items(inhibit.KindName))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValidation(t *testing.T) {
	t.Parallel()
	head := "apiVersion: flywheel/v1\nkind: InhibitRule\nmetadata: {name: r}\nspec:\n"
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"  target_matchers: ['a=\"b\"']\n", []string{`ops/r.yaml:4: spec.source_matchers: at least one matcher is required`}},
		{"  source_matchers: ['a=\"b\"']\n  target_matchers: []\n", []string{`ops/r.yaml:6: spec.target_matchers: at least one matcher is required`}},
		{"  source_matchers: ['a=\"b\"', 'c=~\"(\"']\n  target_matchers: ['x=y']\n",
			[]string{"ops/r.yaml:5: spec.source_matchers[1]: bad matcher `c=~\"(\"` at column 4: invalid regular expression \"(\": missing closing ): `(`"}},
		{"  source_matchers: ['a!=\"b\"']\n  target_matchers: ['x=y']\n",
			[]string{`ops/r.yaml:5: spec.source_matchers: {a!="b"} would let every alert inhibit; add a matcher that requires a value, e.g. alertname="InstanceDown"`}},
		{"  source_matchers: ['a=b']\n  target_matchers: ['x=y']\n  equal: [instance, '', instance]\n",
			[]string{`ops/r.yaml:7: spec.equal[1]: label name is empty`, `ops/r.yaml:7: spec.equal[2]: label "instance" is listed twice`}},
		{"  source_matchers: ['a=b']\n  target_matchers: ['x=y']\n  equals: [instance]\n",
			[]string{`ops/r.yaml:7: field "equals" not found in InhibitRule spec; did you mean "equal"?`}},
	} {
		_, err := load(t, map[string]string{"r.yaml": head + tc.spec})
		var got []string
		for _, e := range content.Errors(err) {
			got = append(got, e.Error())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("spec:\n%s\n got: %q\nwant: %q", tc.spec, got, tc.want)
		}
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	set, err := load(t, map[string]string{
		"a.yaml": "apiVersion: flywheel/v1\nkind: InhibitRule\nmetadata: {name: global}\nspec: {source_matchers: ['a=b'], target_matchers: ['c=d']}\n",
		"b.yaml": "apiVersion: flywheel/v1\nkind: InhibitRule\nmetadata: {name: acme-only, tenant: acme}\nspec: {source_matchers: ['a=b'], target_matchers: ['c=d']}\n",
		// Names are one per tenant: globex's "global" takes the shared one's place for globex.
		"c.yaml": "apiVersion: flywheel/v1\nkind: InhibitRule\nmetadata: {name: global, tenant: globex}\nspec: {source_matchers: ['g=h'], target_matchers: ['c=d']}\n",
		"t.yaml": "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: acme}\nspec: {display_name: ACME}\n",
		"u.yaml": "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: globex}\nspec: {display_name: Globex}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := inhibit.Compile(set.Items(inhibit.KindName))
	if err != nil || rules.Len() != 3 {
		t.Fatalf("Compile = %v, %v", rules, err)
	}
	names := func(r *inhibit.Rules) (out []string) {
		for _, rule := range r.Rules() {
			out = append(out, rule.Name)
		}
		return out
	}
	if got := names(rules.ForTenant("acme")); !slices.Equal(got, []string{"acme-only", "global"}) {
		t.Errorf("ForTenant(acme) = %v", got)
	}
	if got := rules.ForTenant("globex").Rules(); len(got) != 1 || got[0].Name != "global" || got[0].Tenant != "globex" {
		t.Errorf("ForTenant(globex) = %+v, want only globex's own rule named global", got)
	}
	if got := rules.ForTenant("initech").Rules(); len(got) != 1 || got[0].Name != "global" || got[0].Tenant != "" {
		t.Errorf("ForTenant(initech) = %+v, want only the shared rule", got)
	}
	if _, err := inhibit.Compile(set.Items(kinds.TenantKind)); err == nil || !strings.Contains(err.Error(), `Tenant "acme" is not an InhibitRule`) {
		t.Errorf("Compile(tenants) = %v", err)
	}
}

// TestAlertmanagerSemantics follows Alertmanager's inhibitor: equal labels
// (missing ones agree), no self-inhibition, and an alert matching both
// sides is inhibited only by a source that does not match the target.
func TestAlertmanagerSemantics(t *testing.T) {
	t.Parallel()
	rules := rulesFrom(t, `apiVersion: flywheel/v1
kind: InhibitRule
metadata: {name: crit}
spec:
  source_matchers: ['severity="critical"']
  target_matchers: ['severity=~"warning|critical"', 'team="db"']
  equal: [alertname, cluster]
`)
	for _, tc := range []struct {
		name, source, target string
		want                 bool
	}{
		{"classic", `severity=critical, alertname=Disk, cluster=a`, `severity=warning, team=db, alertname=Disk, cluster=a`, true},
		{"equal label differs", `severity=critical, alertname=Disk, cluster=a`, `severity=warning, team=db, alertname=Disk, cluster=b`, false},
		{"equal label missing on both agrees", `severity=critical, alertname=Disk`, `severity=warning, team=db, alertname=Disk`, true},
		{"missing on one side only", `severity=critical, alertname=Disk, cluster=""`, `severity=warning, team=db, alertname=Disk, cluster=a`, false},
		{"target does not match", `severity=critical, alertname=Disk`, `severity=warning, team=web, alertname=Disk`, false},
		{"source does not match", `severity=warning, alertname=Disk`, `severity=warning, team=db, alertname=Disk`, false},
		// The source matches the target too (team=db): it inhibits a
		// one-sided target…
		{"two-sided source, one-sided target", `severity=critical, team=db, alertname=Disk`, `severity=warning, team=db, alertname=Disk`, true},
		// …but not a target that also matches both sides, nor itself.
		{"two-sided both", `severity=critical, team=db, alertname=Disk`, `severity=critical, team=db, alertname=Disk`, false},
		// A one-sided source inhibits a two-sided target.
		{"one-sided source, two-sided target", `severity=critical, team=web, alertname=Disk`, `severity=critical, team=db, alertname=Disk`, true},
	} {
		_, got := rules.Inhibits(labels(t, tc.source), labels(t, tc.target))
		if got != tc.want {
			t.Errorf("%s: Inhibits(%s → %s) = %v, want %v", tc.name, tc.source, tc.target, got, tc.want)
		}
	}
	// Keys: one per matching rule; their text is stable.
	src := rules.SourceKeys(labels(t, `severity=critical, alertname=Disk, cluster=a`))
	if len(src) != 1 || src[0].Rule != "crit" || src[0].AlsoTarget || len(src[0].Equal) != 16 {
		t.Fatalf("SourceKeys = %+v", src)
	}
	if s := src[0].String(); s != "crit:"+src[0].Equal {
		t.Errorf("Key.String = %s", s)
	}
	two := rules.SourceKeys(labels(t, `severity=critical, team=db, alertname=Disk, cluster=a`))
	if len(two) != 1 || !two[0].AlsoTarget || two[0].String() != "crit:"+src[0].Equal+":also-target" || two[0].Equal != src[0].Equal {
		t.Errorf("two-sided SourceKeys = %+v", two)
	}
	if k := rules.TargetKeys(labels(t, `severity=warning, team=db, alertname=Disk, cluster=a`)); len(k) != 2 {
		t.Errorf("TargetKeys of a one-sided target = %+v, want the key and its also-target form", k)
	}
	if k := rules.TargetKeys(labels(t, `severity=critical, team=db, alertname=Disk, cluster=a`)); len(k) != 1 || k[0].AlsoTarget {
		t.Errorf("TargetKeys of a two-sided target = %+v, want only the one-sided key", k)
	}
	if k := rules.SourceKeys(labels(t, `severity=info`)); k != nil {
		t.Errorf("SourceKeys of a non-source = %+v", k)
	}
}

// TestBuiltinRules exercises the library's rules on events as the pipeline
// sees them.
func TestBuiltinRules(t *testing.T) {
	t.Parallel()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rules, err := inhibit.Compile(set.Items(inhibit.KindName))
	if err != nil {
		t.Fatal(err)
	}
	if rules.Len() < 2 {
		t.Fatalf("built-in library has %d inhibit rules", rules.Len())
	}
	for _, tc := range []struct {
		name, source, target string
		want                 string // rule name, "" for none
	}{
		{"critical mutes a Prometheus warning",
			`alertname=DiskFull, instance="db-1:9100", severity=critical, flywheel_severity=critical`,
			`alertname=DiskFull, instance="db-1:9100", severity=warning, flywheel_severity=medium`, "critical-inhibits-lower"},
		{"critical mutes low",
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=critical`,
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=low`, "critical-inhibits-lower"},
		{"critical leaves high alone",
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=critical`,
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=high`, ""},
		{"other instance",
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=critical`,
			`alertname=DiskFull, instance="db-2:9100", flywheel_severity=medium`, ""},
		{"other alert",
			`alertname=DiskFull, instance="db-1:9100", flywheel_severity=critical`,
			`alertname=CPUHigh, instance="db-1:9100", flywheel_severity=medium`, ""},
		{"no instance label: rule does not apply",
			`alertname=QueueDepth, source=cloudwatch, flywheel_severity=critical`,
			`alertname=QueueDepth, source=cloudwatch, flywheel_severity=medium`, ""},
		{"instance down mutes the instance's alerts",
			`alertname=InstanceDown, instance="web-3:9100", flywheel_severity=critical`,
			`alertname=HighLatency, instance="web-3:9100", flywheel_severity=high`, "instance-down-inhibits-instance-alerts"},
		{"instance down: another exporter on the host is another target",
			`alertname=InstanceDown, instance="web-3:9100"`,
			`alertname=PostgresDown, instance="web-3:9187"`, ""},
		{"instance down does not mute itself or its peers",
			`alertname=InstanceDown, instance="web-3:9100"`,
			`alertname=InstanceDown, instance="web-3:9100"`, ""},
	} {
		k, ok := rules.Inhibits(labels(t, tc.source), labels(t, tc.target))
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: inhibited by %s, want not inhibited", tc.name, k)
		case tc.want != "" && (!ok || k.Rule != tc.want):
			t.Errorf("%s: Inhibits = %v %v, want rule %s", tc.name, k, ok, tc.want)
		}
	}
}

func BenchmarkTargetKeys(b *testing.B) {
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	rules, _ := inhibit.Compile(set.Items(inhibit.KindName))
	l := map[string]string{"alertname": "DiskFull", "instance": "db-1:9100", "flywheel_severity": "medium", "severity": "warning"}
	b.ReportAllocs()
	for b.Loop() {
		rules.TargetKeys(l)
	}
}
