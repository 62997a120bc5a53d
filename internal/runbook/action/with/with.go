// Package with decodes a runbook step's `with:` inputs into typed values the
// same way for every action, so that "30s", an expect list or a header map
// mean the same thing in exec, http and notify, and every error names the
// field it is about.
//
// Actions read their inputs twice: when content loads (Validate), where a
// value may still be an unrendered expression ("${{ … }}") whose type is not
// known yet, and when the step runs (Run), where every value is final. A
// Reader in validation mode skips expressions instead of rejecting them.
package with

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// exprMarker opens an expression in a step input; the executor renders
// expressions before Run.
const exprMarker = "${{"

// IsExpr reports whether v is (or contains) an unrendered expression.
func IsExpr(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, exprMarker)
}

// Reader reads one step's inputs. Getters return the value and whether it
// is present and concrete; problems are collected and reported by Err.
type Reader struct {
	m          map[string]any
	validating bool
	read       map[string]bool
	problems   []problem
}

// problem is one thing wrong with the inputs; field is "" when it is about
// several.
type problem struct {
	field, msg string
}

func (p problem) String() string {
	if p.field == "" {
		return p.msg
	}
	return p.field + ": " + p.msg
}

// ForValidate reads inputs at content load: expressions are accepted for any
// field and their getters report "not concrete".
func ForValidate(m map[string]any) *Reader {
	return &Reader{m: m, validating: true, read: map[string]bool{}}
}

// ForRun reads rendered inputs: every value must have its field's type.
func ForRun(m map[string]any) *Reader {
	return &Reader{m: m, read: map[string]bool{}}
}

// Validating reports whether r reads unrendered inputs.
func (r *Reader) Validating() bool { return r.validating }

// Errorf records a problem with field key.
func (r *Reader) Errorf(key, format string, args ...any) {
	r.problems = append(r.problems, problem{key, fmt.Sprintf(format, args...)})
}

// Has reports whether key is set (to anything but null), expression or not.
func (r *Reader) Has(key string) bool {
	v, ok := r.m[key]
	return ok && v != nil
}

// Require records an error for each key that is not set.
func (r *Reader) Require(keys ...string) {
	for _, k := range keys {
		if !r.Has(k) {
			r.problems = append(r.problems, problem{k, "is required"})
		}
	}
}

// OneOf records an error when more than one of keys is set; exactly says
// whether one must be.
func (r *Reader) OneOf(exactly bool, keys ...string) {
	var set []string
	for _, k := range keys {
		if r.Has(k) {
			set = append(set, k)
		}
	}
	switch {
	case len(set) > 1:
		r.problems = append(r.problems, problem{"", fmt.Sprintf("set only one of %s (got %s)", strings.Join(keys, ", "), strings.Join(set, " and "))})
	case len(set) == 0 && exactly:
		r.problems = append(r.problems, problem{"", "set one of " + strings.Join(keys, ", ")})
	}
}

// Forbid records an error for each key that is set, saying why it does not
// apply.
func (r *Reader) Forbid(why string, keys ...string) {
	for _, k := range keys {
		r.read[k] = true
		if r.Has(k) {
			r.problems = append(r.problems, problem{k, "not used " + why})
		}
	}
}

// Err reports every problem found so far, and every key no getter asked for
// (a misspelt input is an error, not silently ignored). Field names are
// relative to the step's `with`. A single problem with one field is a
// *content.FieldError, so the content loader can point at that field's
// line; several are joined, each message naming its field.
func (r *Reader) Err() error {
	var unknown []string
	for k := range r.m {
		if !r.read[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	all := slices.Clone(r.problems)
	for _, k := range unknown {
		all = append(all, problem{k, "unknown input"})
	}
	switch {
	case len(all) == 0:
		return nil
	case len(all) == 1 && all[0].field != "":
		return &content.FieldError{Field: all[0].field, Err: errors.New(all[0].msg)}
	}
	errs := make([]error, len(all))
	for i, p := range all {
		errs[i] = errors.New(p.String())
	}
	return errors.Join(errs...)
}

// get marks key read and returns its value; ok is false when the key is
// absent, null, or an expression while validating.
func (r *Reader) get(key string) (any, bool) {
	r.read[key] = true
	v, ok := r.m[key]
	if !ok || v == nil {
		return nil, false
	}
	if r.validating && IsExpr(v) {
		return nil, false
	}
	return v, true
}

// Any returns the raw value of key.
func (r *Reader) Any(key string) (any, bool) { return r.get(key) }

// String returns key as a string; numbers and booleans are formatted.
func (r *Reader) String(key string) (string, bool) {
	v, ok := r.get(key)
	if !ok {
		return "", false
	}
	s, err := r.scalarString(v)
	if err != nil {
		r.Errorf(key, "%v", err)
		return "", false
	}
	return s, true
}

// Int returns key as an integer; numeric strings are accepted.
func (r *Reader) Int(key string) (int, bool) {
	v, ok := r.get(key)
	if !ok {
		return 0, false
	}
	n, err := r.toInt(v)
	if err != nil {
		r.Errorf(key, "%v", err)
		return 0, false
	}
	return n, true
}

// Bool returns key as a boolean; "true" and "false" strings are accepted.
func (r *Reader) Bool(key string) (bool, bool) {
	v, ok := r.get(key)
	if !ok {
		return false, false
	}
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return p, true
		}
	}
	r.Errorf(key, "%s is not true or false", r.describe(v))
	return false, false
}

