package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Step inputs (`with`) are data in which any string may embed expressions
// as ${{ expr }}. A string that is exactly one expression takes the
// expression's value, whatever its type (a list stays a list); otherwise
// each expression's value is formatted into the string. "$${{" writes a
// literal "${{".

const (
	openDelim  = "${{"
	closeDelim = "}}"
)

// Value is a compiled input value: a literal, a templated string, or a list
// or map of values.
type Value struct {
	lit   any
	parts []part            // templated string
	list  []*Value          // list
	m     map[string]*Value // map
	kind  valueKind
}

type valueKind int

const (
	litValue valueKind = iota
	tmplValue
	listValue
	mapValue
)

type part struct {
	text string
	expr *Expr
}

// IsTemplate reports whether s contains an expression.
func IsTemplate(s string) bool {
	return strings.Contains(strings.ReplaceAll(s, "$"+openDelim, ""), openDelim)
}

// compileValue compiles v; errs collects field-located errors under path.
func compileValue(v any, path string, errs *[]error) *Value {
	switch v := v.(type) {
	case string:
		if !strings.Contains(v, openDelim) {
			return &Value{lit: v}
		}
		parts, err := parseTemplate(v)
		if err != nil {
			*errs = append(*errs, fieldErr(path, err))
			return &Value{lit: v}
		}
		return &Value{kind: tmplValue, parts: parts}
	case []any:
		out := &Value{kind: listValue, list: make([]*Value, len(v))}
		for i, e := range v {
			out.list[i] = compileValue(e, path+"["+strconv.Itoa(i)+"]", errs)
		}
		return out
	case map[string]any:
		out := &Value{kind: mapValue, m: make(map[string]*Value, len(v))}
		for k, e := range v {
			out.m[k] = compileValue(e, joinPath(path, k), errs)
		}
		return out
	}
	return &Value{lit: Normalize(v)}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parseTemplate splits s into literal text and compiled expressions.
func parseTemplate(s string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	var errs []error
	for len(s) > 0 {
		i := strings.Index(s, openDelim)
		if i < 0 {
			lit.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			lit.WriteString(s[:i-1] + openDelim)
			s = s[i+len(openDelim):]
			continue
		}
		lit.WriteString(s[:i])
		rest := s[i+len(openDelim):]
		j := strings.Index(rest, closeDelim)
		if j < 0 {
			return nil, fmt.Errorf("%q has no closing %q", openDelim, closeDelim)
		}
		src := strings.TrimSpace(rest[:j])
		e, err := compileExpr(src, anyValue, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("${{ %s }}: %w", src, err))
		}
		if lit.Len() > 0 {
			parts = append(parts, part{text: lit.String()})
			lit.Reset()
		}
		parts = append(parts, part{expr: e})
		s = rest[j+len(closeDelim):]
	}
	if lit.Len() > 0 {
		parts = append(parts, part{text: lit.String()})
	}
	return parts, errors.Join(errs...)
}

// exprs returns every expression in v.
func (v *Value) exprs() []*Expr {
	if v == nil {
		return nil
	}
	var out []*Expr
	switch v.kind {
	case tmplValue:
		for _, p := range v.parts {
			if p.expr != nil {
				out = append(out, p.expr)
			}
		}
	case listValue:
		for _, e := range v.list {
			out = append(out, e.exprs()...)
		}
	case mapValue:
		for _, e := range v.m {
			out = append(out, e.exprs()...)
		}
	}
	return out
}

// Render evaluates v in s.
func (v *Value) Render(ctx context.Context, s *Scope) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.kind {
	case tmplValue:
		if len(v.parts) == 1 && v.parts[0].expr != nil {
			out, err := v.parts[0].expr.Eval(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("${{ %s }}: %w", v.parts[0].expr.src, err)
			}
			return out, nil
		}
		var b strings.Builder
		for _, p := range v.parts {
			if p.expr == nil {
				b.WriteString(p.text)
				continue
			}
			out, err := p.expr.Eval(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("${{ %s }}: %w", p.expr.src, err)
			}
			b.WriteString(format(out))
		}
		return b.String(), nil
	case listValue:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			r, err := e.Render(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case mapValue:
		out := make(map[string]any, len(v.m))
		for _, k := range sortedKeys(v.m) {
			r, err := v.m[k].Render(ctx, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	}
	return v.lit, nil
}

// RenderMap renders a map value (a step's with).
func (v *Value) RenderMap(ctx context.Context, s *Scope) (map[string]any, error) {
	out, err := v.Render(ctx, s)
	if err != nil || out == nil {
		return map[string]any{}, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rendered to %T, not a map", out)
	}
	return m, nil
}

// Source returns v as written (templates unrendered).
func (v *Value) Source() any {
	if v == nil {
		return nil
	}
	switch v.kind {
	case tmplValue:
		var b strings.Builder
		for _, p := range v.parts {
			if p.expr == nil {
				b.WriteString(strings.ReplaceAll(p.text, openDelim, "$"+openDelim))
				continue
			}
			b.WriteString(openDelim + " " + p.expr.src + " " + closeDelim)
		}
		return b.String()
	case listValue:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			out[i] = e.Source()
		}
		return out
	case mapValue:
		out := make(map[string]any, len(v.m))
		for k, e := range v.m {
			out[k] = e.Source()
		}
		return out
	}
	return v.lit
}

// format writes an expression's value into a string: strings as they are,
// other scalars in their usual form, lists and maps as JSON.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
