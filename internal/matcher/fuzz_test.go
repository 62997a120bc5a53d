package matcher

import "testing"

// FuzzParseList holds the parser to two properties on any input: it never
// panics, and whatever it accepts prints back (String) to text that parses
// to the same matchers and prints the same again.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		`{alertname="DiskFull", instance=~"db-.*"}`,
		`a=b,c!=d,`,
		`{foo = "bar", dings != "bums", }`,
		`"service.name"!~"batch|cron"`,
		`msg="She said: \"Hi\"\n"`,
		`a=~"(unclosed"`,
		`{a=b`,
		`é="☕"`,
		"a=\"\\xff\"",
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseList(s)
		if err != nil {
			if pe, ok := err.(*ParseError); !ok {
				t.Fatalf("ParseList(%q) error %T is not a *ParseError", s, err)
			} else if pe.Column() < 1 {
				t.Fatalf("ParseList(%q): column %d", s, pe.Column())
			}
			return
		}
		printed := ms.String()
		again, err := ParseList(printed)
		if err != nil {
			t.Fatalf("ParseList(%q) = %s, which does not parse: %v", s, printed, err)
		}
		if len(again) != len(ms) {
			t.Fatalf("%q → %s → %d matchers, want %d", s, printed, len(again), len(ms))
		}
		for i := range ms {
			if again[i].Name != ms[i].Name || again[i].Type != ms[i].Type || again[i].Value != ms[i].Value {
				t.Fatalf("%q → %s: matcher %d became %+v, was %+v", s, printed, i, again[i], ms[i])
			}
			one, err := Parse(ms[i].String())
			if err != nil || one.String() != ms[i].String() {
				t.Fatalf("Parse(%s) = %v, %v", ms[i], one, err)
			}
		}
		if again.String() != printed {
			t.Fatalf("printing is not stable: %s then %s", printed, again)
		}
	})
}
