package content

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes as one content file. Load must never
// panic, and every problem it reports must name the file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(doc("Widget", "w", "size: 1\ncolor: red\nsteps:\n- {name: a, when: x}\n")))
	f.Add([]byte(doc("Widget", "w", "colr: red\nsteps:\n- whne: x\nparams: {p: {tpye: 1}}\n")))
	f.Add([]byte("---\n" + doc("Gadget", "a", "") + "---\n" + doc("Gadget", "a", "") + "---\n- 1\n"))
	f.Add([]byte("apiVersion: flywheel/v1\nkind: Gadget\nmetadata: &m {name: g}\nspec: *m\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("kind: [Widget]\nmetadata: {name: {x: 1}}\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Add([]byte("%YAML 1.2\n---\n!!binary x: y\n"))
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		src := Source{Name: "fz", FS: fstest.MapFS{"f.yaml": {Data: data}}}
		set, err := Load(reg, src)
		if set == nil {
			t.Fatal("Load returned a nil set")
		}
		for _, e := range Errors(err) {
			if !strings.HasPrefix(e.Error(), "fz/f.yaml") {
				t.Errorf("error does not name the file: %q", e)
			}
		}
		for _, kind := range set.Kinds() {
			for _, it := range set.Items(kind) {
				if it.Spec == nil || it.Name == "" || it.Origin.Line < 1 {
					t.Errorf("malformed item %+v", it)
				}
			}
		}
	})
}
