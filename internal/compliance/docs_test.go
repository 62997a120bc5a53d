package compliance_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

const docPage = "../../docs/compliance.md"

// docExamples loads the page's YAML examples ("# ops/…" first line) on top
// of the built-in library and returns the set, the load's error lines and
// the error lines the page's `flywheel content validate ops` shows.
func docExamples(t *testing.T) (set *content.Set, got, want []string) {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, b := range mdtest.Blocks(t, docPage) {
		switch b.Lang {
		case "yaml":
			name, ok := strings.CutPrefix(b.Lines[0], "# ops/")
			if !ok {
				t.Fatalf("%s:%d: a yaml example must start with # ops/FILE", docPage, b.Line)
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
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	for _, e := range content.Errors(err) {
		got = append(got, e.Error())
	}
	return set, got, want
}

// TestDocExamples: the page's examples load with exactly the errors its
// console example shows, and the rules and packs it describes are there.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	set, got, want := docExamples(t)
	if len(want) == 0 {
		t.Fatal("the page shows no expected errors; has its format changed?")
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors from the page's examples:\n got: %q\nwant: %q", got, want)
	}
	for _, k := range [][2]string{
		{compliance.RuleKindName, "s3-bucket-public-access-blocked"},
		{compliance.RuleKindName, "iam-password-min-length"},
		{compliance.PackKindName, "s3-and-iam-baseline"},
		{compliance.PackKindName, "acme-s3-and-iam-baseline"},
	} {
		if _, ok := set.Get(k[0], k[1]); !ok {
			t.Errorf("%s %s did not load", k[0], k[1])
		}
	}
	r, ok := set.Get(compliance.RuleKindName, "s3-bucket-public-access-blocked")
	if !ok {
		return
	}
	if rem := r.Spec.(*compliance.RuleSpec).Remediation; rem.Mode != compliance.ModeAuto || rem.MaxResources != 10 || rem.Attempts != 3 {
		t.Errorf("remediation read as %+v", rem)
	}
}
