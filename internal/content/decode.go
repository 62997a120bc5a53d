package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// docResult is what decoding made of one non-empty document.
type docResult struct {
	origin     Origin // the document's first line
	kind, name string // from the envelope, when present and well-formed
	item       *Item  // nil when the document has errors
}

// decodeFile decodes every document in one file.
//
// It reads the file twice, in lockstep: once into yaml.Node trees, which
// give positions and let it read apiVersion, kind and metadata.name before
// knowing the spec type; and once with a strict decoder (KnownFields) into
// an envelope struct whose Spec is the kind's type. yaml.v3 applies
// KnownFields only when decoding from a Decoder, not from a Node, so the
// second pass is what makes unknown fields errors — with line numbers
// relative to the file, since both passes read the same bytes.
func decodeFile(reg *Registry, file Origin, data []byte) ([]docResult, []error) {
	nodes, err := parseNodes(data)
	var errs []error
	if err != nil {
		errs = append(errs, syntaxError(file, data, err))
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var docs []docResult
	for _, doc := range nodes {
		d, docErrs := decodeDoc(reg, file, doc, strict)
		errs = append(errs, docErrs...)
		if d != nil {
			docs = append(docs, *d)
		}
	}
	return docs, errs
}

// parseNodes splits data into document nodes, stopping at the first syntax
// error (YAML cannot resynchronise after one).
func parseNodes(data []byte) (docs []*yaml.Node, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := safeDecode(dec, &n); err != nil {
			if err == io.EOF {
				return docs, nil
			}
			return docs, err
		}
		docs = append(docs, &n)
	}
}

// safeDecode turns a panic inside yaml.v3 into an error: content files are
// user input, and one odd file must not take down `flywheel serve`.
func safeDecode(dec *yaml.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal error: %v", r)
		}
	}()
	return dec.Decode(v)
}

// decodeDoc checks one document's envelope and strictly decodes it. It
// always advances strict past the document. The result is nil for an empty
// document.
func decodeDoc(reg *Registry, file Origin, doc *yaml.Node, strict *yaml.Decoder) (*docResult, []error) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		_ = safeDecode(strict, new(yaml.Node))
		return nil, nil // empty document: "---" with nothing after it
	}
	root := doc.Content[0]
	res := &docResult{origin: at(file, root.Line)}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &Error{Origin: at(file, line), Msg: fmt.Sprintf(format, args...)})
	}
	if root.Kind != yaml.MappingNode {
		_ = safeDecode(strict, new(yaml.Node))
		fail(root.Line, "a document must be a mapping with apiVersion, kind, metadata and spec, not %s", nodeKind(root))
		return res, errs
	}

	if k, v := lookup(root, "apiVersion"); k == nil {
		fail(root.Line, "apiVersion is required (%q)", APIVersion)
	} else if v.Kind == yaml.ScalarNode && v.Value != APIVersion {
		fail(v.Line, "unsupported apiVersion %q; want %q", v.Value, APIVersion)
	}

	var entry *kindEntry
	switch k, v := lookup(root, "kind"); {
	case k == nil:
		fail(root.Line, "kind is required; known kinds: %s", strings.Join(reg.Kinds(), ", "))
	case v.Kind != yaml.ScalarNode || v.Value == "":
		fail(v.Line, "kind must be a kind name; known kinds: %s", strings.Join(reg.Kinds(), ", "))
	default:
		res.kind = v.Value
		entry = reg.kinds[v.Value]
		if entry == nil {
			fail(v.Line, "unknown kind %q%s (known kinds: %s)",
				v.Value, didYouMean(v.Value, reg.Kinds()), strings.Join(reg.Kinds(), ", "))
		}
	}

	nameLine := root.Line
	if k, meta := lookup(root, "metadata"); k != nil {
		nameLine = k.Line
		if nk, nv := lookup(meta, "name"); nk != nil && nv.Kind == yaml.ScalarNode {
			nameLine = nv.Line
			if nv.Value == "" {
				fail(nameLine, "metadata.name must not be empty")
			} else if err := checkName(nv.Value); err != nil {
				fail(nameLine, "metadata.name %q %v", nv.Value, err)
			} else {
				res.name = nv.Value
			}
		} else if nk == nil {
			fail(nameLine, "metadata.name is required")
		}
	} else {
		fail(root.Line, "metadata.name is required")
	}

	if entry == nil {
		_ = safeDecode(strict, new(yaml.Node))
		return res, errs
	}
	env := reflect.New(entry.envType)
	env.Elem().Field(3).Set(reflect.ValueOf(entry.New()))
	if err := safeDecode(strict, env.Interface()); err != nil {
		errs = append(errs, decodeErrors(file, root, entry, err)...)
	}
	if len(errs) > 0 {
		return res, errs
	}

	md := env.Elem().Field(2).Interface().(metadata)
	spec := env.Elem().Field(3).Interface()
	if env.Elem().Field(3).IsNil() { // "spec:" with no value
		spec = entry.New()
	}
	if entry.Validate != nil {
		errs = append(errs, validateErrors(file, root, entry, spec)...)
		if len(errs) > 0 {
			return res, errs
		}
	}
	res.item = &Item{
		Kind:        entry.Name,
		Name:        md.Name,
		Description: md.Description,
		Labels:      md.Labels,
		Tenant:      md.Tenant,
		Spec:        spec,
		Origin:      res.origin,
	}
	return res, nil
}

