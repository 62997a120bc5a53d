// Package mdtest reads the fenced code blocks of a Markdown page, for the
// tests that run the examples of the pages under docs/.
package mdtest

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// Block is one fenced code block.
type Block struct {
	Lang  string   // the info string after the opening ```
	Lines []string // the lines between the fences
	Line  int      // the opening fence's line, from 1
}

// Text is the block's content, each line ended by a newline.
func (b Block) Text() string { return strings.Join(b.Lines, "\n") + "\n" }

// Blocks returns the fenced code blocks of the Markdown file at path; a
// block left open fails the test.
func Blocks(t testing.TB, path string) []Block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []Block
		cur *Block
		n   int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &Block{Lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), Line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.Lines = append(cur.Lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", path, cur.Line)
	}
	return out
}
