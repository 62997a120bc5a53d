package stats

import (
	"os"
	"strings"
	"testing"
)

// TestDocsDraftExample: the drafted rule docs/api.md shows is what Draft
// renders for its example, and it loads with the library with its test
// passing.
func TestDocsDraftExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "```yaml\n# Drafted by Flywheel")
	if start < 0 {
		t.Fatal("docs/api.md has no drafted rule example")
	}
	block := text[start+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	d := Draft{TitlePattern: TitlePattern("nginx down on web-03"), Category: "service", Runbook: "restart-service",
		Parameters: map[string]any{"unit": "nginx"}, Example: "nginx down on web-03", From: "3 OpsItems resolved by hand"}
	y, err := CheckDraft(d, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(y) != block {
		t.Errorf("docs/api.md's example differs from the draft:\n%s\nwant\n%s", block, y)
	}
}
