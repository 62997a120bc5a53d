package with_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

func TestReaderTypes(t *testing.T) {
	t.Parallel()
	m := map[string]any{
		"s":     "text",
		"n":     3,
		"f":     float64(4),
		"ns":    " 5 ",
		"b":     "true",
		"d":     "1m30s",
		"list":  []any{"a", 1, true},
		"one":   "x@example.com",
		"env":   map[string]any{"A": "1", "B": 2},
		"empty": nil,
		"doc":   map[string]any{"a": []any{map[any]any{1: "x"}}},
	}
	r := with.ForRun(m)
	if s, ok := r.String("s"); !ok || s != "text" {
		t.Errorf("String = %q, %v", s, ok)
	}
	if n, ok := r.Int("n"); !ok || n != 3 {
		t.Errorf("Int(n) = %d, %v", n, ok)
	}
	if n, ok := r.Int("f"); !ok || n != 4 {
		t.Errorf("Int(f) = %d, %v", n, ok)
	}
	if n, ok := r.Int("ns"); !ok || n != 5 {
		t.Errorf("Int(ns) = %d, %v", n, ok)
	}
	if b, ok := r.Bool("b"); !ok || !b {
		t.Errorf("Bool = %v, %v", b, ok)
	}
	if d, ok := r.Duration("d"); !ok || d != 90*time.Second {
		t.Errorf("Duration = %v, %v", d, ok)
	}
	if l, ok := r.Strings("list", false); !ok || strings.Join(l, ",") != "a,1,true" {
		t.Errorf("Strings = %q, %v", l, ok)
	}
	if l, ok := r.Strings("one", true); !ok || len(l) != 1 {
		t.Errorf("Strings(single) = %q, %v", l, ok)
	}
	if e, ok := r.StringMap("env"); !ok || e["A"] != "1" || e["B"] != "2" {
		t.Errorf("StringMap = %v, %v", e, ok)
	}
	if j, ok := r.JSON("doc"); !ok || fmt.Sprint(j) != "map[a:[map[1:x]]]" {
		t.Errorf("JSON = %v, %v", j, ok)
	} else if _, err := json.Marshal(j); err != nil {
		t.Errorf("JSON value does not marshal: %v", err)
	}
	if _, ok := r.String("empty"); ok {
		t.Error("a null input is absent")
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    map[string]any
		read func(*with.Reader)
		want []string
	}{
		{"unknown", map[string]any{"commnd": "x"}, func(r *with.Reader) { r.String("command") }, []string{"commnd: unknown input"}},
		{"required", map[string]any{}, func(r *with.Reader) { r.Require("url") }, []string{"url: is required"}},
		{"bare number duration", map[string]any{"timeout": 30}, func(r *with.Reader) { r.Duration("timeout") }, []string{"timeout: 30 is not a duration; write it with a unit"}},
		{"bad duration", map[string]any{"timeout": "5 minutes"}, func(r *with.Reader) { r.Duration("timeout") }, []string{`timeout: "5 minutes" is not a duration`}},
		{"negative duration", map[string]any{"timeout": "-1s"}, func(r *with.Reader) { r.Duration("timeout") }, []string{"must be more than zero"}},
		{"not int", map[string]any{"n": 1.5}, func(r *with.Reader) { r.Int("n") }, []string{"n: 1.5 is not an integer"}},
		{"list element", map[string]any{"l": []any{"a", map[string]any{}}}, func(r *with.Reader) { r.Strings("l", false) }, []string{"l[1]: a map is not a string"}},
		{"not a list", map[string]any{"l": "a"}, func(r *with.Reader) { r.Strings("l", false) }, []string{`l: "a" is not a list`}},
		{"both", map[string]any{"a": 1, "b": 2}, func(r *with.Reader) { r.OneOf(true, "a", "b"); r.Int("a"); r.Int("b") }, []string{"set only one of a, b"}},
		{"neither", map[string]any{}, func(r *with.Reader) { r.OneOf(true, "a", "b") }, []string{"set one of a, b"}},
		{"forbid", map[string]any{"blocks": []any{}}, func(r *with.Reader) { r.Forbid("by email", "blocks") }, []string{"blocks: not used by email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := with.ForValidate(tc.m)
			tc.read(r)
			err := r.Err()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// One problem with one field is a content.FieldError, so the content
// loader points at that field's line; several are listed together.
func TestFieldErrors(t *testing.T) {
	t.Parallel()
	r := with.ForValidate(map[string]any{"timeout": "soon"})
	r.Duration("timeout")
	var fe *content.FieldError
	if err := r.Err(); !errors.As(err, &fe) || fe.Field != "timeout" || fe.Err.Error() != `"soon" is not a duration (like 30s, 5m or 1h30m)` {
		t.Errorf("err = %#v", err)
	}

	r = with.ForValidate(map[string]any{"timeout": "soon", "extra": 1})
	r.Duration("timeout")
	err := r.Err()
	if errors.As(err, &fe) {
		t.Errorf("several problems are not one field's: %#v", err)
	}
	if got := err.Error(); got != "timeout: \"soon\" is not a duration (like 30s, 5m or 1h30m)\nextra: unknown input" {
		t.Errorf("err = %q", got)
	}
}

// Expressions are accepted for any field while validating, and rendered
// strings are not echoed at run time (they may come from secrets).
func TestReaderExpressions(t *testing.T) {
	t.Parallel()
	m := map[string]any{
		"timeout": "${{ params.timeout }}",
		"list":    []any{"a", "${{ target.id }}"},
		"env":     map[string]any{"TOKEN": "${{ secrets.token }}"},
	}
	r := with.ForValidate(m)
	if _, ok := r.Duration("timeout"); ok {
		t.Error("an expression is not a concrete duration")
	}
	if l, _ := r.Strings("list", false); len(l) != 1 {
		t.Errorf("Strings = %q, want the concrete element only", l)
	}
	if e, ok := r.StringMap("env"); !ok || len(e) != 1 {
		t.Errorf("StringMap = %v, %v", e, ok)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}

	r = with.ForRun(map[string]any{"timeout": "hunter2"})
	r.Duration("timeout")
	if err := r.Err(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("run-time error %v must not echo the rendered value", err)
	}
}
