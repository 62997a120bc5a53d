package kinds

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/content"
)

type libraryCount struct {
	total  int
	folder map[string]int
}

// libraryFiles counts the embedded library's files, in all and by folder.
func libraryFiles(t *testing.T) libraryCount {
	t.Helper()
	c := libraryCount{folder: map[string]int{}}
	err := fs.WalkDir(builtin.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		c.total++
		c.folder[path.Dir(p)]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBuiltinLibraryLoads keeps the embedded library valid: it loads with
// the real registry and no errors, and holds the default tenant.
func TestBuiltinLibraryLoads(t *testing.T) {
	t.Parallel()
	set, err := content.Load(NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatalf("built-in library:\n%s", strings.Join(errorLines(err), "\n"))
	}
	def, ok := set.Get(TenantKind, "default")
	if !ok {
		t.Fatal("built-in library has no default tenant")
	}
	if got := def.Spec.(*TenantSpec).DisplayName; got != "Default tenant" {
		t.Errorf("default tenant display name = %q", got)
	}
	if got := def.Origin.String(); got != "<builtin>/tenants/default.yaml:11" {
		t.Errorf("default tenant origin = %s", got)
	}
	for _, kind := range set.Kinds() {
		for _, it := range set.Items(kind) {
			if it.Description == "" {
				t.Errorf("%s: library %s %q has no metadata.description", it.Origin, kind, it.Name)
			}
			if it.Tenant != "" {
				t.Errorf("%s: library %s %q is scoped to tenant %q; library items apply to every tenant", it.Origin, kind, it.Name, it.Tenant)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tenants/acme.yaml", "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: acme}\nspec: {display_name: ACME}\n")
	write("tenants/default.yaml", "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: default}\nspec: {display_name: Us}\n")
	write("notes.md", "ignored")

	sum, err := content.Validate(NewRegistry(), dir)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// The library grows; count its files (one document each) by folder.
	lib := libraryFiles(t)
	want := fmt.Sprintf("<builtin>: %d files, %d documents\n", lib.total, lib.total) + dir + ": 2 files, 2 documents, 1 override\n" +
		fmt.Sprintf("CorrelationRule: %d\nDedupRule: %d\nInhibitRule: %d\nPatchBaseline: %d\nRule: %d\nRunbook: %d\nTenant: 2\n",
			lib.folder["correlation"], lib.folder["dedup"], lib.folder["inhibit"], lib.folder["patch"], lib.folder["rules"], lib.folder["runbooks"])
	if got := sum.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}

	write("tenants/bad.yaml", "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: bad}\nspec: {display_name: Bad, colour: red}\n---\nkind: Playbook\n")
	sum, err = content.Validate(NewRegistry(), dir)
	wantErrs := []string{
		dir + `/tenants/bad.yaml:4: field "colour" not found in Tenant spec`,
		dir + `/tenants/bad.yaml:6: apiVersion is required ("flywheel/v1")`,
		dir + `/tenants/bad.yaml:6: unknown kind "Playbook" (known kinds: Application, BackupPlan, BusinessCalendar, CorrelationRule, DedupRule, InhibitRule, IntakeMapping, MaintenanceWindow, PatchBaseline, PatchGroup, ResourceGroup, Rule, Runbook, Tenant)`,
		dir + `/tenants/bad.yaml:6: metadata.name is required`,
	}
	if got := errorLines(err); !slices.Equal(got, wantErrs) {
		t.Errorf("errors:\n got: %q\nwant: %q", got, wantErrs)
	}
	if sum.Kinds[TenantKind] != 2 || sum.Sources[1].Documents != 4 || sum.Sources[1].Loaded != 2 {
		t.Errorf("summary after errors = %+v", sum)
	}
}

func TestValidateBadDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		if _, err := content.Validate(NewRegistry(), dir); err == nil || !strings.Contains(err.Error(), "content directory") {
			t.Errorf("Validate(%s) = %v, want a content directory error", dir, err)
		}
	}
}
