package content_test

// The AWS service packs (packs/aws-*): their documents load with the
// library, their offline tests pass, and each manifest's IAM actions are
// exactly the operations its runbooks call.

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
)

// awsPacks are the AWS service packs, in packs/ at the repository's root.
var awsPacks = []string{"aws-ec2", "aws-ebs", "aws-rds", "aws-s3", "aws-lambda"}

const packsDir = "../packs"

// packSource is a pack's content documents (its folders, without the
// manifest, whose kind the loader does not know yet) as a content source.
func packSource(t *testing.T, name string) content.Source {
	t.Helper()
	dir := path.Join(packsDir, name)
	files := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "pack.yaml" || path.Ext(p) != ".yaml" {
			return err
		}
		b, err := os.ReadFile(path.Join(dir, p))
		files[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return content.Source{Name: "packs/" + name, FS: files}
}

// loadPacks loads the library with every AWS pack over it.
func loadPacks(t *testing.T) (*content.Set, *runbook.Library) {
	t.Helper()
	return loadLibrary(t, awsPackSources(t)...)
}

// awsPackSources are the AWS packs' documents.
func awsPackSources(t *testing.T) []content.Source {
	t.Helper()
	var sources []content.Source
	for _, p := range awsPacks {
		sources = append(sources, packSource(t, p))
	}
	return sources
}

// manifest is the part of a pack.yaml these tests read.
type manifest struct {
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
			Diagnostics []string `yaml:"diagnostics"`
			Remediation []string `yaml:"remediation"`
		} `yaml:"scenarios"`
	} `yaml:"spec"`
}

func readManifest(t *testing.T, name string) manifest {
	t.Helper()
	b, err := os.ReadFile(path.Join(packsDir, name, "pack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s/pack.yaml: %v", name, err)
	}
	return m
}

// TestAWSPacksOffline: every pack runbook has at least two offline tests
// and they pass; every pack rule's tests pass and the runbooks it runs
// take the parameters it passes.
func TestAWSPacksOffline(t *testing.T) {
	t.Parallel()
	set, lib := loadPacks(t)
	for _, rb := range lib.List("") {
		if !strings.HasPrefix(rb.Origin.Source, "packs/") {
			continue
		}
		if want := "runbooks/" + rb.Name + ".yaml"; rb.Origin.File != want {
			t.Errorf("runbook %s is defined in %s, want %s", rb.Name, rb.Origin, want)
		}
		checkRunbookTests(t, rb)
	}
	checkRules(t, set, lib)
}

// TestAWSPackManifests: each manifest names its pack and scenarios whose
// runbooks are the pack's, and its IAM actions are exactly those of the
// AWS calls its runbooks make — aws steps, wait_for probes, and the
// runbooks they run nested (the library's too) — read from the runbook
// files themselves.
func TestAWSPackManifests(t *testing.T) {
	t.Parallel()
	for _, name := range awsPacks {
		m := readManifest(t, name)
		if m.APIVersion != "flywheel/v1" || m.Kind != "Pack" || m.Metadata.Name != name || m.Metadata.Description == "" ||
			m.Spec.Version == "" || m.Spec.Service == "" || len(m.Spec.Scenarios) == 0 {
			t.Errorf("%s/pack.yaml: envelope or spec incomplete: %+v", name, m)
		}
		own := map[string]bool{}
		entries, err := os.ReadDir(path.Join(packsDir, name, "runbooks"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			own[strings.TrimSuffix(e.Name(), ".yaml")] = true
		}
		used := map[string]bool{}
		for _, sc := range m.Spec.Scenarios {
			if len(sc.Diagnostics) == 0 {
				t.Errorf("%s: scenario %s has no diagnostics", name, sc.Name)
			}
			for _, rb := range append(append([]string{}, sc.Diagnostics...), sc.Remediation...) {
				used[rb] = true
				if !own[rb] {
					t.Errorf("%s: scenario %s names runbook %s, which is not in %s/runbooks", name, sc.Name, rb, name)
				}
			}
		}
		for rb := range own {
			if !used[rb] {
				t.Errorf("%s: runbook %s is in no scenario", name, rb)
			}
		}
		calls := map[string]bool{}
		for rb := range own {
			awsCalls(t, name, rb, calls, map[string]bool{})
		}
		var want []string
		for c := range calls {
			want = append(want, c)
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(m.Spec.Requires.IAM))
		if !slices.Equal(got, want) {
			t.Errorf("%s/pack.yaml requires.iam = %v\nthe runbooks call %v", name, got, want)
		}
	}
}

// awsCalls adds the IAM action of every AWS call runbook rb (of pack, or
// of the library) can make to calls.
func awsCalls(t *testing.T, pack, rb string, calls, seen map[string]bool) {
	t.Helper()
	if seen[rb] {
		return
	}
	seen[rb] = true
	b, err := os.ReadFile(path.Join(packsDir, pack, "runbooks", rb+".yaml"))
	if os.IsNotExist(err) {
		b, err = os.ReadFile(path.Join("runbooks", rb+".yaml"))
	}
	if err != nil {
		t.Fatalf("runbook %s: %v", rb, err)
	}
	var doc struct {
		Spec struct {
			Steps []struct {
				Action string         `yaml:"action"`
				With   map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("runbook %s: %v", rb, err)
	}
	for _, st := range doc.Spec.Steps {
		action, with := st.Action, st.With
		if action == "wait_for" {
			probe, _ := with["probe"].(map[string]any)
			action, _ = probe["action"].(string)
			with, _ = probe["with"].(map[string]any)
		}
		switch action {
		case "aws":
			service, _ := with["service"].(string)
			operation, _ := with["operation"].(string)
			calls[aws.IAMAction(service, operation)] = true
		case "runbook":
			nested, _ := with["name"].(string)
			awsCalls(t, pack, nested, calls, seen)
		}
	}
}

// TestAWSRDSGuardrails evaluates the aws-rds pack's config rules over the
// recorded account acme (testdata/aws/acme/rds.DescribeDBInstances_1.json:
// orders-db is Multi-AZ, legacy-db is not, neither has storage
// autoscaling).
func TestAWSRDSGuardrails(t *testing.T) {
	t.Parallel()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), packSource(t, "aws-rds"))
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	pack := &compliance.Pack{Name: "aws-rds"}
	for _, name := range []string{"rds-multi-az-support", "rds-storage-autoscaling-enabled"} {
		r, ok := lib.Rule(name)
		if !ok {
			t.Fatalf("no config rule %s", name)
		}
		pack.Rules = append(pack.Rules, compliance.PackRule{Rule: r})
	}
	got := map[string]compliance.Status{}
	for _, f := range compliance.NewPlan([]*compliance.Pack{pack}).Evaluate(recordedSubjects(t, "acme")).Findings(nil, time.Now()) {
		got[f.Rule.Name+" "+short(f.Resource.ID)] = f.Status
	}
	want := map[string]compliance.Status{
		"rds-multi-az-support orders-db": C, "rds-multi-az-support legacy-db": NC,
		"rds-storage-autoscaling-enabled orders-db": NC, "rds-storage-autoscaling-enabled legacy-db": NC,
	}
	if !maps.Equal(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
}
