package kinds

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

const docPage = "../../../docs/content.md"

// TestDocExamples loads every YAML example in docs/content.md as the file
// its first-line comment names ("# ops/tenants/acme.yaml"), on top of the
// built-in library, and checks that the errors are exactly those the page's
// `flywheel content validate ops` example shows.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	var want []string
	for _, b := range mdtest.Blocks(t, docPage) {
		switch b.Lang {
		case "yaml":
			if len(b.Lines) == 0 || !strings.HasPrefix(b.Lines[0], "# ") || !strings.Contains(b.Lines[0], "/") {
				t.Fatalf("%s:%d: a yaml example must start with a comment naming its file, e.g. # ops/tenants/x.yaml", docPage, b.Line)
			}
			if !strings.HasPrefix(b.Lines[0], "# ops/") {
				continue // another directory's example (flywheel content test's, tested in internal/cli)
			}
			name := strings.TrimPrefix(b.Lines[0], "# ops/")
			if _, dup := fsys[name]; dup {
				t.Fatalf("%s:%d: two examples are named %s", docPage, b.Line, name)
			}
			fsys[name] = &fstest.MapFile{Data: []byte(b.Text())}
		case "console":
			for i, l := range b.Lines {
				if l == "$ flywheel content validate ops" {
					for _, out := range b.Lines[i+1:] {
						if strings.HasPrefix(out, "$") {
							break
						}
						want = append(want, out)
					}
				}
			}
		}
	}
	if len(fsys) < 4 || len(want) == 0 {
		t.Fatalf("found %d yaml examples and %d expected errors; has the page's format changed?", len(fsys), len(want))
	}

	set, err := content.Load(NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors from the page's examples:\n got: %q\nwant (from the page): %q", got, want)
	}

	for _, name := range []string{"acme", "initech", "umbrella"} {
		if _, ok := set.Get(TenantKind, name); !ok {
			t.Errorf("example tenant %s did not load", name)
		}
	}
	def, _ := set.Get(TenantKind, "default")
	if def.Spec.(*TenantSpec).DisplayName != "In-house" || len(def.Overrides) != 1 ||
		def.Overrides[0].Source != content.BuiltinName {
		t.Errorf("the override example did not replace the built-in default tenant: %+v", def)
	}
}

// TestDocListsEveryKind keeps the "Kinds" table of docs/content.md equal to
// the kinds the loader registers: a kind added without its row, or a row
// for a kind that does not exist, fails.
func TestDocListsEveryKind(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(text), "\n### Kinds\n")
	if !ok {
		t.Fatalf(`%s has no "### Kinds" section`, docPage)
	}
	table, _, _ = strings.Cut(table, "\n#")
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		documented = append(documented, strings.Trim(strings.TrimSpace(cells[1]), "`"))
	}
	slices.Sort(documented)
	if got := NewRegistry().Kinds(); !slices.Equal(documented, got) {
		t.Errorf("%s lists kinds %v; the loader registers %v", docPage, documented, got)
	}
}
