package kinds

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
)

const docPage = "../../../docs/content.md"

type fence struct {
	lang string
	body []string
	line int // of the opening fence
}

// fences returns the fenced code blocks of a Markdown file.
func fences(t *testing.T, path string) []fence {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []fence
		cur *fence
		n   int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fence{lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body = append(cur.body, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", path, cur.line)
	}
	return out
}

// TestDocExamples loads every YAML example in docs/content.md as the file
// its first-line comment names ("# ops/tenants/acme.yaml"), on top of the
// built-in library, and checks that the errors are exactly those the page's
// `flywheel content validate ops` example shows.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	var want []string
	for _, b := range fences(t, docPage) {
		switch b.lang {
		case "yaml":
			if len(b.body) == 0 || !strings.HasPrefix(b.body[0], "# ") || !strings.Contains(b.body[0], "/") {
				t.Fatalf("%s:%d: a yaml example must start with a comment naming its file, e.g. # ops/tenants/x.yaml", docPage, b.line)
			}
			if !strings.HasPrefix(b.body[0], "# ops/") {
				continue // another directory's example (flywheel content test's, tested in internal/cli)
			}
			name := strings.TrimPrefix(b.body[0], "# ops/")
			if _, dup := fsys[name]; dup {
				t.Fatalf("%s:%d: two examples are named %s", docPage, b.line, name)
			}
			fsys[name] = &fstest.MapFile{Data: []byte(strings.Join(b.body, "\n") + "\n")}
		case "console":
			for i, l := range b.body {
				if l == "$ flywheel content validate ops" {
					for _, out := range b.body[i+1:] {
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
