package content_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// hostPacks are the host service packs under ../packs. Until the packs
// package embeds them, their documents load from the folders through the
// content loader, after the built-in library.
var hostPacks = []string{"nginx", "redis", "systemd", "tls-certificates"}

// packDir is a pack's folder, from this package's directory.
func packDir(name string) string { return filepath.Join("..", "packs", name) }

// packSources are the content folders of a pack (its manifest is not a
// content document until the Pack kind exists).
func packSources(t *testing.T, name string) []content.Source {
	t.Helper()
	var srcs []content.Source
	for _, sub := range []string{"runbooks", "rules"} {
		if _, err := os.Stat(filepath.Join(packDir(name), sub)); err == nil {
			srcs = append(srcs, content.Dir(filepath.Join(packDir(name), sub)))
		}
	}
	if len(srcs) == 0 {
		t.Fatalf("pack %s has no runbooks", name)
	}
	return srcs
}

// packManifest is the part of pack.yaml these tests check.
type packManifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"metadata"`
	Spec struct {
		Version  string `yaml:"version"`
		Service  string `yaml:"service"`
		Requires struct {
			Host []string `yaml:"host"`
			IAM  []string `yaml:"iam"`
		} `yaml:"requires"`
		Scenarios []struct {
			Name        string   `yaml:"name"`
			Summary     string   `yaml:"summary"`
			Alerts      []string `yaml:"alerts"`
			Rules       []string `yaml:"rules"`
			Diagnostics []string `yaml:"diagnostics"`
			Remediation []string `yaml:"remediation"`
		} `yaml:"scenarios"`
	} `yaml:"spec"`
}

// promRules are the alerting rules of a pack's prometheus/*.yaml files.
func promRules(t *testing.T, name string) (files []string, alerts []string) {
	t.Helper()
	files, _ = filepath.Glob(filepath.Join(packDir(name), "prometheus", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Alert string `yaml:"alert"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alerts = append(alerts, r.Alert)
				}
			}
		}
	}
	return files, alerts
}

// loadPack loads a pack's documents after the built-in library.
func loadPack(t *testing.T, name string) (*content.Set, *runbook.Library) {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), append([]content.Source{content.Builtin()}, packSources(t, name)...)...)
	if err != nil {
		t.Fatalf("pack %s:\n%v", name, err)
	}
	lib, err := runbook.NewLibrary(set, registry.New(registry.Options{}).Get)
	if err != nil {
		t.Fatal(err)
	}
	return set, lib
}

// TestHostPackRunbooks: every runbook of a host pack loads with the
// built-in library, is defined in a file named after it, has at least two
// offline tests (a success and a failure or other path), and they pass.
func TestHostPackRunbooks(t *testing.T) {
	t.Parallel()
	for _, name := range hostPacks {
		_, lib := loadPack(t, name)
		n := 0
		for _, rb := range lib.List("") {
			if rb.Origin.Source == content.BuiltinName {
				continue
			}
			n++
			if want := rb.Name + ".yaml"; rb.Origin.File != want {
				t.Errorf("pack %s: runbook %s is defined in %s, want runbooks/%s", name, rb.Name, rb.Origin, want)
			}
			if len(rb.Tests) < 2 {
				t.Errorf("pack %s: runbook %s has %d tests; want a success and a failure or other path", name, rb.Name, len(rb.Tests))
			}
			for _, res := range rb.RunTests(t.Context()) {
				if !res.Passed() {
					t.Errorf("pack %s: runbook %s, test %q: %s", name, rb.Name, res.Name, strings.Join(res.Problems, "; "))
				}
			}
		}
		if n < 2 {
			t.Errorf("pack %s has %d runbooks; want diagnostics and a remediation", name, n)
		}
	}
}

