package patch_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/patch"
)

const docPage = "../../docs/patching.md"

// TestDocExamples loads every YAML example of docs/patching.md as content
// over the library (the window's runbook is the library's), and checks
// the page's deadline table against its own calendar.
func TestDocExamples(t *testing.T) {
	fsys := fstest.MapFS{}
	var deadlines [][2]string
	for _, b := range mdtest.Blocks(t, docPage) {
		if b.Lang == "yaml" {
			name, ok := strings.CutPrefix(b.Lines[0], "# ops/")
			if !ok {
				t.Fatalf("%s:%d: a yaml example starts with # ops/…", docPage, b.Line)
			}
			fsys[name] = &fstest.MapFile{Data: []byte(b.Text())}
		}
	}
	if len(fsys) != 4 {
		t.Fatalf("%d yaml examples, want 4", len(fsys))
	}
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: content.BuiltinName, FS: builtin.FS}, content.Source{Name: "ops", FS: fsys})
	if err != nil {
		t.Fatalf("the page's examples do not load: %v", err)
	}
	it, ok := set.Get(patch.CalendarKind, "acme")
	if !ok {
		t.Fatal("no calendar")
	}
	cal, err := it.Spec.(*patch.CalendarSpec).Compile()
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(page), "\n") {
		f := strings.Split(line, "|")
		if len(f) == 4 && strings.Contains(f[1], "2026-") {
			deadlines = append(deadlines, [2]string{strings.TrimSpace(f[1]), strings.TrimSpace(f[2])})
		}
	}
	if len(deadlines) != 3 {
		t.Fatalf("deadline rows: %q", deadlines)
	}
	for _, d := range deadlines {
		at, err := time.ParseInLocation("Mon 2006-01-02 15:04", d[0], cal.Location())
		if err != nil {
			t.Fatal(err)
		}
		if got := cal.NextBusinessDayEnd(at).In(cal.Location()).Format("Mon 2006-01-02 15:04"); got != d[1] {
			t.Errorf("raised %s: due %s, the page says %s", d[0], got, d[1])
		}
	}
}

// TestDocFigures: the durations docs/patching.md states are the code's.
func TestDocFigures(t *testing.T) {
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("less than %s days ago", map[int]string{7: "seven"}[int(patch.FreshFor/(24*time.Hour))]),
		fmt.Sprintf("kept for %d days", int(patch.DefaultHistoryKeep/(24*time.Hour))),
		fmt.Sprintf("after %d minutes without that", int(patch.New(patch.Options{}).RebootTimeout()/time.Minute)),
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(page)), " "), want) {
			t.Errorf("docs/patching.md does not say %q", want)
		}
	}
}
