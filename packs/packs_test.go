package packs_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/testenv"
	"github.com/flywheel-ops/flywheel/packs"
)

// TestCatalogue: every pack folder reads and checks (manifest, documents
// with the built-in library, Prometheus rules, the scenarios' references),
// and every YAML file on disk is embedded.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	all, err := pack.ReadCatalogue(packs.FS)
	if err != nil {
		t.Fatalf("catalogue:\n%v", err)
	}
	if len(all) == 0 {
		t.Fatal("no packs")
	}
	embedded := map[string]bool{}
	_ = fs.WalkDir(packs.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded[p] = true
		}
		return err
	})
	_ = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") || filepath.Ext(p) == ".md" {
			return err
		}
		if !embedded[filepath.ToSlash(p)] {
			t.Errorf("%s is not embedded: packs hold pack.yaml and FOLDER/NAME.yaml one level deep (not .yml)", p)
		}
		return nil
	})
	// Two packs sharing a document name could not both be installed for
	// one tenant.
	owner := map[string]string{}
	for _, p := range all {
		if _, err := os.Stat(filepath.Join(p.Name, pack.ManifestFile)); err != nil {
			t.Errorf("pack %s: %v", p.Name, err)
		}
		for _, d := range p.Documents {
			if o, dup := owner[d.Key()]; dup {
				t.Errorf("%s is in packs %s and %s; give one of them another name (prefix it with the pack's service)", d.Key(), o, p.Name)
			}
			owner[d.Key()] = p.Name
		}
	}
}

// TestPackTests runs every pack runbook's offline tests; each runbook has a
// test that succeeds and one that fails or takes another path.
func TestPackTests(t *testing.T) {
	t.Parallel()
	all, err := pack.ReadCatalogue(packs.FS)
	if err != nil {
		t.Fatal(err)
	}
	actions := registry.New(registry.Options{}).Get
	for _, p := range all {
		set, err := p.Load("")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range set.Items(runbook.KindName) {
			if it.Origin.Source != pack.SourceName(p.Name) {
				continue
			}
			rb, err := runbook.FromItem(it, actions)
			if err != nil {
				t.Fatal(err)
			}
			if len(rb.Tests) < 2 {
				t.Errorf("pack %s, runbook %s: %d tests; give at least two (a success, and a failure or another path)", p.Name, rb.Name, len(rb.Tests))
			}
			for _, res := range rb.RunTests(t.Context()) {
				if !res.Passed() {
					t.Errorf("pack %s, runbook %s, test %q: %s", p.Name, rb.Name, res.Name, strings.Join(res.Problems, "; "))
				}
			}
		}
	}
}

// TestPrometheusRules checks every pack's Prometheus rule files with
// Prometheus's own checker (promtool check rules): the expressions parse,
// the durations and templates are valid.
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	promtool := testenv.Program(t, "prometheus", "promtool")
	all, err := pack.ReadCatalogue(packs.FS)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range all {
		for _, f := range p.PrometheusFiles() {
			path := filepath.Join(t.TempDir(), filepath.Base(f.Path))
			if err := os.WriteFile(path, f.Data, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
				t.Errorf("pack %s, %s: promtool check rules: %v\n%s", p.Name, f.Path, err, out)
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no Prometheus rule files checked")
	}
}
