package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Draft is what a drafted automation Rule is made of: the signature it
// matches, the runbook people ran by hand and the parameters they gave it.
type Draft struct {
	TitlePattern string
	Category     string
	Runbook      string
	// Parameters are the values of a person's run (JSON values); they
	// become CEL literals for the reviewer to generalise.
	Parameters map[string]any
	// Example is the title of an OpsItem the rule must match; it becomes
	// the rule's test.
	Example string
	// From says where the draft came from, for its description.
	From string
	// Tenant is the tenant the rule is for (metadata.tenant): the tenant
	// whose OpsItems it was drafted from. "" is every tenant, which only a
	// platform admin may save.
	Tenant string
}

// ruleDoc is a Rule document in field order.
type ruleDoc struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   ruleMeta `yaml:"metadata"`
	Spec       ruleSpec `yaml:"spec"`
}

type ruleMeta struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Tenant      string `yaml:"tenant,omitempty"`
}

type ruleSpec struct {
	When  string     `yaml:"when"`
	Then  ruleThen   `yaml:"then"`
	Tests []ruleTest `yaml:"tests"`
}

type ruleThen struct {
	Runbook    string            `yaml:"runbook"`
	Mode       string            `yaml:"mode"`
	Parameters map[string]string `yaml:"parameters,omitempty"`
}

type ruleTest struct {
	Name    string            `yaml:"name"`
	Event   map[string]string `yaml:"event"`
	OpsItem map[string]string `yaml:"opsitem"`
}

// Name is the drafted rule's name: "auto-" and the pattern's words.
func (d Draft) Name() string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(d.TitlePattern), func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') }) {
		if len(words) == 6 {
			break
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		words = []string{d.Category}
	}
	return "auto-" + strings.Join(words, "-")
}

// When is the CEL condition matching the signature: the OpsItem's area
// and a regular expression of its title pattern ("*" matches one word of
// letters and digits, a space any run of spaces).
func (d Draft) When() string {
	return fmt.Sprintf("opsitem.category == %s && opsitem.title.matches(%s)", celString(d.Category), celString(patternRegexp(d.TitlePattern)))
}

func patternRegexp(pattern string) string {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		fields := strings.Split(p, " ")
		for j, f := range fields {
			fields[j] = regexp.QuoteMeta(f)
		}
		parts[i] = strings.Join(fields, `\s+`)
	}
	return "^" + strings.Join(parts, "[A-Za-z0-9]+") + "$"
}

// celString quotes s as a CEL string literal.
func celString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// celLiteral writes a JSON value as a CEL literal.
func celLiteral(v any) string {
	switch x := v.(type) {
	case string:
		return celString(x)
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = celLiteral(e)
		}
		return "[" + strings.Join(out, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = celString(k) + ": " + celLiteral(x[k])
		}
		return "{" + strings.Join(out, ", ") + "}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// YAML renders the draft as a Rule document in mode suggest: every run it
// starts waits for a person's approval until someone changes the mode.
func (d Draft) YAML() ([]byte, error) {
	doc := ruleDoc{APIVersion: "flywheel/v1", Kind: "Rule",
		Metadata: ruleMeta{Name: d.Name(), Description: fmt.Sprintf("Drafted by Flywheel from %s (%q in %s) and the %s runbook people ran by hand. "+
			"Review the condition and the parameters; mode suggest asks for approval before each run.", d.From, d.TitlePattern, d.Category, d.Runbook),
			Tenant: d.Tenant},
		Spec: ruleSpec{When: d.When(), Then: ruleThen{Runbook: d.Runbook, Mode: "suggest"}}}
	if len(d.Parameters) > 0 {
		doc.Spec.Then.Parameters = map[string]string{}
		for k, v := range d.Parameters {
			doc.Spec.Then.Parameters[k] = celLiteral(v)
		}
	}
	if d.Example != "" {
		doc.Spec.Tests = []ruleTest{{Name: "an OpsItem it was drafted from", Event: map[string]string{"title": d.Example},
			OpsItem: map[string]string{"title": d.Example, "category": d.Category}}}
	}
	var buf bytes.Buffer
	buf.WriteString("# Drafted by Flywheel (automation candidates). Save it in your content\n# directory's rules/ and run `flywheel content test` before relying on it.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
