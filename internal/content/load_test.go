package content

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestLoadErrors pins the exact message of every kind of problem: each
// names the file and line, and the field or kind at fault.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "unknown field in spec",
			files: map[string]string{"rules/disk.yaml": doc("Widget", "w", "size: 1\ncolr: red\n")},
			want:  []string{`ops/rules/disk.yaml:7: field "colr" not found in Widget spec; did you mean "color"?`},
		},
		{
			name:  "unknown field nested in a list",
			files: map[string]string{"w.yaml": doc("Widget", "w", "steps:\n- name: a\n  when: x\n- name: b\n  whne: y\n")},
			want:  []string{`ops/w.yaml:10: field "whne" not found in Widget spec.steps[1]; did you mean "when"?`},
		},
		{
			name:  "unknown field in a map value",
			files: map[string]string{"w.yaml": doc("Widget", "w", "params:\n  p1: {tpye: int}\n")},
			want:  []string{`ops/w.yaml:7: field "tpye" not found in Widget spec.params.p1; did you mean "type"?`},
		},
		{
			name:  "unknown field of an inline struct",
			files: map[string]string{"w.yaml": doc("Widget", "w", "ownr: me\n")},
			want:  []string{`ops/w.yaml:6: field "ownr" not found in Widget spec; did you mean "owner"?`},
		},
		{
			name:  "unknown field with nothing close",
			files: map[string]string{"w.yaml": doc("Widget", "w", "frobnicate: true\n")},
			want:  []string{`ops/w.yaml:6: field "frobnicate" not found in Widget spec`},
		},
		{
			name:  "unknown top-level field",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: g}\nspecs: {}\n"},
			want:  []string{`ops/w.yaml:4: field "specs" not found in document; did you mean "spec"? (want apiVersion, kind, metadata, spec)`},
		},
		{
			name:  "unknown metadata field",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: g\n  lables: {a: b}\n"},
			want:  []string{`ops/w.yaml:5: field "lables" not found in metadata; did you mean "labels"?`},
		},
		{
			name:  "unknown kind",
			files: map[string]string{"w.yaml": doc("Widgit", "w", "size: 1\n")},
			want:  []string{`ops/w.yaml:2: unknown kind "Widgit"; did you mean "Widget"? (known kinds: Gadget, Widget)`},
		},
		{
			name:  "unknown kind, wrong case",
			files: map[string]string{"w.yaml": doc("widget", "w", "")},
			want:  []string{`ops/w.yaml:2: unknown kind "widget"; did you mean "Widget"? (known kinds: Gadget, Widget)`},
		},
		{
			name:  "missing kind",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nmetadata: {name: w}\n"},
			want:  []string{`ops/w.yaml:1: kind is required; known kinds: Gadget, Widget`},
		},
		{
			name:  "missing metadata.name",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  description: nameless\n"},
			want:  []string{`ops/w.yaml:3: metadata.name is required`},
		},
		{
			name:  "missing metadata",
			files: map[string]string{"w.yaml": "\n\napiVersion: flywheel/v1\nkind: Gadget\n"},
			want:  []string{`ops/w.yaml:3: metadata.name is required`},
		},
		{
			name:  "empty metadata.name",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: \"\"\n"},
			want:  []string{`ops/w.yaml:4: metadata.name must not be empty`},
		},
		{
			name:  "invalid metadata.name",
			files: map[string]string{"w.yaml": doc("Gadget", "disk full", "")},
			want:  []string{`ops/w.yaml:4: metadata.name "disk full" is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 253 characters`},
		},
		{
			name:  "bad apiVersion",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v2\nkind: Gadget\nmetadata: {name: g}\n"},
			want:  []string{`ops/w.yaml:1: unsupported apiVersion "flywheel/v2"; want "flywheel/v1"`},
		},
		{
			name:  "missing apiVersion",
			files: map[string]string{"w.yaml": "kind: Gadget\nmetadata: {name: g}\n"},
			want:  []string{`ops/w.yaml:1: apiVersion is required ("flywheel/v1")`},
		},
		{
			name:  "not a mapping",
			files: map[string]string{"w.yaml": "- 1\n- 2\n"},
			want:  []string{`ops/w.yaml:1: a document must be a mapping with apiVersion, kind, metadata and spec, not a list`},
		},
		{
			name:  "wrong type, with the field's path",
			files: map[string]string{"w.yaml": doc("Widget", "w", "size: big\n")},
			want:  []string{"ops/w.yaml:6: spec.size: cannot unmarshal !!str `big` into int"},
		},
		{
			name:  "wrong metadata type",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: g\n  labels: [a, b]\n"},
			want:  []string{"ops/w.yaml:5: metadata.labels: cannot unmarshal !!seq into map[string]string"},
		},
		{
			name:  "repeated key",
			files: map[string]string{"w.yaml": doc("Widget", "w", "size: 1\nsize: 2\n")},
			want:  []string{`ops/w.yaml:7: mapping key "size" already defined at line 6`},
		},
		{
			name:  "YAML syntax error (scanner)",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: name: g\n"},
			want:  []string{`ops/w.yaml:3: invalid YAML: mapping values are not allowed in this context`},
		},
		{
			name:  "YAML syntax error (parser)",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: [g}\n"},
			want:  []string{`ops/w.yaml:3: invalid YAML: did not find expected ',' or ']'`},
		},
		{
			name:  "tab indentation",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n\tname: g\n"},
			want:  []string{`ops/w.yaml:4: invalid YAML: found character that cannot start any token`},
		},
		{
			name:  "unknown anchor",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: *nm\n"},
			want:  []string{`ops/w.yaml:4: invalid YAML: unknown anchor 'nm' referenced`},
		},
		{
			name:  "control character",
			files: map[string]string{"w.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: g\x01\n"},
			want:  []string{`ops/w.yaml:4: invalid YAML: control characters are not allowed`},
		},
		{
			name: "syntax error after good documents keeps them",
			files: map[string]string{"w.yaml": doc("Gadget", "a", "") + "---\n" + doc("Gadget", "b", "levl: 1\n") +
				"---\nkind: : :\n"},
			want: []string{
				`ops/w.yaml:11: field "levl" not found in Gadget spec; did you mean "level"?`,
				`ops/w.yaml:13: invalid YAML: mapping values are not allowed in this context`,
			},
		},
		{
			name: "validate: field and document errors",
			files: map[string]string{"w.yaml": doc("Widget", "w",
				"size: -1\ncolor: green\nsteps:\n- name: a\n  when: x\n- name: b\n")},
			want: []string{
				`ops/w.yaml:5: invalid Widget spec: size must not be negative`,
				`ops/w.yaml:7: spec.color: must be red or blue, not "green"`,
				`ops/w.yaml:11: spec.steps[1].when: is required`,
			},
		},
		{
			name: "duplicate within a file",
			files: map[string]string{"w.yaml": doc("Gadget", "g", "") + "---\n" + doc("Widget", "g", "") +
				"---\n" + doc("Gadget", "g", "")},
			want: []string{`ops/w.yaml:11: duplicate Gadget "g": already defined at ops/w.yaml:1`},
		},
		{
			name: "duplicate across files of one source",
			files: map[string]string{
				"a/one.yaml": doc("Gadget", "g", ""),
				"b/two.yaml": "# a comment\n" + doc("Gadget", "g", ""),
			},
			want: []string{`ops/b/two.yaml:2: duplicate Gadget "g": already defined at ops/a/one.yaml:1`},
		},
		{
			name: "errors from several files, in path order",
			files: map[string]string{
				"z.yaml":       doc("Gadget", "z", "levle: 1\n"),
				"a.yml":        doc("Nope", "a", ""),
				"m/inner.yaml": "apiVersion: v1\nkind: Gadget\nmetadata: {name: m}\n",
				"ok.yaml":      doc("Gadget", "ok", ""),
			},
			want: []string{
				`ops/a.yml:2: unknown kind "Nope" (known kinds: Gadget, Widget)`,
				`ops/m/inner.yaml:1: unsupported apiVersion "v1"; want "flywheel/v1"`,
				`ops/z.yaml:6: field "levle" not found in Gadget spec; did you mean "level"?`,
			},
		},
		{
			name:  "every problem in one document",
			files: map[string]string{"w.yaml": "apiVersion: x\nkind: Widget\nmetadata:\n  name: w\n  nmae: w\nspec:\n  size: 1\n  sise: 2\n"},
			want: []string{
				`ops/w.yaml:1: unsupported apiVersion "x"; want "flywheel/v1"`,
				`ops/w.yaml:5: field "nmae" not found in metadata; did you mean "name"?`,
				`ops/w.yaml:8: field "sise" not found in Widget spec; did you mean "size"?`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(testRegistry(), mapSource("ops", tt.files))
			got := errorLines(err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}

func TestLoadItems(t *testing.T) {
	t.Parallel()
	src := mapSource("ops", map[string]string{
		"multi.yaml": "# leading comment\n---\n---\n" + doc("Gadget", "b", "") + "---\n" +
			"apiVersion: flywheel/v1\nkind: Gadget\nmetadata:\n  name: a\n  description: first\n" +
			"  labels: {team: sre}\n  tenant: acme\nspec:\n  level: 7\n" + "---\n",
		"w.yml":              doc("Widget", "w", "size: 2\nsteps:\n- {name: s, when: 'true'}\n"),
		"empty.yaml":         "",
		"comments.yaml":      "# nothing here\n",
		"nested/deep/g.yaml": doc("Gadget", "c", "level: null\n"),
		"notes.txt":          "kind: Nope",
		"README.md":          "# not content",
		".hidden/x.yaml":     "kind: Nope",
		".x.yaml":            "kind: Nope",
		"sub/.git/y.yaml":    "kind: Nope",
	})
	set := mustLoad(t, testRegistry(), src)

	gadgets := set.Items("Gadget")
	var names []string
	for _, g := range gadgets {
		names = append(names, g.Name)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(names, want) {
		t.Fatalf("Gadget names = %v, want %v (sorted)", names, want)
	}
	a := gadgets[0]
	if a.Description != "first" || a.Labels["team"] != "sre" || a.Tenant != "acme" || a.Kind != "Gadget" {
		t.Errorf("envelope of a = %+v", a)
	}
	if got := a.Spec.(*gadgetSpec).Level; got != 7 {
		t.Errorf("a.level = %d, want 7", got)
	}
	if want := (Origin{Source: "ops", File: "multi.yaml", Line: 9}); a.Origin != want {
		t.Errorf("a.Origin = %v, want %v", a.Origin, want)
	}
	if got := gadgets[1].Spec.(*gadgetSpec).Level; got != 3 {
		t.Errorf("b has no spec: level = %d, want New's default 3", got)
	}
	if got := gadgets[2].Spec.(*gadgetSpec).Level; got != 3 {
		t.Errorf("c sets level: null: level = %d, want New's default 3", got)
	}
	if got := gadgets[2].Origin.String(); got != "ops/nested/deep/g.yaml:1" {
		t.Errorf("c origin = %s", got)
	}

	w, ok := set.Get("Widget", "w")
	if !ok {
		t.Fatal("Get(Widget, w) not found")
	}
	if s := w.Spec.(*widgetSpec); s.Size != 2 || len(s.Steps) != 1 || s.Steps[0].When != "true" {
		t.Errorf("widget spec = %+v", s)
	}
	if _, ok := set.Get("Widget", "nope"); ok {
		t.Error("Get(Widget, nope) found")
	}
	if _, ok := set.Get("Nope", "w"); ok {
		t.Error("Get(Nope, w) found")
	}
	if got := set.Kinds(); !slices.Equal(got, []string{"Gadget", "Widget"}) {
		t.Errorf("Kinds = %v", got)
	}
	if set.Len() != 4 {
		t.Errorf("Len = %d, want 4", set.Len())
	}
	st := set.Summary().Sources[0]
	if want := (SourceStats{Name: "ops", Files: 5, Documents: 4, Loaded: 4}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

// Items returns a copy: callers may sort or append without touching the set.
func TestItemsIsACopy(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, testRegistry(), mapSource("", map[string]string{
		"g.yaml": doc("Gadget", "a", "") + "---\n" + doc("Gadget", "b", ""),
	}))
	items := set.Items("Gadget")
	items[0], items[1] = items[1], items[0]
	if set.Items("Gadget")[0].Name != "a" {
		t.Error("modifying Items' result changed the set")
	}
	if set.Items("Widget") != nil {
		t.Error("Items of a kind with no items should be nil")
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	lib := mapSource(BuiltinName, map[string]string{
		"gadgets/a.yaml": doc("Gadget", "a", "level: 1\n"),
		"gadgets/b.yaml": doc("Gadget", "b", "level: 1\n"),
	})
	team := mapSource("team", map[string]string{"a.yaml": doc("Gadget", "a", "level: 2\n")})
	user := mapSource("ops", map[string]string{
		"override.yaml": "# mine\n" + doc("Gadget", "a", "level: 3\n"),
		"c.yaml":        doc("Gadget", "c", ""),
	})
	set := mustLoad(t, testRegistry(), lib, team, user)

	a, _ := set.Get("Gadget", "a")
	if got := a.Spec.(*gadgetSpec).Level; got != 3 {
		t.Errorf("a.level = %d, want the last source's 3", got)
	}
	if got := a.Origin.String(); got != "ops/override.yaml:2" {
		t.Errorf("a.Origin = %s", got)
	}
	wantOver := []Origin{{BuiltinName, "gadgets/a.yaml", 1}, {"team", "a.yaml", 1}}
	if !slices.Equal(a.Overrides, wantOver) {
		t.Errorf("a.Overrides = %v, want %v", a.Overrides, wantOver)
	}
	b, _ := set.Get("Gadget", "b")
	if b.Origin.Source != BuiltinName || b.Overrides != nil {
		t.Errorf("b = %+v, want untouched built-in", b)
	}
	if set.Len() != 3 {
		t.Errorf("Len = %d, want 3", set.Len())
	}
	sum := set.Summary()
	if sum.Sources[2].Overrides != 1 || sum.Sources[1].Overrides != 1 || sum.Sources[0].Overrides != 0 {
		t.Errorf("override counts = %+v", sum.Sources)
	}
	want := "<builtin>: 2 files, 2 documents\nteam: 1 file, 1 document, 1 override\nops: 2 files, 2 documents, 1 override\nGadget: 3\n"
	if got := sum.String(); got != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", got, want)
	}
}

// A user document with errors does not replace the built-in item, but its
// name still counts as defined.
func TestBrokenOverrideKeepsEarlier(t *testing.T) {
	t.Parallel()
	lib := mapSource(BuiltinName, map[string]string{"a.yaml": doc("Gadget", "a", "level: 1\n")})
	user := mapSource("ops", map[string]string{
		"a.yaml": doc("Gadget", "a", "levl: 2\n"),
		"b.yaml": doc("Gadget", "b", "levl: 2\n"),
	})
	set, err := Load(testRegistry(), lib, user)
	if len(Errors(err)) != 2 {
		t.Fatalf("want 2 errors, got %q", errorLines(err))
	}
	a, ok := set.Get("Gadget", "a")
	if !ok || a.Spec.(*gadgetSpec).Level != 1 {
		t.Errorf("a = %+v, want the built-in", a)
	}
	if _, ok := set.Get("Gadget", "b"); ok {
		t.Error("broken b was loaded")
	}
	if !set.Defined("Gadget", "b") || set.Defined("Gadget", "zzz") {
		t.Error("Defined: want b defined (though broken), zzz not")
	}
	want := "<builtin>: 1 file, 1 document\nops: 2 files, 2 documents (2 with errors)\nGadget: 1\n"
	if got := set.Summary().String(); got != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", got, want)
	}
}

func TestErrorValues(t *testing.T) {
	t.Parallel()
	_, err := Load(testRegistry(), mapSource("ops", map[string]string{
		"w.yaml": doc("Widget", "w", "color: green\n"),
	}))
	errs := Errors(err)
	if len(errs) != 1 {
		t.Fatalf("errors = %q", errorLines(err))
	}
	e, ok := errs[0].(*Error)
	if !ok {
		t.Fatalf("error is %T, want *Error", errs[0])
	}
	if want := (Origin{"ops", "w.yaml", 6}); e.Origin != want {
		t.Errorf("Origin = %v, want %v", e.Origin, want)
	}
	var fe *FieldError
	if !errorsAs(err, &fe) || fe.Field != "color" {
		t.Errorf("errors.As FieldError = %v", fe)
	}
}

func TestLoadSourceProblems(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("#", maxFileSize+1)
	_, err := Load(testRegistry(),
		Source{Name: "nil"},
		Dir("testdata/does-not-exist"),
		mapSource("big", map[string]string{"big.yaml": big}),
	)
	want := []string{
		"nil: no file system",
		"testdata/does-not-exist: no such file or directory",
		"big/big.yaml: file is larger than the 4 MiB limit",
	}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
}

func TestValidatePanicIsAnError(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	reg.Register(Kind{Name: "Boom", New: func() any { return new(gadgetSpec) },
		Validate: func(any) error { panic("kaboom") }})
	_, err := Load(reg, mapSource("ops", map[string]string{"b.yaml": doc("Boom", "b", "level: 1\n")}))
	want := []string{"ops/b.yaml:5: internal error validating Boom spec: kaboom"}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	reg := testRegistry()
	var saw int
	reg.RegisterCheck(func(s *Set) error {
		saw = s.Len()
		var errs []error
		for _, it := range s.Items("Gadget") {
			if it.Tenant != "" && !s.Defined("Widget", it.Tenant) {
				errs = append(errs, &Error{Origin: it.Origin, Msg: "no widget " + it.Tenant})
			}
		}
		return joinErrors(errs)
	})
	lib := mapSource(BuiltinName, map[string]string{"w.yaml": doc("Widget", "w1", "")})
	user := mapSource("ops", map[string]string{
		"g.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: g1, tenant: w1}\n---\n" +
			"apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: g2, tenant: w2}\n---\n" +
			"apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: g3, tenant: w3}\n---\n" +
			doc("Widget", "w3", "size: x\n"),
	})
	_, err := Load(reg, lib, user)
	want := []string{
		"ops/g.yaml:18: spec.size: cannot unmarshal !!str `x` into int",
		"ops/g.yaml:5: no widget w2",
	}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
	if saw != 4 {
		t.Errorf("check saw %d items, want the merged 4", saw)
	}
}

// A PerTenant kind keeps one item of a name per tenant: a shared one, each
// tenant's (from metadata.tenant or a tenant source, as a pack installed
// for it), side by side; a later source replaces only the same tenant's.
// Other kinds keep one item per name, whatever the tenant.
func TestPerTenantNames(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	reg.Register(Kind{Name: "Gadget", New: func() any { return &gadgetSpec{Level: 3} }, PerTenant: true})
	reg.Register(widgetKind())
	lib := mapSource(BuiltinName, map[string]string{
		"a.yaml": doc("Gadget", "a", "level: 1\n"),
		"w.yaml": doc("Widget", "w", "size: 1\n"),
	})
	acme := mapSource("<pack p>", map[string]string{"a.yaml": doc("Gadget", "a", "level: 2\n")})
	acme.Tenant = "acme"
	globex := mapSource("<pack p>", map[string]string{"a.yaml": doc("Gadget", "a", "level: 4\n")})
	globex.Tenant = "globex"
	user := mapSource("ops", map[string]string{
		"a.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: a, tenant: globex}\nspec: {level: 5}\n",
		"w.yaml": "apiVersion: flywheel/v1\nkind: Widget\nmetadata: {name: w, tenant: globex}\nspec: {size: 2}\n",
	})
	set := mustLoad(t, reg, lib, acme, globex, user)

	var got []string
	for _, it := range set.Items("Gadget") {
		got = append(got, fmt.Sprintf("%s/%s=%d over %d", it.Tenant, it.Name, it.Spec.(*gadgetSpec).Level, len(it.Overrides)))
	}
	if want := []string{"/a=1 over 0", "acme/a=2 over 0", "globex/a=5 over 1"}; !slices.Equal(got, want) {
		t.Errorf("Gadget items %q, want %q", got, want)
	}
	for tenant, want := range map[string]int{"": 1, "acme": 2, "globex": 5, "initech": 1} {
		if it, ok := set.GetFor("Gadget", "a", tenant); !ok || it.Spec.(*gadgetSpec).Level != want {
			t.Errorf("GetFor(%q) = level %v, %v; want %d", tenant, it.Spec, ok, want)
		}
	}
	if it, ok := set.Get("Gadget", "a"); !ok || it.Tenant != "" {
		t.Errorf("Get = %+v, want the shared item", it)
	}
	if _, ok := set.GetFor("Gadget", "b", "acme"); ok {
		t.Error("GetFor found an item nobody defines")
	}
	// Widget is one per server: the tenant's document replaced the shared one.
	if ws := set.Items("Widget"); len(ws) != 1 || ws[0].Tenant != "globex" || len(ws[0].Overrides) != 1 {
		t.Errorf("Widget items %+v, want globex's in place of the shared one", ws)
	}

	// Twice for one tenant within a source is still a duplicate.
	dup := mapSource("ops", map[string]string{
		"1.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: a, tenant: acme}\nspec: {}\n",
		"2.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: a, tenant: acme}\nspec: {}\n",
		"3.yaml": "apiVersion: flywheel/v1\nkind: Gadget\nmetadata: {name: a, tenant: globex}\nspec: {}\n",
	})
	if _, err := Load(reg, dup); err == nil || !strings.Contains(err.Error(), `duplicate Gadget "a"`) || strings.Count(err.Error(), "duplicate") != 1 {
		t.Errorf("one tenant's name twice: %v", err)
	}
}
