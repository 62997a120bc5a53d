package rule_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestGuardOf(t *testing.T) {
	for _, tc := range []struct {
		when string
		want []string
	}{
		{`event.source == "guardduty" && event.labels[?"resource_type"].orValue("") == "Instance"`, []string{"source=guardduty", "labels.resource_type()=Instance"}},
		{`event.labels[?"alertname"].orValue("x") in ["A", "B"]`, []string{"labels.alertname(x)=A|B"}},
		// A label read that may err, or a default that is not a literal,
		// is no guard.
		{`event.labels.alertname == "A" && event.labels[?"b"].orValue(event.title) == "B"`, []string{}},
		{`event.labels[?"a"].orValue("").startsWith("x")`, []string{}},
		{`{"a": opsitem.title}[?"a"].orValue("") == "x"`, []string{}},
		{`"alert" == event.kind`, []string{"kind=alert"}},
		{`event.kind in ["alert", "health"] && (event.source == "x" && opsitem.occurrences > 2)`, []string{"kind=alert|health", "source=x"}},
		// Only what every match must hold: no guard from a disjunction,
		// a negation, another variable's field or a non-literal.
		{`event.source == "a" || event.kind == "alert"`, []string{}},
		{`!(event.source == "a")`, []string{}},
		{`event.source != "a"`, []string{}},
		{`event.labels.source == "a"`, []string{}},
		{`opsitem.source == "a"`, []string{}},
		{`event.source == opsitem.source`, []string{}},
		{`event.kind in ["alert", event.source]`, []string{}},
		{`true`, []string{}},
		{`[1, 2].exists(event, event == 1) && event.kind == "finding"`, []string{"kind=finding"}},
	} {
		got, err := rule.GuardOf(tc.when)
		if err != nil {
			t.Errorf("%s: %v", tc.when, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("GuardOf(%s) = %q, want %q", tc.when, got, tc.want)
		}
	}
}

// TestGuardsAreExact: with guards, the library's rules (and rules written
// to trip a guard) match exactly what they match running every condition,
// over every fixture event and events of each source and kind.
func TestGuardsAreExact(t *testing.T) {
	rs := builtinRules(t)
	mine := compileYAML(t, map[string]string{
		"a.yaml": doc("either", "when: event.source == \"guardduty\" || event.kind == \"alert\"\nthen: {set: {severity: low}}"),
		"b.yaml": doc("failing", "when: event.kind == \"alert\" && event.labels.missing == \"x\"\nthen: {set: {severity: low}}"),
		"c.yaml": doc("in", "when: event.kind in [\"health\", \"change\"] && event.source.startsWith(\"aws\")\nthen: {set: {severity: low}}"),
		"d.yaml": doc("label-default", "when: event.labels[?\"mountpoint\"].orValue(\"/\") == \"/\"\nthen: {set: {severity: low}}"),
	})
	var evs []event.Event
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "eventbridge", "*.json"))
	if len(files) == 0 {
		t.Fatal("no EventBridge fixtures")
	}
	for _, f := range files {
		evs = append(evs, fixtureEvents(t, filepath.Base(f))...)
	}
	types, err := os.ReadFile(typesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range strings.Fields(string(types))[:40] {
		evs = append(evs, guardDutyEvent(t, typ, "", false))
	}
	for _, src := range []string{"alertmanager", "guardduty", "securityhub", "inspector2", "macie", "aws.health", "generic:x", ""} {
		for _, kind := range []event.Kind{event.KindAlert, event.KindFinding, event.KindHealth, event.KindChange, ""} {
			for _, labels := range []map[string]string{
				{"alertname": "NodeFilesystemAlmostFull", "mountpoint": "/"},
				{"alertname": "NodeFilesystemSpaceFillingUp", "mountpoint": "/data"},
				{"alertname": "HighCPU"}, nil,
			} {
				evs = append(evs, event.Event{Source: src, Kind: kind, Status: event.StatusFiring, Title: "t", Labels: labels})
			}
		}
	}
	names := func(ms []rule.Match) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.Rule.Name)
		}
		return out
	}
	checked := 0
	for _, set := range []*rule.Rules{rs, mine} {
		for i := range append(evs, event.Event{}) {
			var ev *event.Event
			if i < len(evs) {
				ev = &evs[i]
			}
			o := &store.OpsItem{Title: "t", Severity: "high", Status: "open"}
			got, gotErrs := set.Evaluate(ev, o)
			want, wantErrs := set.EvaluateUnguarded(ev, o)
			// A false conjunct makes a CEL conjunction false even when
			// another conjunct errs: the errors are the same too.
			if !slices.Equal(names(got), names(want)) || len(gotErrs) != len(wantErrs) {
				t.Errorf("event %+v: guarded %v (%v), unguarded %v (%v)", ev, names(got), gotErrs, names(want), wantErrs)
			}
			// Admits never turns away an event some rule matches.
			if len(want) > 0 && !set.Admits(ev) {
				t.Errorf("event %+v: Admits false, yet %v match", ev, names(want))
			}
			checked++
		}
	}
	// The library's rules are about findings and filesystem alerts: an
	// alert about CPU is none of theirs.
	cpu := &event.Event{Source: "alertmanager", Kind: event.KindAlert, Labels: map[string]string{"alertname": "HighCPU"}}
	disk := &event.Event{Source: "alertmanager", Kind: event.KindAlert, Labels: map[string]string{"alertname": "NodeFilesystemAlmostFull"}}
	finding := guardDutyEvent(t, "Recon:EC2/PortProbeUnprotectedPort", "", false)
	if rs.Admits(cpu) || !rs.Admits(disk) || !rs.Admits(&finding) {
		t.Errorf("Admits: cpu alert %v, disk alert %v, finding %v", rs.Admits(cpu), rs.Admits(disk), rs.Admits(&finding))
	}
	t.Logf("%d evaluations compared", checked)
}
