package content

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/want.txt")

// TestGolden loads each testdata/golden/<case>: builtin/ (if present) as
// the library, then ops/ as the user directory, and compares the errors,
// summary and items with want.txt. Run with -update after a deliberate
// change and review the diff.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var sources []Source
			if _, err := os.Stat(filepath.Join(dir, "builtin")); err == nil {
				sources = append(sources, Source{Name: BuiltinName, FS: os.DirFS(filepath.Join(dir, "builtin"))})
			}
			sources = append(sources, Source{Name: "ops", FS: os.DirFS(filepath.Join(dir, "ops"))})
			set, err := Load(testRegistry(), sources...)
			got := render(set, err)

			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs:\n--- got\n%s--- want\n%s", wantFile, got, want)
			}
		})
	}
}

func render(set *Set, err error) string {
	var b strings.Builder
	b.WriteString("# errors\n")
	for _, l := range errorLines(err) {
		b.WriteString(l + "\n")
	}
	b.WriteString("# summary\n" + set.Summary().String())
	b.WriteString("# items\n")
	for _, kind := range set.Kinds() {
		for _, it := range set.Items(kind) {
			fmt.Fprintf(&b, "%s %s at %s", it.Kind, it.Name, it.Origin)
			for _, o := range it.Overrides {
				fmt.Fprintf(&b, " (overrides %s)", o)
			}
			fmt.Fprintf(&b, ": %+v\n", specValue(it.Spec))
		}
	}
	return b.String()
}

func specValue(p any) any {
	switch s := p.(type) {
	case *gadgetSpec:
		return *s
	case *widgetSpec:
		return *s
	}
	return p
}
