package opsitem

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzActionValidate: whatever a person sends, Validate never panics, and
// what it accepts is within the limits — a known kind, a note with text,
// an assignee without control characters, a valid status, UTF-8 text.
func FuzzActionValidate(f *testing.F) {
	for _, k := range []string{Acknowledge, Assign, Note, SetStatus, Resolve, RunRunbook, "bogus", ""} {
		f.Add(k, "dana", "open", "checked the logs")
	}
	f.Add(Assign, "a\nb", "", "")
	f.Add(Note, "", "", "   ")
	f.Add(SetStatus, "", "closed", "")
	f.Add(Note, "", "", "\xff")
	f.Fuzz(func(t *testing.T, kind, assignee, status, text string) {
		a := Action{Kind: kind, Assignee: assignee, Status: status, Text: text}
		if err := a.Validate(); err != nil {
			if _, ok := IsInvalid(err); !ok {
				t.Fatalf("Validate(%+v) = %T, want *InvalidError", a, err)
			}
			return
		}
		switch {
		case kind == Note && strings.TrimSpace(text) == "":
			t.Fatalf("empty note accepted")
		case kind == Assign && (len(assignee) > MaxAssignee || strings.ContainsAny(assignee, "\n\r\t\x00")):
			t.Fatalf("assignee %q accepted", assignee)
		case kind == SetStatus && ValidStatus(status) != nil:
			t.Fatalf("status %q accepted", status)
		case len(text) > MaxNote || !utf8.ValidString(text):
			t.Fatalf("text %q accepted", text)
		case kind != Acknowledge && kind != Assign && kind != Note && kind != SetStatus && kind != Resolve && kind != RunRunbook:
			t.Fatalf("kind %q accepted", kind)
		}
	})
}

// TestClipKeepsUTF8: audit details are clipped at a character boundary.
func TestClipKeepsUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{{"héllo", 2, "h…"}, {"héllo", 3, "hé…"}, {"short", 10, "short"}} {
		if got := clip(tc.in, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
