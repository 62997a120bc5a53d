package correlate

import (
	"slices"
	"strings"
	"testing"

	"cel.dev/cel-go/cel"

	"github.com/flywheel-ops/flywheel/internal/celexpr"
	"github.com/flywheel-ops/flywheel/internal/event"
)

func TestFilterSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter string
		want   []string // nil: unknown
	}{
		{`event.source == "alertmanager"`, []string{"alertmanager"}},
		{`"guardduty" == event.source`, []string{"guardduty"}},
		{`event.source in ["config", "health"]`, []string{"config", "health"}},
		{`event.source == "a" && event.labels.team == "db"`, []string{"a"}},
		{`event.labels.team == "db" && event.source == "a"`, []string{"a"}},
		{`event.source in ["a", "b"] && event.source == "b"`, []string{"b"}},
		{`event.source == "a" && event.source == "b"`, []string{}},
		{`event.source == "a" || event.source in ["b"]`, []string{"a", "b"}},
		{`event.source == "a" || event.title == "b"`, nil},
		{`event.source != "a"`, nil},
		{`event.source.startsWith("generic:")`, nil},
		{`!(event.source == "a")`, nil},
		{`event.source in ["a", event.title]`, nil},
		{`event.labels.source == "a"`, nil},
		{`event.kind == "alert"`, nil},
	}
	for _, tt := range tests {
		p, err := compile(tt.filter, cel.BoolType)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := p.sources; !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s: sources %q, want %q", tt.filter, got, tt.want)
		}
	}
}

// TestSourceSkipIsExact: for each filter and event, skipping by source
// gives what evaluating would — false, with no error.
func TestSourceSkipIsExact(t *testing.T) {
	t.Parallel()
	filters := []string{
		`event.source == "a"`,
		`event.source == "a" && event.labels.missing == "x"`,
		`event.labels.missing == "x" && event.source in ["a", "b"]`,
		`event.source == "a" || event.source == "b"`,
	}
	for _, f := range filters {
		p, err := compile(f, cel.BoolType)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range []string{"a", "b", "c", ""} {
			if p.sources == nil || slices.Contains(p.sources, src) {
				continue
			}
			ok, err := p.evalBool(newActivation(&event.Event{Source: src}))
			if ok || err != nil {
				t.Errorf("%s on source %q: skipped, but evaluates to %v, %v", f, src, ok, err)
			}
		}
	}
}

func TestMetered(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		`event.source == "a" && event.labels[?"x"].orValue("") != ""`:     false,
		`event.title.lowerAscii().startsWith("disk") ? "a" : event.title`: false,
		`event.labels.exists(k, k == "team")`:                             true,
		`event.title.replace("", event.title)`:                            true,
		`"%s".format([event.title])`:                                      true,
		`event.labels[?"cluster"].optMap(c, c + "!").orValue("")`:         true, // optMap binds: a comprehension
	}
	for src, want := range tests {
		e, err := env()
		if err != nil {
			t.Fatal(err)
		}
		a, iss := e.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", src, iss.Err())
		}
		if got := celexpr.Metered(a.NativeRep()); got != want {
			t.Errorf("metered(%s) = %v, want %v", src, got, want)
		}
	}
}

// TestCostLimit: a metered expression that would do too much work fails on
// the event instead of running on.
func TestCostLimit(t *testing.T) {
	t.Parallel()
	p, err := compile(`event.title.replace("", event.title).replace("", event.title).size() > 0`, cel.BoolType)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.evalBool(newActivation(&event.Event{Title: strings.Repeat("x", 1000)}))
	if err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Errorf("err = %v, want the cost limit", err)
	}
}
