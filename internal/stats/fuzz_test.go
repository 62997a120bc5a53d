package stats

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTitlePattern: titles come from events, so from anyone who can send
// one. Normalizing is idempotent, leaves no identifying digits, and the
// drafted rule's regular expression compiles and matches the title.
func FuzzTitlePattern(f *testing.F) {
	for _, s := range []string{"Disk almost full on web-03 (93%)", "EC2 i-0abc stopped", " a \t b\n", "ü 1€ 2", "", "\xff\x00", "x+y(z)[*]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		p := TitlePattern(title)
		if q := TitlePattern(p); q != p {
			t.Fatalf("not idempotent: %q → %q → %q", title, p, q)
		}
		for _, w := range strings.FieldsFunc(p, func(r rune) bool { return !(r < 128 && isWordByte(byte(r))) }) {
			if hasDigit(w) && !(len(w) > 1 && !hasDigit(w[:len(w)-1])) {
				t.Fatalf("%q keeps the number %q", p, w)
			}
		}
		if !utf8.ValidString(title) || strings.Contains(title, "*") {
			return // a literal "*" reads as the wildcard; invalid UTF-8 is not a title
		}
		re, err := regexp.Compile(patternRegexp(p))
		if err != nil {
			t.Fatalf("pattern %q: %v", p, err)
		}
		if !re.MatchString(strings.Trim(title, " \t\n\r\f")) {
			t.Fatalf("%s does not match %q", re, title)
		}
	})
}
