// Package matcher implements Alertmanager-compatible label matchers, the
// selection language of silences, maintenance windows and inhibition rules:
//
//	alertname="DiskFull"      equal
//	severity!="info"          not equal
//	instance=~"web-.*:9100"   matches the RE2 regular expression
//	env!~"dev|test"           does not match it
//
// Regular expressions are anchored at both ends, as in Alertmanager:
// env=~"prod" matches "prod" only, not "preprod". A label the event does
// not have matches as the empty string, so env!="prod" matches an event
// with no env label, and env=~".+" requires the label to be present.
//
// The syntax is Alertmanager's (the UTF-8 matcher parser of 0.27 and
// later): see Parse and ParseList. Matchers see an event through
// EventLabels, which adds the event's own fields (source, severity, …) to
// its labels.
package matcher

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is a matcher's operator.
type Type int

const (
	Equal     Type = iota // =
	NotEqual              // !=
	Regexp                // =~
	NotRegexp             // !~
)

// String returns the operator as written: "=", "!=", "=~" or "!~".
func (t Type) String() string {
	switch t {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Regexp:
		return "=~"
	case NotRegexp:
		return "!~"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Matcher tests one label. Build it with New or Parse, which compile the
// regular expression; a Matcher is immutable and safe for concurrent use.
type Matcher struct {
	Name  string
	Type  Type
	Value string

	re *regexp.Regexp
}

// New returns a matcher, compiling value for the regular-expression types.
func New(t Type, name, value string) (Matcher, error) {
	m := Matcher{Name: name, Type: t, Value: value}
	switch {
	case name == "":
		return Matcher{}, fmt.Errorf("empty label name")
	case !utf8.ValidString(name):
		return Matcher{}, fmt.Errorf("label name %q is not valid UTF-8", name)
	case !utf8.ValidString(value):
		return Matcher{}, fmt.Errorf("value %q is not valid UTF-8", value)
	case t < Equal || t > NotRegexp:
		return Matcher{}, fmt.Errorf("unknown match type %d", t)
	}
	if t == Regexp || t == NotRegexp {
		// The value must be a regular expression on its own: "a)|(b" would
		// compile once wrapped, and escape the anchors.
		if _, err := regexp.Compile(value); err != nil {
			return Matcher{}, fmt.Errorf("invalid regular expression %q: %s", value, reError(err))
		}
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("invalid regular expression %q: %s", value, reError(err))
		}
		m.re = re
	}
	return m, nil
}

// reError is a regexp error without its "error parsing regexp: " prefix.
func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// MatchesValue reports whether a label value satisfies the matcher.
func (m Matcher) MatchesValue(v string) bool {
	switch m.Type {
	case Equal:
		return v == m.Value
	case NotEqual:
		return v != m.Value
	case Regexp:
		return m.re != nil && m.re.MatchString(v)
	case NotRegexp:
		return m.re != nil && !m.re.MatchString(v)
	}
	return false
}

// Matches reports whether labels satisfy the matcher; a missing label is
// the empty string.
func (m Matcher) Matches(labels map[string]string) bool {
	return m.MatchesValue(labels[m.Name])
}

// String renders the matcher so that Parse reads it back: the name bare
// when it can be, else quoted, and the value always quoted (Go escapes).
func (m Matcher) String() string {
	return quoteName(m.Name) + m.Type.String() + strconv.Quote(m.Value)
}

// MarshalText renders the matcher as String does, so a Matcher is a plain
// string in JSON and YAML.
func (m Matcher) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses one matcher.
func (m *Matcher) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func quoteName(n string) string {
	if n == "" || strings.ContainsFunc(n, isReserved) || !utf8.ValidString(n) {
		return strconv.Quote(n)
	}
	for _, r := range n {
		if !strconv.IsPrint(r) {
			return strconv.Quote(n)
		}
	}
	return n
}

// Matchers is a conjunction: every matcher must match.
type Matchers []Matcher

// Matches reports whether labels satisfy every matcher (true for none).
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// MatchesEmpty reports whether a label set with no labels at all would
// match: Alertmanager refuses such silences, which would mute everything.
func (ms Matchers) MatchesEmpty() bool {
	for _, m := range ms {
		if !m.MatchesValue("") {
			return false
		}
	}
	return true
}

// String renders the list in braces, "{a=\"b\", c=~\"d.*\"}", which
// ParseList reads back.
func (ms Matchers) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// Strings returns each matcher's String, for storage as a list.
func (ms Matchers) Strings() []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// ParseAll parses a list of single matchers (as the API and content files
// give them, one per string). The error names the index of the first bad one.
func ParseAll(ss []string) (Matchers, error) {
	out := make(Matchers, 0, len(ss))
	for i, s := range ss {
		m, err := Parse(s)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}