func at(file Origin, line int) Origin {
	file.Line = line
	return file
}

// validateErrors runs the kind's Validate and positions what it reports.
func validateErrors(file Origin, root *yaml.Node, entry *kindEntry, spec any) (errs []error) {
	_, specNode := lookup(root, "spec")
	specLine := root.Line
	if k, _ := lookup(root, "spec"); k != nil {
		specLine = k.Line
	}
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, &Error{Origin: at(file, specLine),
				Msg: fmt.Sprintf("internal error validating %s spec: %v", entry.Name, r)})
		}
	}()
	for _, err := range Errors(entry.Validate(spec)) {
		var fe *FieldError
		if errors.As(err, &fe) {
			line := specLine
			if n := findPath(specNode, fe.Field); n != nil && n != specNode {
				line = n.Line
			}
			errs = append(errs, &Error{Origin: at(file, line), Msg: "spec." + fe.Error(), Err: err})
			continue
		}
		errs = append(errs, &Error{Origin: at(file, specLine),
			Msg: fmt.Sprintf("invalid %s spec: %v", entry.Name, err), Err: err})
	}
	return errs
}

var (
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// decodeErrors turns a strict-decode error into positioned *Errors that
// name the field in the user's terms.
func decodeErrors(file Origin, root *yaml.Node, entry *kindEntry, err error) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := root.Line
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return []error{&Error{Origin: at(file, line), Msg: "invalid YAML: " + msg, Err: err}}
	}
	var errs []error
	for _, s := range te.Errors {
		line := root.Line
		msg := s
		if m := lineRE.FindStringSubmatch(s); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		switch {
		case strings.HasPrefix(msg, "field ") && strings.Contains(msg, " not found in type "):
			field := strings.TrimPrefix(msg[:strings.Index(msg, " not found in type ")], "field ")
			msg = unknownField(root, entry, line, field)
		case strings.HasPrefix(msg, "cannot unmarshal "):
			msg = strings.ReplaceAll(msg, entry.envType.String(), "a document")
			msg = strings.ReplaceAll(msg, reflect.TypeFor[metadata]().String(), "metadata")
			if p := valuePath(root, line, msg); p != "" {
				msg = p + ": " + msg
			}
		}
		errs = append(errs, &Error{Origin: at(file, line), Msg: msg, Err: err})
	}
	return errs
}

// unknownField words an unknown-field error: where the field sits, and the
// closest known field when it looks like a typo.
func unknownField(root *yaml.Node, entry *kindEntry, line int, field string) string {
	p, ok := keyPath(root, line, field)
	if !ok {
		return fmt.Sprintf("field %q not found", field)
	}
	parent := p[:len(p)-1]
	switch {
	case len(parent) == 0:
		return fmt.Sprintf("field %q not found in document%s (want apiVersion, kind, metadata, spec)",
			field, didYouMean(field, envelopeFields))
	case parent[0].key == "metadata":
		return fmt.Sprintf("field %q not found in metadata%s",
			field, didYouMean(field, yamlFields(reflect.TypeFor[metadata]())))
	}
	where := entry.Name + " spec"
	if len(parent) > 1 {
		where += "." + parent[1:].String()
	}
	hint := ""
	if t := typeAt(entry.specType, parent[1:]); t != nil {
		hint = didYouMean(field, yamlFields(t))
	}
	return fmt.Sprintf("field %q not found in %s%s", field, where, hint)
}

// syntaxError positions an error from the first (parsing) pass.
func syntaxError(file Origin, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			// yaml.v3 reports parser (not scanner) problems with a
			// 0-based line; see parser.fail in yaml.v3's decode.go.
			line++
		}
	} else if parserProblems[msg] || scannerProblem(msg) {
		line = 1 // yaml.v3 omits "line 0"
	} else if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		line = lineOf(data, regexp.MustCompile(`\*`+regexp.QuoteMeta(strings.TrimSuffix(name, "' referenced"))+`\b`))
	} else {
		line = badByteLine(data)
	}
	return &Error{Origin: at(file, line), Msg: "invalid YAML: " + msg, Err: err}
}

// parserProblems are yaml.v3's parser (as opposed to scanner) messages.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

func scannerProblem(msg string) bool {
	return strings.HasPrefix(msg, "found ") || strings.HasPrefix(msg, "did not find ") ||
		strings.HasSuffix(msg, "not allowed in this context")
}

func lineOf(data []byte, re *regexp.Regexp) int {
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return 1 + bytes.Count(data[:loc[0]], []byte("\n"))
}

// badByteLine finds the line of the first byte YAML rejects outright
// (invalid UTF-8 or a control character); yaml.v3's reader errors carry no
// line. It returns 0 when there is none.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if (r == utf8.RuneError && size == 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && (n.Value == "" || n.Value == "~" || n.Value == "null")
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "that"
}

// lookup returns the key and value nodes of key in mapping m, or nils.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}
