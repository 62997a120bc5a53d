package event

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBound(t *testing.T) {
	t.Parallel()
	e := Event{Title: "disk full", Labels: map[string]string{"a": "b"}}
	if Bound(&e) || e.Title != "disk full" || e.Labels["a"] != "b" {
		t.Errorf("a small event changed: %+v", e)
	}
	e = Event{Title: strings.Repeat("ü", MaxTitle), Description: "bad \xff utf8"}
	if !Bound(&e) || len(e.Title) > MaxTitle || !strings.HasSuffix(e.Title, TruncatedMarker) || !utf8.ValidString(e.Title) {
		t.Errorf("title %d bytes, valid %v", len(e.Title), utf8.ValidString(e.Title))
	}
	if e.Description != "bad \uFFFD utf8" {
		t.Errorf("description %q", e.Description)
	}
	labels := map[string]string{}
	for i := range 100 {
		labels[strings.Repeat("x", i+1)] = "v"
	}
	e = Event{Labels: labels}
	Bound(&e)
	if len(e.Labels) != MaxLabels {
		t.Errorf("%d labels kept, want %d", len(e.Labels), MaxLabels)
	}
}

// FuzzBound: whatever the fields, Bound leaves them valid UTF-8 within
// their bounds, and a second pass changes nothing.
func FuzzBound(f *testing.F) {
	f.Add("title", "desc", "k", "v", "host", "web-1")
	f.Add(strings.Repeat("é", 400), strings.Repeat("x", MaxDescription+1), strings.Repeat("k", 200), "\xff\xfe", "", strings.Repeat("日", 500))
	f.Fuzz(func(t *testing.T, title, desc, k, v, typ, id string) {
		e := Event{Title: title, Description: desc, Labels: map[string]string{k: v}, Annotations: map[string]string{k: desc},
			Resources: []ResourceRef{{Type: typ, ID: id}}}
		Bound(&e)
		check := func(what, s string, limit int) {
			if len(s) > limit || !utf8.ValidString(s) {
				t.Fatalf("%s: %d bytes (limit %d), valid %v", what, len(s), limit, utf8.ValidString(s))
			}
		}
		check("title", e.Title, MaxTitle)
		check("description", e.Description, MaxDescription)
		for lk, lv := range e.Labels {
			check("label name", lk, MaxLabelName)
			check("label value", lv, MaxLabelValue)
		}
		check("resource type", e.Resources[0].Type, MaxResourceTyp)
		check("resource id", e.Resources[0].ID, MaxResourceID)
		if Bound(&e) {
			t.Fatalf("a second Bound cut again: %+v", e)
		}
	})
}