// TestHostPackManifests: each pack.yaml names its folder, has a semantic
// version, and every scenario's alerts are alerting rules of the pack's
// Prometheus files and its runbooks are the pack's; every runbook and
// alert of the pack belongs to a scenario.
func TestHostPackManifests(t *testing.T) {
	t.Parallel()
	semver := regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	for _, name := range hostPacks {
		b, err := os.ReadFile(filepath.Join(packDir(name), "pack.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var m packManifest
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("pack %s: pack.yaml: %v", name, err)
		}
		if m.APIVersion != "flywheel/v1" || m.Kind != "Pack" || m.Metadata.Name != name || m.Metadata.Description == "" || m.Spec.Service == "" {
			t.Errorf("pack %s: manifest header %+v", name, m)
		}
		if !semver.MatchString(m.Spec.Version) {
			t.Errorf("pack %s: version %q is not MAJOR.MINOR.PATCH", name, m.Spec.Version)
		}
		_, alerts := promRules(t, name)
		runbooks, _ := filepath.Glob(filepath.Join(packDir(name), "runbooks", "*.yaml"))
		for i, f := range runbooks {
			runbooks[i] = strings.TrimSuffix(filepath.Base(f), ".yaml")
		}
		usedAlerts, usedRunbooks := map[string]bool{}, map[string]bool{}
		seen := map[string]bool{}
		for _, sc := range m.Spec.Scenarios {
			if sc.Name == "" || sc.Summary == "" || seen[sc.Name] {
				t.Errorf("pack %s: scenario %q: a unique name and a summary are required", name, sc.Name)
			}
			seen[sc.Name] = true
			if len(sc.Alerts)+len(sc.Rules) == 0 {
				t.Errorf("pack %s: scenario %s names no detection (alerts or rules)", name, sc.Name)
			}
			for _, r := range sc.Rules {
				if _, err := os.Stat(filepath.Join(packDir(name), "rules", r+".yaml")); err != nil {
					t.Errorf("pack %s: scenario %s names rule %s, which is not in rules/", name, sc.Name, r)
				}
			}
			if len(sc.Diagnostics) == 0 {
				t.Errorf("pack %s: scenario %s has no diagnostics", name, sc.Name)
			}
			for _, a := range sc.Alerts {
				usedAlerts[a] = true
				if !slices.Contains(alerts, a) {
					t.Errorf("pack %s: scenario %s names alert %s, which no prometheus/*.yaml rule defines (%v)", name, sc.Name, a, alerts)
				}
			}
			for _, r := range append(slices.Clone(sc.Diagnostics), sc.Remediation...) {
				usedRunbooks[r] = true
				if !slices.Contains(runbooks, r) {
					t.Errorf("pack %s: scenario %s names runbook %s, which is not in runbooks/ (%v)", name, sc.Name, r, runbooks)
				}
			}
		}
		if len(m.Spec.Scenarios) < 2 {
			t.Errorf("pack %s has %d scenarios", name, len(m.Spec.Scenarios))
		}
		for _, a := range alerts {
			if !usedAlerts[a] {
				t.Errorf("pack %s: alert %s belongs to no scenario", name, a)
			}
		}
		for _, r := range runbooks {
			if !usedRunbooks[r] {
				t.Errorf("pack %s: runbook %s belongs to no scenario", name, r)
			}
		}
	}
}

// TestHostPackPrometheusRules: promtool accepts every pack's alerting
// rules, and its unit tests (testdata/packs/*.promtest, YAML not named
// .yaml: this folder embeds every .yaml file as content; series as
// the exporters expose them) fire each alert where it should.
func TestHostPackPrometheusRules(t *testing.T) {
	t.Parallel()
	promtool := testenv.Program(t, "prometheus", "promtool")
	var all []string
	for _, name := range hostPacks {
		files, alerts := promRules(t, name)
		if len(files) == 0 || len(alerts) == 0 {
			t.Errorf("pack %s has no Prometheus alerting rules", name)
		}
		all = append(all, files...)
	}
	if out, err := exec.Command(promtool, append([]string{"check", "rules"}, all...)...).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests, _ := filepath.Glob(filepath.Join("testdata", "packs", "*.promtest"))
	if len(tests) < len(hostPacks) {
		t.Errorf("%d promtool unit test files for %d packs", len(tests), len(hostPacks))
	}
	if len(tests) > 0 {
		if out, err := exec.Command(promtool, append([]string{"test", "rules"}, tests...)...).CombinedOutput(); err != nil {
			t.Fatalf("promtool test rules: %v\n%s", err, out)
		}
	}
}

// TestHostPackRules: every rule of a host pack runs one of the pack's
// runbooks with parameters it declares, and its tests pass.
func TestHostPackRules(t *testing.T) {
	t.Parallel()
	n := 0
	for _, name := range hostPacks {
		set, lib := loadPack(t, name)
		rs, err := rule.Compile(set.Items(rule.KindName))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs.List() {
			if r.Origin.Source == content.BuiltinName {
				continue
			}
			n++
			rb, ok := lib.Get("", r.Runbook)
			if !ok || rb.Origin.Source == content.BuiltinName {
				t.Errorf("pack %s: rule %s runs %q, not one of the pack's runbooks", name, r.Name, r.Runbook)
				continue
			}
			for p := range r.Parameters {
				if !slices.ContainsFunc(rb.Params, func(x runbook.Param) bool { return x.Name == p }) {
					t.Errorf("pack %s: rule %s passes parameter %s, which runbook %s does not declare", name, r.Name, p, rb.Name)
				}
			}
		}
		for _, res := range rs.Test() {
			if res.Err != nil {
				t.Errorf("%s: rule %s, test %q: %v", res.Origin, res.Rule, res.Test, res.Err)
			}
		}
	}
	if n < 3 {
		t.Errorf("%d pack rules; nginx, redis and systemd have one each", n)
	}
}
