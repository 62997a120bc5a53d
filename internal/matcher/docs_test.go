package matcher

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestDocExamples parses every line of the ```matchers blocks in
// docs/deflection.md: each is a matcher or a list of them.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	const page = "../../docs/deflection.md"
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, n, line := false, 0, 0
	for sc.Scan() {
		line++
		l := sc.Text()
		switch {
		case !in && strings.TrimSpace(l) == "```matchers":
			in = true
		case in && strings.TrimSpace(l) == "```":
			in = false
		case in && strings.TrimSpace(l) != "":
			n++
			ms, err := ParseList(l)
			if err != nil || len(ms) == 0 {
				t.Errorf("%s:%d: %q: %v", page, line, l, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("found %d matcher examples in %s; has the page's format changed?", n, page)
	}
}
