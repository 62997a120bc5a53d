package alertmanager

import (
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// The fast path decodes an array of alerts — what Prometheus posts to
// /api/v2/alerts, thousands of times a second — in one pass over the body.
// encoding/json scanned every byte four or five times (validate the body,
// split the array, validate each alert, decode it, find each label map's
// end) and that was most of the intake's CPU.
//
// It takes only input it fully understands and validates: anything else —
// a malformed body, a value of the wrong type, a key that matches a field
// only case-insensitively, deep nesting — makes it give up, and the
// encoding/json path decodes the body and words the error. A fuzz test holds
// the two paths to the same result on every input the fast path accepts.

const maxSkipDepth = 32

// internBody is the body size above which strings are interned: a body of
// one or two alerts repeats few strings, and the interner's map cost more
// than it saved (a third of parsing one alert).
const internBody = 2048

// fastArray parses body as a JSON array of alerts. ok is false when the fast
// path gave up; otherwise res and err are what the encoding/json path gives.
func (p parser) fastArray(body []byte) (res intake.Result, err error, ok bool) {
	s := scanner{b: body}
	if len(body) > internBody {
		// Several alerts, which repeat label names and values: share them.
		s.in = make(interner)
	} else {
		// One or two alerts: their strings are slices of one copy of the
		// body (one allocation, not one per label name and value).
		s.whole = string(body)
	}
	s.ws()
	if !s.is('[') {
		return res, nil, false
	}
	s.i++
	s.ws()
	var alerts []alert
	var spans [][2]int
	if s.is(']') {
		s.i++
	} else {
		for {
			s.ws()
			start := s.i
			var a alert
			if !s.alert(&a) {
				return res, nil, false
			}
			alerts = append(alerts, a)
			spans = append(spans, [2]int{start, s.i})
			s.ws()
			if s.is(',') {
				s.i++
				continue
			}
			if s.is(']') {
				s.i++
				break
			}
			return res, nil, false
		}
	}
	s.ws()
	if s.i != len(body) {
		return res, nil, false
	}
	if len(alerts) == 0 {
		return res, nil, true
	}
	now := p.now()
	events := make([]event.Event, len(alerts))
	n := 0
	for i := range alerts {
		if err := build(&events[i], i, &alerts[i], now); err != nil {
			return res, err, true
		}
		n += spans[i][1] - spans[i][0]
	}
	// One buffer for every event's Raw, as parseArray does.
	buf := make([]byte, 0, n)
	for i, sp := range spans {
		start := len(buf)
		buf = append(buf, body[sp[0]:sp[1]]...)
		events[i].Raw = buf[start:len(buf):len(buf)]
	}
	return intake.Result{Events: events}, nil, true
}

type scanner struct {
	b     []byte
	i     int
	in    interner
	whole string // b as a string, when strings are cut from it
}

func (s *scanner) ws() { s.i = skipSpace(s.b, s.i) }

func (s *scanner) is(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// str reads a string (interned).
func (s *scanner) str() (string, bool) {
	v, next, err := s.in.readString(s.b, s.i, s.whole)
	if err != nil {
		return "", false
	}
	s.i = next
	return v, true
}

// alertFields are the keys the alert struct decodes; encoding/json matches
// them case-insensitively, which the fast path leaves to it.
var alertFields = []string{"status", "labels", "annotations", "startsAt", "endsAt", "fingerprint"}

// alert reads one alert object into a.
func (s *scanner) alert(a *alert) bool {
	if !s.is('{') {
		return false
	}
	s.i++
	s.ws()
	if s.is('}') {
		s.i++
		return true
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if !s.is(':') {
			return false
		}
		s.i++
		s.ws()
		switch key {
		case "labels":
			if a.Labels.m, ok = s.stringMap(); !ok {
				return false
			}
		case "annotations":
			if a.Annotations.m, ok = s.stringMap(); !ok {
				return false
			}
		case "status", "startsAt", "endsAt", "fingerprint":
			if !s.is('"') {
				return false
			}
			v, ok := s.str()
			if !ok {
				return false
			}
			switch key {
			case "status":
				a.Status = v
			case "startsAt":
				a.StartsAt = v
			case "endsAt":
				a.EndsAt = v
			default:
				a.Fingerprint = v
			}
		default:
			for _, f := range alertFields {
				if strings.EqualFold(key, f) {
					return false
				}
			}
			if !s.skip(0) {
				return false
			}
		}
		s.ws()
		if s.is(',') {
			s.i++
			continue
		}
		if s.is('}') {
			s.i++
			return true
		}
		return false
	}
}

// stringMap reads an object of strings; a later duplicate key wins, as with
// encoding/json.
func (s *scanner) stringMap() (map[string]string, bool) {
	if !s.is('{') {
		return nil, false
	}
	s.i++
	m := make(map[string]string, 8)
	s.ws()
	if s.is('}') {
		s.i++
		return m, true
	}
	for {
		s.ws()
		k, ok := s.str()
		if !ok {
			return nil, false
		}
		s.ws()
		if !s.is(':') {
			return nil, false
		}
		s.i++
		s.ws()
		if !s.is('"') {
			return nil, false
		}
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		m[k] = v
		s.ws()
		if s.is(',') {
			s.i++
			continue
		}
		if s.is('}') {
			s.i++
			return m, true
		}
		return nil, false
	}
}

// skip validates and passes over one JSON value.
func (s *scanner) skip(depth int) bool {
	if depth > maxSkipDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, next, err := interner(nil).readString(s.b, s.i, "")
		if err != nil {
			return false
		}
		s.i = next
		return true
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.ws()
		if s.is(end) {
			s.i++
			return true
		}
		for {
			s.ws()
			if c == '{' {
				if !s.is('"') || !s.skip(depth+1) {
					return false
				}
				s.ws()
				if !s.is(':') {
					return false
				}
				s.i++
				s.ws()
			}
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.is(',') {
				s.i++
				continue
			}
			if s.is(end) {
				s.i++
				return true
			}
			return false
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *scanner) literal(l string) bool {
	if len(s.b)-s.i < len(l) || string(s.b[s.i:s.i+len(l)]) != l {
		return false
	}
	s.i += len(l)
	return true
}

// number passes over a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (s *scanner) number() bool {
	b, i := s.b, s.i
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.i = i
	return true
}
