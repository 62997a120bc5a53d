package kinds

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// probeSpec stands in for the tenant-scoped kinds later issues add.
type probeSpec struct {
	URL string `yaml:"url"`
}

func testRegistry() *content.Registry {
	reg := NewRegistry()
	reg.Register(content.Kind{Name: "Probe", New: func() any { return new(probeSpec) }})
	return reg
}

// strictTenancy is testRegistry with CheckTenantRefs, as an installation
// that keeps every tenant in content would build it.
func strictTenancy() *content.Registry {
	reg := testRegistry()
	reg.RegisterCheck(CheckTenantRefs)
	return reg
}

func source(name string, files map[string]string) content.Source {
	fsys := fstest.MapFS{}
	for p, data := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(data)}
	}
	return content.Source{Name: name, FS: fsys}
}

func errorLines(err error) []string {
	var out []string
	for _, e := range content.Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

func TestTenant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "valid",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  display_name: ACME Corp\n  description: Managed since 2021.\n",
		},
		{
			name: "display_name missing",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  description: x\n",
			want: []string{"ops/t.yaml:5: spec.display_name: is required"},
		},
		{
			name: "display_name blank",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  display_name: \"  \"\n",
			want: []string{"ops/t.yaml:6: spec.display_name: is required"},
		},
		{
			name: "no spec",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\n",
			want: []string{"ops/t.yaml:1: spec.display_name: is required"},
		},
		{
			name: "typo",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  displayname: ACME\n",
			want: []string{`ops/t.yaml:6: field "displayname" not found in Tenant spec; did you mean "display_name"?`},
		},
		{
			name: "tenant of a tenant",
			file: "apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\n  tenant: default\nspec:\n  display_name: ACME\n",
			want: []string{`ops/t.yaml:1: Tenant "acme": metadata.tenant must be empty (a tenant does not belong to a tenant)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := content.Load(testRegistry(), content.Builtin(), source("ops", map[string]string{"t.yaml": tt.file}))
			if got := errorLines(err); !slices.Equal(got, tt.want) {
				t.Fatalf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
			if tt.want == nil {
				it, ok := set.Get(TenantKind, "acme")
				if !ok {
					t.Fatal("tenant acme not loaded")
				}
				if s := it.Spec.(*TenantSpec); s.DisplayName != "ACME Corp" || s.Description != "Managed since 2021." {
					t.Errorf("spec = %+v", s)
				}
			}
		})
	}
}

func TestCheckTenantRefs(t *testing.T) {
	t.Parallel()
	probe := func(name, tenant string) string {
		return "apiVersion: flywheel/v1\nkind: Probe\nmetadata:\n  name: " + name + "\n  tenant: " + tenant + "\nspec:\n  url: https://example.com\n"
	}
	user := source("ops", map[string]string{
		"tenants.yaml": "apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: acme}\nspec: {display_name: ACME}\n---\n" +
			"apiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: globex}\nspec: {dispaly_name: Globex}\n",
		"probes/a.yaml":      probe("on-builtin", "default"),
		"probes/b.yaml":      probe("on-user", "acme"),
		"probes/broken.yaml": probe("on-broken", "globex"), // no cascade from the broken Tenant
		"probes/typo.yaml":   probe("on-typo", "acmee"),
		"probes/all.yaml":    "apiVersion: flywheel/v1\nkind: Probe\nmetadata: {name: everyone}\n",
	})
	set, err := content.Load(strictTenancy(), content.Builtin(), user)
	want := []string{
		`ops/tenants.yaml:9: field "dispaly_name" not found in Tenant spec; did you mean "display_name"?`,
		`ops/probes/typo.yaml:1: Probe "on-typo": metadata.tenant "acmee" is not a declared Tenant (declared: acme, default)`,
	}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Fatalf("errors:\n got: %q\nwant: %q", got, want)
	}
	if n := len(set.Items("Probe")); n != 5 {
		t.Errorf("probes loaded = %d, want 5 (the check reports, it does not drop)", n)
	}
}

func TestCheckTenantRefsListsAFew(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, n := range []string{"t00", "t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11"} {
		b.WriteString("---\napiVersion: flywheel/v1\nkind: Tenant\nmetadata: {name: " + n + "}\nspec: {display_name: " + n + "}\n")
	}
	b.WriteString("---\napiVersion: flywheel/v1\nkind: Probe\nmetadata: {name: p, tenant: nope}\n")
	_, err := content.Load(strictTenancy(), source("", map[string]string{"a.yaml": b.String()}))
	want := []string{`a.yaml:62: Probe "p": metadata.tenant "nope" is not a declared Tenant (declared: t00, t01, t02, t03, t04, t05, t06, t07, t08, t09, and 2 more)`}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Fatalf("errors:\n got: %q\nwant: %q", got, want)
	}
}

// Without CheckTenantRefs, references to tenants created through the API
// (which content cannot see) are fine.
func TestTenantRefsNotCheckedByDefault(t *testing.T) {
	t.Parallel()
	_, err := content.Load(testRegistry(), source("ops", map[string]string{
		"p.yaml": "apiVersion: flywheel/v1\nkind: Probe\nmetadata: {name: p, tenant: created-by-api}\n",
	}))
	if err != nil {
		t.Errorf("Load: %v", err)
	}
}

func TestRegisterAll(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	for _, k := range Foundation() {
		if _, ok := reg.Lookup(k.Name); !ok {
			t.Errorf("kind %s not registered", k.Name)
		}
	}
	if got := reg.Kinds(); !slices.Equal(got, []string{"Application", "BackupPlan", "BusinessCalendar", "CorrelationRule", "DedupRule", "InhibitRule", "IntakeMapping", "MaintenanceWindow", "PatchBaseline", "PatchGroup", "ResourceGroup", "Rule", "Runbook", TenantKind}) {
		t.Errorf("Kinds = %v", got)
	}
}
