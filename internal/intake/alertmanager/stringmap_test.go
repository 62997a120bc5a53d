package alertmanager

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
)

func TestStringMap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{`{}`, map[string]string{}, ""},
		{`null`, nil, ""},
		{` { "a" : "b" , "c":"d" } `, map[string]string{"a": "b", "c": "d"}, ""},
		{`{"a":"b","a":"c"}`, map[string]string{"a": "c"}, ""},
		{`{"esc\"aped":"tab\there \u00e9 \ud83d\ude00 \/"}`, map[string]string{"esc\"aped": "tab\there é 😀 /"}, ""},
		{`{"utf8":"héllo wörld"}`, map[string]string{"utf8": "héllo wörld"}, ""},
		{"{\"bad\":\"\xff\"}", map[string]string{"bad": "\ufffd"}, ""},
		{`{"a,b":"c,d","e":"f"}`, map[string]string{"a,b": "c,d", "e": "f"}, ""},
		{`{"n":1}`, nil, "json: cannot unmarshal number into Go struct field .n of type string"},
		{`{"n":null}`, nil, "json: cannot unmarshal null into Go struct field .n of type string"},
		{`[]`, nil, "json: cannot unmarshal array into Go value of type map[string]string"},
	}
	for _, c := range cases {
		var m stringMap
		err := json.Unmarshal([]byte(c.in), &m)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: error %v, want %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !maps.Equal(m.m, c.want) || (m.m == nil) != (c.want == nil) {
			t.Errorf("%s: got %#v, %v; want %#v", c.in, m.m, err, c.want)
		}
	}
}

func TestStringMapInterns(t *testing.T) {
	t.Parallel()
	in := interner{}
	a, b := stringMap{in: in}, stringMap{in: in}
	if err := json.Unmarshal([]byte(`{"job":"node"}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"job":"node"}`), &b); err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || a.m["job"] != "node" || b.m["job"] != "node" {
		t.Errorf("interner %v, a %v, b %v", in, a.m, b.m)
	}
}

// FuzzStringMap checks the hand-written decoder against encoding/json: the
// same map whenever encoding/json succeeds (except for null values, which
// are rejected on purpose), and an error whenever it fails.
func FuzzStringMap(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a\u0000":"\ud800"}`, `{"a":1}`, `null`, `{"a":"b",}`, `{"a" "b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want map[string]string
		stdErr := json.Unmarshal(in, &want)
		got := stringMap{in: interner{}}
		err := json.Unmarshal(in, &got)
		var typ *json.UnmarshalTypeError
		switch {
		case err != nil && errors.As(err, &typ) && typ.Value == "null" && stdErr == nil:
			// {"k": null}: encoding/json stores "", we reject.
		case (err == nil) != (stdErr == nil):
			t.Fatalf("%q: error %v, encoding/json %v", in, err, stdErr)
		case err == nil && !maps.Equal(got.m, want):
			t.Fatalf("%q: got %#v, encoding/json %#v", in, got.m, want)
		}
		// A direct call with arbitrary bytes must not panic.
		var direct stringMap
		_ = direct.UnmarshalJSON(in)
	})
}
