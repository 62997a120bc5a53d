package content

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// A fieldPath locates a node in a document: spec.steps[0].when.
type fieldPath []pathElem

type pathElem struct {
	key   string
	index int // for sequence items, when key == ""
}

func (p fieldPath) String() string {
	var b strings.Builder
	for _, e := range p {
		if e.key == "" {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

// keyPath finds the mapping key named key on line and returns its path.
// Aliases are not followed: a field inside an anchored block is reported
// where the anchor is written.
func keyPath(root *yaml.Node, line int, key string) (fieldPath, bool) {
	var found fieldPath
	walk(root, nil, func(n *yaml.Node, p fieldPath, isKey bool) bool {
		if isKey && n.Line == line && n.Value == key {
			found = append(fieldPath(nil), p...)
			return false
		}
		return true
	})
	return found, found != nil
}

// valuePath returns the path of the value a yaml.v3 type error is about
// ("cannot unmarshal !!str `abc` into int" on line), matching the node's
// line, tag and (possibly truncated) value. It returns "" unless exactly
// one node matches.
func valuePath(root *yaml.Node, line int, msg string) string {
	m := unmarshalRE.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	tag, value := m[1], m[2]
	var found []fieldPath
	walk(root, nil, func(n *yaml.Node, p fieldPath, isKey bool) bool {
		if isKey || n.Line != line || len(p) == 0 || n.ShortTag() != tag {
			return true
		}
		if n.Kind == yaml.ScalarNode {
			prefix, truncated := strings.CutSuffix(value, "...")
			if truncated && !strings.HasPrefix(n.Value, prefix) || !truncated && n.Value != value {
				return true
			}
		}
		found = append(found, append(fieldPath(nil), p...))
		return true
	})
	if len(found) != 1 {
		return ""
	}
	return found[0].String()
}

// unmarshalRE parses yaml.v3's type errors: tag, optional value, Go type.
var unmarshalRE = regexp.MustCompile("^cannot unmarshal (!!?[^ ]+)(?: `(.*)`)? into ")

// walk visits n and its descendants in document order with their paths;
// keys are visited with the path of their value. visit returns false to
// stop descending (and, for keys, to stop the walk).
func walk(n *yaml.Node, p fieldPath, visit func(n *yaml.Node, p fieldPath, isKey bool) bool) bool {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			cp := append(p[:len(p):len(p)], pathElem{key: k.Value})
			if !visit(k, cp, true) {
				return false
			}
			if visit(v, cp, false) && !walk(v, cp, visit) {
				return false
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			cp := append(p[:len(p):len(p)], pathElem{index: i})
			if visit(v, cp, false) && !walk(v, cp, visit) {
				return false
			}
		}
	}
	return true
}

// findPath resolves a FieldError path ("steps[2].when") under spec and
// returns the deepest node it reaches: the key node when the last element
// is a mapping key that exists, else the nearest existing ancestor.
func findPath(spec *yaml.Node, field string) *yaml.Node {
	if spec == nil {
		return nil
	}
	cur, best := spec, spec
	for _, e := range parsePath(field) {
		switch {
		case e.key != "" && cur.Kind == yaml.MappingNode:
			k, v := lookup(cur, e.key)
			if k == nil {
				return best
			}
			best, cur = k, v
		case e.key == "" && cur.Kind == yaml.SequenceNode && e.index >= 0 && e.index < len(cur.Content):
			cur = cur.Content[e.index]
			best = cur
		default:
			return best
		}
	}
	return best
}

// parsePath parses "a.b[2].c"; malformed pieces are kept as keys.
func parsePath(s string) fieldPath {
	var p fieldPath
	for _, part := range strings.Split(s, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			p = append(p, pathElem{key: key})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil {
				p = append(p, pathElem{key: rest})
				break
			}
			p = append(p, pathElem{index: n})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

// typeAt follows a path from t through struct fields (by YAML name),
// slices and maps, and returns the type found there, or nil.
func typeAt(t reflect.Type, p fieldPath) reflect.Type {
	for _, e := range p {
		t = deref(t)
		switch {
		case e.key == "" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case e.key != "" && t.Kind() == reflect.Map:
			t = t.Elem()
		case e.key != "" && t.Kind() == reflect.Struct:
			f, ok := fieldByYAMLName(t, e.key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	return deref(t)
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// yamlFields lists the YAML names of a struct type's fields, as yaml.v3
// sees them (tag name, else the lower-cased Go name; inline structs
// flattened). It returns nil for non-struct types.
func yamlFields(t reflect.Type) []string {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline, skip := yamlTag(f)
		switch {
		case skip:
		case inline:
			names = append(names, yamlFields(deref(f.Type))...)
		default:
			names = append(names, name)
		}
	}
	return names
}

func fieldByYAMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		n, inline, skip := yamlTag(f)
		switch {
		case skip:
		case inline:
			if it := deref(f.Type); it.Kind() == reflect.Struct {
				if sf, ok := fieldByYAMLName(it, name); ok {
					return sf, true
				}
			}
		case n == name:
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlTag(f reflect.StructField) (name string, inline, skip bool) {
	if !f.IsExported() && !f.Anonymous {
		return "", false, true
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false, true
	}
	name, opts, _ := strings.Cut(tag, ",")
	for _, o := range strings.Split(opts, ",") {
		if o == "inline" {
			inline = true
		}
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline, false
}
