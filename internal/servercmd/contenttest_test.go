package servercmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/pack"
)

// docFence is a fenced block of a docs page.
type docFence struct {
	lang string
	body []string
	line int
}

func docFences(t *testing.T, path string) []docFence {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docFence
	var cur *docFence
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docFence{lang: strings.TrimPrefix(line, "```"), line: n}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body = append(cur.body, line)
		}
	}
	return out
}

// contentTest runs `flywheel content test args…` in-process.
func contentTest(args ...string) (string, int) {
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), append([]string{"content", "test"}, args...), Env{Stdout: &out, Stderr: &errOut})
	return out.String() + errOut.String(), code
}

// TestContentTestDocs runs the examples of the pages that show `flywheel
// content test`: each page's YAML files (named by their first-line
// comment) under the directory a console block tests, and that block's
// lines must appear in the output, in order ("…" stands for lines left
// out). A block showing a FAIL expects exit 1, else 0.
func TestContentTestDocs(t *testing.T) {
	for _, page := range []string{"../../docs/runbook-library.md", "../../docs/content.md"} {
		fences := docFences(t, page)
		ran := 0
		for _, f := range fences {
			if f.lang != "console" || len(f.body) == 0 || !strings.HasPrefix(f.body[0], "$ flywheel content test ") {
				continue
			}
			dir := strings.TrimPrefix(f.body[0], "$ flywheel content test ")
			root := t.TempDir()
			files := 0
			for _, y := range fences {
				if y.lang != "yaml" || len(y.body) == 0 || !strings.HasPrefix(y.body[0], "# "+dir+"/") {
					continue
				}
				p := filepath.Join(root, strings.TrimPrefix(y.body[0], "# "))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(strings.Join(y.body, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				files++
			}
			if files == 0 {
				t.Errorf("%s:%d: no YAML examples under %s/", page, f.line, dir)
				continue
			}
			ran++
			out, code := contentTest(filepath.Join(root, dir))
			out = strings.ReplaceAll(out, root+string(filepath.Separator), "")
			wantCode := 0
			if strings.Contains(strings.Join(f.body, "\n"), "\nFAIL ") {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("%s:%d: exit %d, want %d\n%s", page, f.line, code, wantCode, out)
			}
			got := strings.Split(out, "\n")
			i := 0
			for _, want := range f.body[1:] {
				if want == "…" || want == "" {
					continue
				}
				for i < len(got) && !sameLine(got[i], want) {
					i++
				}
				if i == len(got) {
					t.Errorf("%s:%d: output lacks (in this order) %q\noutput:\n%s", page, f.line, want, out)
					break
				}
				i++
			}
		}
		if ran == 0 {
			t.Errorf("%s shows no `flywheel content test` example", page)
		}
	}
}

// summaryLine is the last line of a run; its counts grow with the library.
var summaryLine = regexp.MustCompile(`^(\d+) tests: (\d+) passed, (\d+) failed$`)

// sameLine compares an output line with a page's: exactly, except that a
// summary's totals may differ as long as the failures are the same.
func sameLine(got, want string) bool {
	if got == want {
		return true
	}
	g, w := summaryLine.FindStringSubmatch(got), summaryLine.FindStringSubmatch(want)
	return g != nil && w != nil && g[3] == w[3]
}

// Content that does not load exits 2 with the errors; so does a missing
// directory.
func TestContentTestDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("apiVersion: flywheel/v1\nkind: Rule\nmetadata: {name: r}\nspec:\n  when: event.lables.x == \"y\"\n  then: {suppress: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := contentTest(dir)
	if code != 2 || !strings.Contains(out, filepath.Join(dir, "r.yaml")+":5: spec.when:") || strings.Contains(out, "PASS") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if out, code := contentTest(filepath.Join(dir, "missing")); code != 2 || !strings.Contains(out, "not a directory") {
		t.Errorf("missing dir: exit %d:\n%s", code, out)
	}
}

// Without a directory it tests the library alone, which passes.
func TestContentTestLibrary(t *testing.T) {
	out, code := contentTest()
	if code != 0 || !strings.Contains(out, "PASS Runbook isolate-ec2-instance: first isolation in a VPC creates the group (<builtin>/runbooks/isolate-ec2-instance.yaml:2)") ||
		!strings.Contains(out, " 0 failed\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// The catalogue's packs are tested too, each test named with the pack's
// file; a pack whose test fails fails the run.
func TestContentTestPacks(t *testing.T) {
	out, code := contentTest()
	if code != 0 || !strings.Contains(out, "PASS Runbook postgres-lock-report: reports (<pack postgresql>/runbooks/postgres-lock-report.yaml:2)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	broken := `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: pack-check}
spec:
  steps:
    - {name: look, action: exec, with: {command: [true]}}
    - {name: fix, action: exec, with: {command: [true]}, when: "false"}
  tests:
    - name: expects a step that never runs
      expect: {steps_run: [look, fix]}
`
	src := pack.FilesSource("broken", "", []pack.File{{Path: "runbooks/pack-check.yaml", Data: []byte(broken)}})
	var buf bytes.Buffer
	err := runContentTests(context.Background(), &buf, []content.Source{content.Builtin(), src})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != contentTestFailed || !strings.Contains(buf.String(), "FAIL Runbook pack-check: expects a step that never runs (<pack broken>/runbooks/pack-check.yaml:1)") {
		t.Errorf("a failing pack test: %v\n%s", err, buf.String())
	}
}
