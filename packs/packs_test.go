package packs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
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
	for _, p := range all {
		if _, err := os.Stat(filepath.Join(p.Name, pack.ManifestFile)); err != nil {
			t.Errorf("pack %s: %v", p.Name, err)
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
