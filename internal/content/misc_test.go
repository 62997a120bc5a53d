package content

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestOriginString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    Origin
		want string
	}{
		{Origin{"ops", "rules/disk.yaml", 12}, "ops/rules/disk.yaml:12"},
		{Origin{".", "a.yaml", 1}, "a.yaml:1"},
		{Origin{"/etc/flywheel/content/", "a.yaml", 3}, "/etc/flywheel/content/a.yaml:3"},
		{Origin{BuiltinName, "tenants/default.yaml", 11}, "<builtin>/tenants/default.yaml:11"},
		{Origin{"", "a.yaml", 0}, "a.yaml"},
		{Origin{"ops", "", 0}, "ops"},
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	fields := []string{"when", "then", "name", "display_name", "description"}
	tests := []struct{ in, want string }{
		{"whne", "when"}, // transposition
		{"When", "when"}, // case
		{"nmae", "name"}, // transposition
		{"displayname", "display_name"},
		{"displayName", "display_name"},
		{"descripton", "description"},
		{"xyz", ""},
		{"thn", "then"},
		{"tehn", "then"},
		{"wen", "when"},
		{"ab", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameSyntax(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "disk-full", "AWS-RestartEC2Instance", "cis_5.2", "0day"} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q) = %v", ok, err)
		}
	}
	long := make([]byte, maxNameLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", "-a", ".a", "a b", "a/b", "a:b", "é", string(long)} {
		if checkName(bad) == nil {
			t.Errorf("checkName(%q) accepted", bad)
		}
	}
}

func TestFindPath(t *testing.T) {
	t.Parallel()
	src := "a: 1\nsteps:\n  - name: x\n    when: y\n  - name: z\nm:\n  k: {v: 1}\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	tests := []struct {
		path string
		line int
	}{
		{"a", 1},
		{"steps", 2},
		{"steps[0].when", 4},
		{"steps[1].name", 5},
		{"steps[1].when", 5}, // missing: nearest existing ancestor
		{"steps[9].when", 2},
		{"m.k.v", 7},
		{"nope", 1},
		{"", 1},
		{"steps[x]", 2},
	}
	for _, tt := range tests {
		if n := findPath(root, tt.path); n == nil || n.Line != tt.line {
			t.Errorf("findPath(%q) line = %v, want %d", tt.path, n, tt.line)
		}
	}
	if p := parsePath("steps[2][3].when"); p.String() != "steps[2][3].when" {
		t.Errorf("parsePath round trip = %q", p.String())
	}
}
