package content_test

import (
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

// TestEverythingEmbedded guards the go:embed pattern: every YAML file in
// this directory must be in FS, and library files use the .yaml extension.
func TestEverythingEmbedded(t *testing.T) {
	n := 0
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(p) {
		case ".yml":
			t.Errorf("%s: library files use the .yaml extension", p)
		case ".yaml":
			n++
			if _, err := fs.Stat(builtin.FS, p); err != nil {
				t.Errorf("%s is not embedded; extend the //go:embed pattern in content.go", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no library files found")
	}
}

// libraryRunbooks are the runbooks the library ships (docs/runbook-library.md
// describes each one).
var libraryRunbooks = []string{
	"host-file-mode",
	"host-sshd-setting",
	"block-s3-public-access",
	"collect-diagnostics-and-escalate",
	"collect-host-diagnostics",
	"disable-access-key",
	"disk-cleanup",
	"isolate-ec2-instance",
	"notify-escalate",
	"restart-service",
	"revoke-world-open-ingress",
}

// loadLibrary loads the built-in library, and the extra sources over it.
func loadLibrary(t *testing.T, extra ...content.Source) (*content.Set, *runbook.Library) {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), append([]content.Source{content.Builtin()}, extra...)...)
	if err != nil {
		t.Fatalf("built-in library:\n%v", err)
	}
	lib, err := runbook.NewLibrary(set, registry.New(registry.Options{}).Get)
	if err != nil {
		t.Fatal(err)
	}
	return set, lib
}

// TestRunbooks: every library runbook is there, one per file named after
// it, carries offline tests, and they pass — and each has a test that
// expects a failure or a different path, so the tests can fail.
func TestRunbooks(t *testing.T) {
	t.Parallel()
	_, lib := loadLibrary(t)
	var names []string
	for _, rb := range lib.List("") {
		names = append(names, rb.Name)
		if want := "runbooks/" + rb.Name + ".yaml"; rb.Origin.File != want {
			t.Errorf("runbook %s is defined in %s, want %s", rb.Name, rb.Origin, want)
		}
		checkRunbookTests(t, rb)
	}
	for _, want := range libraryRunbooks {
		if !slices.Contains(names, want) {
			t.Errorf("the library has no runbook %s (it has %v)", want, names)
		}
	}
}

// checkRunbookTests: the runbook has at least two offline tests (a
// success and a failure or other path), and they pass.
func checkRunbookTests(t *testing.T, rb *runbook.Runbook) {
	t.Helper()
	if len(rb.Tests) < 2 {
		t.Errorf("runbook %s has %d tests; every library or pack runbook has at least two (a success and a failure or other path)", rb.Name, len(rb.Tests))
	}
	for _, res := range rb.RunTests(t.Context()) {
		if !res.Passed() {
			t.Errorf("runbook %s, test %q: %s", rb.Name, res.Name, strings.Join(res.Problems, "; "))
		}
	}
}

// TestRulesRunbooksExist: every runbook a library rule runs is a library
// runbook, with the parameters the rule passes declared.
func TestRulesRunbooksExist(t *testing.T) {
	t.Parallel()
	set, lib := loadLibrary(t)
	checkRules(t, set, lib)
}

// checkRules: every runbook a rule of set runs is in lib and declares the
// parameters the rule passes; the rules' tests pass.
func checkRules(t *testing.T, set *content.Set, lib *runbook.Library) {
	t.Helper()
	rs, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.List() {
		if r.Runbook == "" {
			continue
		}
		rb, ok := lib.Get("", r.Runbook)
		if !ok {
			t.Errorf("rule %s runs runbook %s, which the library does not have", r.Name, r.Runbook)
			continue
		}
		for p := range r.Parameters {
			if !slices.ContainsFunc(rb.Params, func(x runbook.Param) bool { return x.Name == p }) {
				t.Errorf("rule %s passes parameter %s, which runbook %s does not declare", r.Name, p, rb.Name)
			}
		}
	}
	for _, res := range rs.Test() {
		if res.Err != nil {
			t.Errorf("%s: rule %s, test %q: %v", res.Origin, res.Rule, res.Test, res.Err)
		}
	}
}
