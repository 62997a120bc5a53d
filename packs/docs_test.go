package packs_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/packs"
)

const docPage = "../docs/packs.md"

// catalogueLines are the lines docs/packs.md's catalogue has for p: a
// heading, then one line per scenario.
func catalogueLines(p *pack.Pack) []string {
	lines := []string{fmt.Sprintf("### %s — %s", p.Name, p.Spec.Service)}
	list := func(label string, names []string) string {
		if len(names) == 0 {
			return ""
		}
		return fmt.Sprintf(" %s: %s.", label, strings.Join(names, ", "))
	}
	for _, s := range p.Spec.Scenarios {
		rem := list("Remediation", s.Remediation)
		if rem == "" {
			rem = " Remediation: none."
		}
		lines = append(lines, fmt.Sprintf("- **%s**: %s.%s%s%s%s", s.Name, strings.TrimSuffix(s.Summary, "."),
			list("Alerts", s.Alerts), list("Rules", s.Rules), list("Diagnostics", s.Diagnostics), rem))
	}
	return lines
}

// TestDocListsEveryPack keeps docs/packs.md's catalogue equal to the
// manifests: every pack's heading and scenario lines, in order, and
// nothing else.
func TestDocListsEveryPack(t *testing.T) {
	t.Parallel()
	all, err := pack.ReadCatalogue(packs.FS)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## The catalogue\n")
	if !ok {
		t.Fatalf("%s has no section \"## The catalogue\"", docPage)
	}
	var have []string
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "### ") || strings.HasPrefix(l, "- **") {
			have = append(have, l)
		}
	}
	var want []string
	for _, p := range all {
		want = append(want, catalogueLines(p)...)
	}
	haveSet, wantSet := map[string]bool{}, map[string]bool{}
	for _, l := range have {
		haveSet[l] = true
	}
	for _, l := range want {
		wantSet[l] = true
	}
	for i, l := range want {
		if !haveSet[l] {
			where := "at the end of the section"
			if i > 0 {
				where = "after the line\n    " + want[i-1]
			}
			t.Errorf("%s, section \"The catalogue\": add the line\n    %s\n%s", docPage, l, where)
		}
	}
	for _, l := range have {
		if !wantSet[l] {
			t.Errorf("%s, section \"The catalogue\": remove or correct the line (no manifest says it)\n    %s", docPage, l)
		}
	}
	if !t.Failed() && strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: the catalogue's lines are out of order; packs by name, scenarios as in each manifest:\n%s", docPage, strings.Join(want, "\n"))
	}
}

// TestDocExamplePack reads the page's example pack (the YAML blocks whose
// first line names a file under mypack/) as a pack and runs its tests.
func TestDocExamplePack(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	var files []pack.File
	var cur *bytes.Buffer
	var path string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case cur == nil && l == "```yaml":
			cur = &bytes.Buffer{}
		case cur != nil && l == "```":
			if p, ok := strings.CutPrefix(path, "# mypack/"); ok {
				files = append(files, pack.File{Path: p, Data: cur.Bytes()})
			}
			cur, path = nil, ""
		case cur != nil:
			if cur.Len() == 0 {
				path = l
			}
			cur.WriteString(l + "\n")
		}
	}
	if len(files) < 3 {
		t.Fatalf("%s shows %d files of mypack; want the manifest, a runbook and a rule file", docPage, len(files))
	}
	p, err := pack.FromFiles(files, pack.SourceName("mypack"))
	if err != nil {
		t.Fatalf("the page's example pack does not read:\n%v", err)
	}
	if p.Name != "mypack" || len(p.Alerts) != 1 || len(p.Documents) != 1 {
		t.Errorf("example pack: %s, alerts %v, documents %v", p.Name, p.Alerts, p.Documents)
	}
	set, err := p.Load("")
	if err != nil {
		t.Fatal(err)
	}
	it, ok := set.Get(runbook.KindName, "billing-queue-report")
	if !ok {
		t.Fatal("the example runbook did not load")
	}
	rb, err := runbook.FromItem(it, registry.New(registry.Options{}).Get)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rb.RunTests(t.Context()) {
		if !res.Passed() {
			t.Errorf("example runbook, test %q: %s", res.Name, strings.Join(res.Problems, "; "))
		}
	}
}
