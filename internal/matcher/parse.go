package matcher

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseError is a syntax or semantic error in matcher text, at a position.
type ParseError struct {
	Input string
	// Offset is the byte offset in Input where the problem is.
	Offset int
	Msg    string
}

// Column is the 1-based character column of the problem.
func (e *ParseError) Column() int {
	off := min(max(e.Offset, 0), len(e.Input))
	return utf8.RuneCountInString(e.Input[:off]) + 1
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("bad matcher %s at column %d: %s", showInput(e.Input), e.Column(), e.Msg)
}

// showInput quotes user input for an error: in backquotes when that reads
// unambiguously, else Go-quoted; long input is shortened.
func showInput(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r == '`' || !strconv.IsPrint(r) }) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// isReserved reports the runes that end an unquoted name or value; they
// need double quotes. Alertmanager reserves the same set.
func isReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

// Parse parses exactly one matcher: name, operator, value.
//
// A name or value is either bare — any characters except white space and
// { } ! = ~ , \ " ' ` — or double-quoted with Go escapes (\" \\ \n \t
// \u00e9 …). White space around the parts is ignored. An empty value must
// be quoted (foo=""). Examples:
//
//	alertname="Disk full"
//	severity=critical
//	instance=~"web-[0-9]+:9100"
//	"service.name"!~"batch|cron"
func Parse(s string) (Matcher, error) {
	ms, err := ParseList(s)
	if err != nil {
		return Matcher{}, err
	}
	if len(ms) != 1 {
		return Matcher{}, &ParseError{Input: s, Msg: fmt.Sprintf("want exactly one matcher, found %d", len(ms))}
	}
	return ms[0], nil
}

// ParseList parses a list of matchers separated by commas, optionally in
// braces, as Alertmanager's amtool and API accept them:
//
//	{alertname="DiskFull", instance=~"db-.*"}
//	alertname=DiskFull,severity!=info
//
// A trailing comma is allowed; "{}" and "" give an empty list.
func ParseList(s string) (Matchers, error) {
	p := parser{in: s}
	return p.list()
}

type parser struct {
	in  string
	pos int
}

func (p *parser) errAt(off int, format string, args ...any) *ParseError {
	return &ParseError{Input: p.in, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.in[p.pos]
}

func (p *parser) skipSpace() {
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.in[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

// describe names what is at the current position, for "got …" messages.
func (p *parser) describe() string {
	if p.eof() {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.in[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) list() (Matchers, error) {
	ms := Matchers{}
	p.skipSpace()
	brace := p.peek() == '{'
	open := p.pos
	if brace {
		p.pos++
	}
	for {
		p.skipSpace()
		if p.eof() || p.peek() == '}' {
			return ms, p.end(brace, open)
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		p.skipSpace()
		switch {
		case p.eof() || p.peek() == '}':
			return ms, p.end(brace, open)
		case p.peek() == ',':
			p.pos++
		default:
			return nil, p.errAt(p.pos, "expected a comma or the end after matcher %s, got %s%s", m, p.describe(), p.hint())
		}
	}
}

// hint explains the usual cause of text after a complete matcher.
func (p *parser) hint() string {
	if !p.eof() && !isReserved(rune(p.peek())) {
		return " (quote values that contain spaces)"
	}
	return ""
}

// end checks the closing brace and that nothing follows it.
func (p *parser) end(brace bool, open int) error {
	if p.eof() {
		if brace {
			return p.errAt(open, "opening { has no closing }")
		}
		return nil
	}
	// At a '}'.
	if !brace {
		return p.errAt(p.pos, "unexpected } without an opening {")
	}
	p.pos++
	p.skipSpace()
	if !p.eof() {
		return p.errAt(p.pos, "unexpected %s after the closing }", p.describe())
	}
	return nil
}

func (p *parser) matcher() (Matcher, error) {
	nameAt := p.pos
	name, ok, err := p.word()
	if err != nil {
		return Matcher{}, err
	}
	if !ok {
		return Matcher{}, p.errAt(p.pos, "expected a label name, got %s", p.describe())
	}
	if name == "" {
		return Matcher{}, p.errAt(nameAt, "label name is empty")
	}
	p.skipSpace()
	opAt := p.pos
	var t Type
	switch rest := p.in[p.pos:]; {
	case strings.HasPrefix(rest, "=~"):
		t, p.pos = Regexp, p.pos+2
	case strings.HasPrefix(rest, "!="):
		t, p.pos = NotEqual, p.pos+2
	case strings.HasPrefix(rest, "!~"):
		t, p.pos = NotRegexp, p.pos+2
	case strings.HasPrefix(rest, "="):
		t, p.pos = Equal, p.pos+1
	default:
		return Matcher{}, p.errAt(opAt, "expected an operator (=, !=, =~ or !~) after label name %s, got %s", quoteName(name), p.describe())
	}
	p.skipSpace()
	valueAt := p.pos
	value, ok, err := p.word()
	if err != nil {
		return Matcher{}, err
	}
	if !ok {
		return Matcher{}, p.errAt(p.pos, "expected a value after %s%s, got %s (write an empty value as \"\")", quoteName(name), t, p.describe())
	}
	m, err := New(t, name, value)
	if err != nil {
		return Matcher{}, p.errAt(valueAt, "%v", err)
	}
	return m, nil
}

// word reads a bare or double-quoted token. ok is false when the input
// does not start one.
func (p *parser) word() (string, bool, error) {
	if p.eof() {
		return "", false, nil
	}
	if p.peek() == '"' {
		return p.quoted()
	}
	start := p.pos
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.in[p.pos:])
		if r == utf8.RuneError && n == 1 {
			return "", false, p.errAt(p.pos, "invalid UTF-8")
		}
		if isReserved(r) {
			break
		}
		p.pos += n
	}
	if p.pos == start {
		return "", false, nil
	}
	return p.in[start:p.pos], true, nil
}

func (p *parser) quoted() (string, bool, error) {
	start := p.pos
	i := p.pos + 1
	for i < len(p.in) {
		switch p.in[i] {
		case '\\':
			i += 2
			continue
		case '"':
			raw := p.in[start : i+1]
			v, err := strconv.Unquote(raw)
			if err != nil {
				return "", false, p.errAt(start, "invalid escape or character in quoted string %s (use \\\" for a quote, \\\\ for a backslash, \\n for a line feed)", raw)
			}
			p.pos = i + 1
			return v, true, nil
		case '\n':
			return "", false, p.errAt(i, "line feed inside a quoted string (write it as \\n)")
		}
		i++
	}
	return "", false, p.errAt(start, "quoted string has no closing \"")
}
