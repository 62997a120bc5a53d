package correlate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata from the current output")

// TestBuiltinGolden pins the compiled built-in rule list — order, timing,
// expressions — in testdata/builtin-rules.json, so a change to the library
// shows up as a reviewed diff.
func TestBuiltinGolden(t *testing.T) {
	t.Parallel()
	type flapping struct {
		Changes int    `json:"changes"`
		Window  string `json:"window"`
	}
	type rule struct {
		Name           string    `json:"name"`
		Origin         string    `json:"origin"`
		Priority       int       `json:"priority"`
		Filter         string    `json:"filter,omitempty"`
		GroupBy        []string  `json:"group_by,omitempty"`
		Title          string    `json:"title,omitempty"`
		Category       string    `json:"category,omitempty"`
		Window         string    `json:"window"`
		MaxSpan        string    `json:"max_span"`
		Hold           string    `json:"hold"`
		HoldSeverities []string  `json:"hold_severities,omitempty"`
		Resolve        string    `json:"resolve"`
		Flapping       *flapping `json:"flapping,omitempty"`
	}
	var got []rule
	for _, r := range builtinRules(t).List() {
		g := rule{Name: r.Name, Origin: r.Origin.String(), Priority: r.Priority, Filter: r.Filter, GroupBy: r.GroupBy,
			Title: r.TitleExpr, Category: r.FixedCategory,
			Window: r.Window.String(), MaxSpan: r.MaxSpan.String(), Hold: r.Hold.String(), Resolve: string(r.Resolve)}
		for _, s := range r.HoldSeverities {
			g.HoldSeverities = append(g.HoldSeverities, string(s))
		}
		if r.Flapping.Changes > 0 {
			g.Flapping = &flapping{r.Flapping.Changes, r.Flapping.Window.String()}
		}
		got = append(got, g)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	path := filepath.Join("testdata", "builtin-rules.json")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("compiled built-in rules differ from %s (go test -update rewrites it; review the diff):\n%s", path, out)
	}
}
