package content

import (
	"strings"
	"testing"
)

// TestDigest: the digest names the files loaded, not where the directory
// is: the same files under two directory names give one digest; a changed
// byte, an added file or the same file in the built-in library instead of
// a directory give another.
func TestDigest(t *testing.T) {
	reg := testRegistry()
	files := map[string]string{"a.yaml": doc("Widget", "w1", "size: 1"), "sub/b.yaml": doc("Gadget", "g1", "level: 2")}
	digest := func(src Source) string { return mustLoad(t, reg, src).Digest() }

	base := digest(mapSource("/etc/flywheel/content", files))
	if len(base) != 64 {
		t.Fatalf("digest %q is not a hex SHA-256", base)
	}
	if got := digest(mapSource("/srv/other/mount", files)); got != base {
		t.Errorf("same files in another directory: digest %s, want %s", got, base)
	}
	changed := map[string]string{"a.yaml": doc("Widget", "w1", "size: 2"), "sub/b.yaml": files["sub/b.yaml"]}
	added := map[string]string{"a.yaml": files["a.yaml"], "sub/b.yaml": files["sub/b.yaml"], "c.yaml": doc("Gadget", "g2", "level: 3")}
	for name, src := range map[string]Source{
		"changed byte": mapSource("/etc/flywheel/content", changed),
		"added file":   mapSource("/etc/flywheel/content", added),
		"built-in":     mapSource(BuiltinName, files),
	} {
		if got := digest(src); got == base {
			t.Errorf("%s: digest unchanged", name)
		}
	}
}

// TestTenantSource: a source with a Tenant scopes its documents to it (an
// installed pack), changes the digest, and refuses a document that names
// another tenant.
func TestTenantSource(t *testing.T) {
	reg := testRegistry()
	files := map[string]string{"a.yaml": doc("Widget", "w1", "size: 1")}
	plain := mapSource("pack", files)
	scoped := plain
	scoped.Tenant = "acme"
	set := mustLoad(t, reg, scoped)
	if it, ok := set.Get("Widget", "w1"); !ok || it.Tenant != "acme" {
		t.Fatalf("w1 = %+v, %v; want tenant acme", it, ok)
	}
	if mustLoad(t, reg, plain).Digest() == set.Digest() {
		t.Error("a tenant's source has the digest of the unscoped one")
	}
	other := mapSource("pack", map[string]string{"a.yaml": "apiVersion: flywheel/v1\nkind: Widget\nmetadata:\n  name: w1\n  tenant: globex\nspec:\n  size: 1\n"})
	other.Tenant = "acme"
	_, err := Load(reg, other)
	if err == nil || !strings.Contains(err.Error(), `metadata.tenant "globex", but this source belongs to tenant "acme"`) {
		t.Errorf("err = %v", err)
	}
}