// Duration returns key as a positive duration written like 30s, 5m or 1h30m.
// A bare number is rejected rather than guessed at (seconds? milliseconds?).
func (r *Reader) Duration(key string) (time.Duration, bool) {
	v, ok := r.get(key)
	if !ok {
		return 0, false
	}
	s, isString := v.(string)
	if !isString {
		r.Errorf(key, "%s is not a duration; write it with a unit, like 30s or 5m", r.describe(v))
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		r.Errorf(key, "%s is not a duration (like 30s, 5m or 1h30m)", r.describe(s))
		return 0, false
	}
	if d <= 0 {
		r.Errorf(key, "%s must be more than zero", r.describe(s))
		return 0, false
	}
	return d, true
}

// Strings returns key as a list of strings. With single, one string stands
// for a list of one. Expression elements are skipped while validating.
func (r *Reader) Strings(key string, single bool) ([]string, bool) {
	v, ok := r.get(key)
	if !ok {
		return nil, false
	}
	if s, isString := v.(string); isString && single {
		return []string{s}, true
	}
	list, isList := v.([]any)
	if !isList {
		if ss, isStrings := v.([]string); isStrings {
			return slices.Clone(ss), true
		}
		r.Errorf(key, "%s is not a list", r.describe(v))
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		if r.validating && IsExpr(e) {
			continue
		}
		s, err := r.scalarString(e)
		if err != nil {
			r.Errorf(fmt.Sprintf("%s[%d]", key, i), "%v", err)
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// List returns key as a list of raw values; a single value stands for a list
// of one.
func (r *Reader) List(key string) ([]any, bool) {
	v, ok := r.get(key)
	if !ok {
		return nil, false
	}
	if list, isList := v.([]any); isList {
		if r.validating {
			list = slices.DeleteFunc(slices.Clone(list), IsExpr)
		}
		return list, true
	}
	return []any{v}, true
}

// StringMap returns key as a map of strings (environment variables,
// headers); scalar values are formatted.
func (r *Reader) StringMap(key string) (map[string]string, bool) {
	v, ok := r.get(key)
	if !ok {
		return nil, false
	}
	m, err := r.toMap(v)
	if err != nil {
		r.Errorf(key, "%v", err)
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		if r.validating && IsExpr(e) {
			out[k] = ""
			continue
		}
		s, err := r.scalarString(e)
		if err != nil {
			r.Errorf(key+"."+k, "%v", err)
			return nil, false
		}
		out[k] = s
	}
	return out, true
}

// JSON returns key as a value encoding/json can marshal: YAML's maps with
// non-string keys become string-keyed maps.
func (r *Reader) JSON(key string) (any, bool) {
	v, ok := r.get(key)
	if !ok {
		return nil, false
	}
	j, err := r.toJSON(v)
	if err != nil {
		r.Errorf(key, "%v", err)
		return nil, false
	}
	return j, true
}

func (r *Reader) toJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any, map[any]any, map[string]string:
		m, err := r.toMap(x)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if out[k], err = r.toJSON(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = r.toJSON(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []string:
		return slices.Clone(x), nil
	case nil, string, bool, json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x, nil
	}
	return nil, fmt.Errorf("%s cannot be sent as JSON", r.describe(v))
}

func (r *Reader) toMap(v any) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = e
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[fmt.Sprint(k)] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a map", r.describe(v))
}

func (r *Reader) scalarString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case bool:
		return strconv.FormatBool(s), nil
	case json.Number:
		return s.String(), nil
	case float64:
		return strconv.FormatFloat(s, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(s), 'f', -1, 32), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(s), nil
	}
	return "", fmt.Errorf("%s is not a string", r.describe(v))
}

func (r *Reader) toInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int8:
		return int(n), nil
	case int16:
		return int(n), nil
	case int32:
		return int(n), nil
	case int64:
		if n < math.MinInt || n > math.MaxInt {
			break
		}
		return int(n), nil
	case uint:
		if n > math.MaxInt {
			break
		}
		return int(n), nil
	case uint8:
		return int(n), nil
	case uint16:
		return int(n), nil
	case uint32:
		return int(n), nil
	case uint64:
		if n > math.MaxInt {
			break
		}
		return int(n), nil
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int(n), nil
		}
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return r.toInt(i)
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s is not an integer", r.describe(v))
}

// describe names a value in an error. While validating, the value is the
// content's own text and is quoted; at run time it may have been rendered
// from a secret, so only its kind is named.
func (r *Reader) describe(v any) string {
	switch x := v.(type) {
	case string:
		if !r.validating {
			return "the rendered string"
		}
		if len(x) > 40 {
			return strconv.Quote(x[:37] + "...")
		}
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any, map[any]any, map[string]string:
		return "a map"
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("a %T", v)
}
