package celexpr

import (
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
)

func testEnv(t *testing.T) *cel.Env {
	t.Helper()
	e, err := cel.NewEnv(cel.Variable("x", cel.StringType))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCompile(t *testing.T) {
	e := testEnv(t)
	for _, c := range []struct {
		src, err string
		want     []*cel.Type
	}{
		{src: `x == "a"`, want: []*cel.Type{cel.BoolType}},
		{src: `x + "!"`},
		{src: "  ", err: "is empty"},
		{src: strings.Repeat("x", 65), err: "is 65 bytes long; expressions are limited to 64"},
		{src: `x + 1`, err: "found no matching overload for '_+_'"},
		{src: `x`, want: []*cel.Type{cel.BoolType, cel.IntType}, err: "must be of type bool or int, not string"},
	} {
		_, err := Compile(e, c.src, 64, nil, c.want...)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.src, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one containing %q", c.src, err, c.err)
		}
	}
}

// TestIssuesPositions: a short one-line expression's error has no position,
// a long one's a column, a multi-line one's a line and column.
func TestIssuesPositions(t *testing.T) {
	e := testEnv(t)
	for src, want := range map[string]string{
		`y`: "undeclared reference to 'y'",
		`x == "` + strings.Repeat("a", 40) + `" || y`: "(column 52)",
		"x == \"a\" ||\n  y":                          "(line 2, column 3)",
	} {
		_, iss := e.Compile(src)
		err := Issues(src, iss)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "container") {
			t.Errorf("%q: %v, want it to contain %q", src, err, want)
		}
	}
}

func TestMetered(t *testing.T) {
	e := testEnv(t)
	for _, c := range []struct {
		src        string
		alsoLinear []string
		want       bool
	}{
		{src: `x.startsWith("a") && size(x) > 2`, want: false},
		{src: `[x].exists(y, y == "a")`, want: true},
		{src: `timestamp(x) > timestamp("2026-01-01T00:00:00Z")`, want: true},
		{src: `timestamp(x) > timestamp("2026-01-01T00:00:00Z")`, alsoLinear: []string{"timestamp"}, want: false},
	} {
		a, iss := e.Compile(c.src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", c.src, iss.Err())
		}
		if got := Metered(a.NativeRep(), c.alsoLinear...); got != c.want {
			t.Errorf("Metered(%s, %v) = %v, want %v", c.src, c.alsoLinear, got, c.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	names := []string{"labels", "source", "title"}
	for field, want := range map[string]string{
		"lables":   `; did you mean "labels"?`, // neighbours swapped
		"Source":   `; did you mean "source"?`, // case
		"titl":     `; did you mean "title"?`,  // one deleted
		"titlee":   `; did you mean "title"?`,  // one added
		"sourse":   `; did you mean "source"?`, // one changed
		"lab":      "",
		"severity": "",
	} {
		if got := DidYouMean(field, names); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", field, got, want)
		}
	}
}
