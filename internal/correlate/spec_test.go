package correlate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

const head = "apiVersion: flywheel/v1\nkind: CorrelationRule\nmetadata:\n  name: r\nspec:\n"

// TestSpecErrors loads broken rules through the content loader: every
// error names the file, the line of the field and the field.
func TestSpecErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec string // after "spec:\n" on line 5
		want []string
	}{
		{
			name: "undeclared variable in group_by",
			spec: "  group_by:\n    - event.labels.alertname\n    - evnt.labels.cluster\n",
			want: []string{"ops/r.yaml:8: spec.group_by[1]: undeclared reference to 'evnt'"},
		},
		{
			name: "misspelt event field",
			spec: "  filter: event.lables.team == \"db\"\n",
			want: []string{`ops/r.yaml:6: spec.filter: event has no field "lables"; did you mean "labels"? (fields: source, kind, severity, status, title, description, labels, annotations, resources, fingerprint, application)`},
		},
		{
			name: "misspelt field in optional select",
			spec: "  title: event.?titel.orValue(\"x\")\n",
			want: []string{`ops/r.yaml:6: spec.title: event has no field "titel"; did you mean "title"? (fields: source, kind, severity, status, title, description, labels, annotations, resources, fingerprint, application)`},
		},
		{
			name: "filter not a bool",
			spec: "  filter: event.source\n",
		},
		{
			name: "filter of the wrong type",
			spec: "  filter: '\"alertmanager\"'\n",
			want: []string{"ops/r.yaml:6: spec.filter: must be of type bool, not string"},
		},
		{
			name: "group_by of a list",
			spec: "  group_by: ['[event.source]']\n",
			want: []string{"ops/r.yaml:6: spec.group_by[0]: must be of type string or int or uint or double or bool or optional_type(dyn), not list(dyn)"},
		},
		{
			name: "syntax error in a long multi-line title",
			spec: "  title: >-\n    event.labels[?\"alertname\"].orValue(event.title)\n\n    + + \" in \" + event.labels.cluster\n",
			want: []string{"ops/r.yaml:6: spec.title: Syntax error: extraneous input '+' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER} (line 2, column 3)"},
		},
		{
			name: "empty group_by entry",
			spec: "  group_by: ['']\n",
			want: []string{"ops/r.yaml:6: spec.group_by[0]: is empty"},
		},
		{
			name: "unknown field",
			spec: "  windw: 5m\n",
			want: []string{`ops/r.yaml:6: field "windw" not found in CorrelationRule spec; did you mean "window"?`},
		},
		{
			name: "unknown flapping field",
			spec: "  flapping: {changes: 4, windows: 15m}\n",
			want: []string{`ops/r.yaml:6: field "windows" not found in CorrelationRule spec.flapping; did you mean "window"?`},
		},
		{
			name: "duration without a unit", // YAML would read 300 as 300ns
			spec: "  window: 300\n",
			want: []string{"ops/r.yaml:6: spec.window: cannot unmarshal !!int `300` into time.Duration"},
		},
		{
			name: "not a duration",
			spec: "  window: soon\n",
			want: []string{"ops/r.yaml:6: spec.window: cannot unmarshal !!str `soon` into time.Duration"},
		},
		{
			name: "timing out of order",
			spec: "  window: 1h\n  max_span: 30m\n  hold: 2h\n",
			want: []string{"ops/r.yaml:7: spec.max_span: 30m0s is shorter than window (1h0m0s)", "ops/r.yaml:8: spec.hold: 2h0m0s is longer than max_span (30m0s)"},
		},
		{
			name: "bad enums",
			spec: "  category: alerts\n  resolve: some\n  hold: 1m\n  hold_severities: [medium, warning, medium]\n",
			want: []string{
				"ops/r.yaml:6: spec.category: category \"alerts\" is not one of security, guardrails, monitoring, deployment, patching, backup, service, operations, finance",
				"ops/r.yaml:7: spec.resolve: \"some\" is not one of all, any, manual",
				"ops/r.yaml:9: spec.hold_severities[1]: \"warning\" is not one of critical, high, medium, low, info",
				"ops/r.yaml:9: spec.hold_severities[2]: \"medium\" is listed twice",
			},
		},
		{
			name: "hold_severities without hold",
			spec: "  hold_severities: [low]\n",
			want: []string{"ops/r.yaml:6: spec.hold_severities: is set but hold is 0"},
		},
		{
			name: "flapping half set",
			spec: "  flapping:\n    window: 15m\n",
			want: []string{"ops/r.yaml:7: spec.flapping.window: is set but flapping.changes is 0"},
		},
		{
			name: "flapping without a window",
			spec: "  flapping: {changes: 3}\n",
			want: []string{"ops/r.yaml:6: spec.flapping.window: 0s is too short; at least 1s"},
		},
		{
			name: "several problems at once",
			spec: "  filter: size(1) > 0\n  group_by: [nope]\n",
			want: []string{
				"ops/r.yaml:6: spec.filter: found no matching overload for 'size' applied to '(int)'",
				"ops/r.yaml:7: spec.group_by[0]: undeclared reference to 'nope'",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(map[string]string{"r.yaml": head + tt.spec})
			if got := errorLines(err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

// TestSpecDefaults: a rule with an empty spec is a valid catch-all.
func TestSpecDefaults(t *testing.T) {
	t.Parallel()
	set, err := loadYAML(map[string]string{"r.yaml": head})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		t.Fatal(err)
	}
	if l := rs.List(); len(l) != 1 {
		t.Fatalf("rules %d, want 1 (no fallback: r is a catch-all)", len(l))
	}
	r, _ := rs.Rule("r")
	if r.Window != correlate.DefaultWindow || r.MaxSpan != correlate.DefaultMaxSpan || r.Resolve != correlate.ResolveAll ||
		r.Hold != 0 || r.Flapping != (correlate.Flapping{}) || r.Priority != 0 {
		t.Errorf("defaults: %+v", r)
	}
	e := &event.Event{Kind: event.KindCompliance, Title: "t", Severity: event.SeverityLow}
	if r.Title(e) != "t" || r.Category(e) != "guardrails" || r.HoldFor(e) != 0 {
		t.Errorf("title %q category %q hold %s", r.Title(e), r.Category(e), r.HoldFor(e))
	}
}

// TestTitleFallsBack: a title that fails or is empty on an event gives the
// event's own title rather than no title.
func TestTitleFallsBack(t *testing.T) {
	t.Parallel()
	set, err := loadYAML(map[string]string{"r.yaml": head + "  title: event.labels.team + ' is down'\n---\n" +
		strings.Replace(head, "name: r", "name: s", 1) + "  title: event.labels[?'team'].orValue('')\n  category: backup\n  hold: 30s\n  hold_severities: [low]\n"})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rs.Rule("r")
	s, _ := rs.Rule("s")
	e := &event.Event{Title: "own", Kind: event.KindAlert, Severity: event.SeverityLow}
	if got := r.Title(e); got != "own" {
		t.Errorf("failing title: %q", got)
	}
	if got := s.Title(e); got != "own" {
		t.Errorf("empty title: %q", got)
	}
	e.Labels = map[string]string{"team": "db"}
	if got := r.Title(e); got != "db is down" {
		t.Errorf("title: %q", got)
	}
	if s.Category(e) != "backup" || s.HoldFor(e) != 30*time.Second {
		t.Errorf("category %s hold %s", s.Category(e), s.HoldFor(e))
	}
	e.Severity = event.SeverityCritical
	if s.HoldFor(e) != 0 {
		t.Errorf("critical held %s", s.HoldFor(e))
	}
}

// TestCompileRejects covers what only Compile sees: items of another kind.
func TestCompileRejects(t *testing.T) {
	t.Parallel()
	set, err := loadYAML(map[string]string{"r.yaml": head})
	if err != nil {
		t.Fatal(err)
	}
	items := set.Items(correlate.KindName)
	items[0].Kind = "Tenant"
	if _, err := correlate.Compile(items); err == nil || !strings.Contains(err.Error(), `Tenant "r" is not a CorrelationRule`) {
		t.Errorf("Compile = %v", err)
	}
}
