package inhibit_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/inhibit"
)

const docPage = "../../docs/deflection.md"

// docBlocks returns the page's fenced blocks of one language, and the
// lines outside any block.
func docBlocks(t *testing.T, lang string) (blocks [][]string, prose []string) {
	t.Helper()
	f, err := os.Open(docPage)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur []string
	in, want := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case !in && strings.HasPrefix(l, "```"):
			in, want, cur = true, strings.TrimPrefix(l, "```") == lang, nil
		case in && strings.TrimSpace(l) == "```":
			if want {
				blocks = append(blocks, cur)
			}
			in = false
		case in:
			cur = append(cur, l)
		default:
			prose = append(prose, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks, prose
}

// TestDocExamples loads every YAML example of docs/deflection.md as the
// file its first-line comment names, over the built-in library, and checks
// the InhibitRule does what the page says.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	blocks, _ := docBlocks(t, "yaml")
	fsys := fstest.MapFS{}
	for _, b := range blocks {
		if len(b) == 0 || !strings.HasPrefix(b[0], "# ops/") {
			t.Fatalf("%s: a yaml example must start with a comment naming its file, e.g. # ops/inhibit/x.yaml", docPage)
		}
		fsys[strings.TrimPrefix(b[0], "# ops/")] = &fstest.MapFile{Data: []byte(strings.Join(b, "\n") + "\n")}
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if err != nil {
		t.Fatalf("the page's examples do not load:\n%v", err)
	}
	it, ok := set.Get(inhibit.KindName, "database-down-inhibits-app-errors")
	if !ok {
		t.Fatal("the page's InhibitRule example did not load")
	}
	rules, err := inhibit.Compile([]content.Item{it})
	if err != nil {
		t.Fatal(err)
	}
	down := labels(t, `alertname=PostgresDown, cluster=eu-1, flywheel_severity=critical`)
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{`alertname=HighErrorRate, service=orders, cluster=eu-1, flywheel_severity=high`, true},
		{`alertname=HighErrorRate, service=orders, cluster=us-1, flywheel_severity=high`, false},
		{`alertname=HighErrorRate, service=orders, cluster=eu-1, flywheel_severity=critical`, false},
		{`alertname=HighErrorRate, service=billing, cluster=eu-1, flywheel_severity=high`, false},
	} {
		if _, got := rules.Inhibits(down, labels(t, tc.target)); got != tc.want {
			t.Errorf("PostgresDown in eu-1 inhibits {%s}: %v, want %v", tc.target, got, tc.want)
		}
	}
}

// TestDocBuiltinTable holds the page's table of built-in rules to the
// library: the same rules, matchers and equal labels.
func TestDocBuiltinTable(t *testing.T) {
	t.Parallel()
	_, prose := docBlocks(t, "")
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`]*)`")
	cells := func(cell string) (out []string) {
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			out = append(out, strings.ReplaceAll(m[1], `\|`, "|"))
		}
		return out
	}
	documented := map[string]bool{}
	in := false
	for _, l := range prose {
		switch {
		case l == "### Built-in rules":
			in = true
		case in && strings.HasPrefix(l, "#"):
			in = false
		case in && strings.HasPrefix(l, "| `"):
			cols := regexp.MustCompile(`\s\|\s`).Split(strings.Trim(l, "| "), -1)
			if len(cols) != 4 {
				t.Fatalf("built-in table row %q: want 4 columns", l)
			}
			name := cells(cols[0])[0]
			documented[name] = true
			it, ok := set.Get(inhibit.KindName, name)
			if !ok {
				t.Errorf("the page documents built-in rule %s, which the library lacks", name)
				continue
			}
			spec := it.Spec.(*inhibit.Spec)
			for _, c := range []struct {
				what      string
				doc, spec []string
			}{
				{"source", cells(cols[1]), spec.SourceMatchers},
				{"target", cells(cols[2]), spec.TargetMatchers},
				{"equal", cells(cols[3]), spec.Equal},
			} {
				if !slices.Equal(c.doc, c.spec) {
					t.Errorf("%s: the page's %s %q, the library's %q", name, c.what, c.doc, c.spec)
				}
			}
		}
	}
	for _, it := range set.Items(inhibit.KindName) {
		if !documented[it.Name] {
			t.Errorf("built-in rule %s is not in the page's table", it.Name)
		}
	}
}
