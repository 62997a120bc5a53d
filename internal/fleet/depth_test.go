package fleet

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONDepth(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		`1`: 0, `"x"`: 0, `{}`: 1, `[]`: 1, `{"a":[1,{"b":2}]}`: 3, `["[[[", "\"]{"]`: 1, `[[],[[]]]`: 3,
		strings.Repeat("[", 9000) + strings.Repeat("]", 9000): 9000,
	} {
		if got := jsonDepth([]byte(in)); got != want {
			t.Errorf("jsonDepth(%.40s) = %d, want %d", in, got, want)
		}
	}
}

// FuzzJSONDepth checks jsonDepth against encoding/json: a document it
// counts within the bound decodes, and its depth matches a recursive count.
func FuzzJSONDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"]"}]}`, `[[[[]]]]`, `"\\\""`, `{"k":"v\u005b"}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		if got, want := jsonDepth([]byte(s)), depthOf(v); got != want {
			t.Fatalf("jsonDepth(%q) = %d, decoded depth %d", s, got, want)
		}
	})
}

func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}
