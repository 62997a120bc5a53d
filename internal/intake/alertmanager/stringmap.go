package alertmanager

import (
	"encoding/json"
	"errors"
	"reflect"
	"unicode/utf8"
)

// stringMap decodes a JSON object of strings — labels, annotations — without
// encoding/json's reflection, which allocated three times per entry and
// dominated the cost of a notification. Strings with escapes or invalid
// UTF-8 go through encoding/json, so the result is always what json.Unmarshal
// into map[string]string gives. A value that is not a string is an error
// naming its key; json.Unmarshal prefixes the path ("labels.severity").
//
// Set in before decoding to share strings across the alerts of one payload:
// the alerts of a group repeat the same label names and mostly the same
// values, so most entries then cost no allocation at all.
type stringMap struct {
	m  map[string]string
	in interner
}

// interner hands out one string per distinct byte sequence; it lives for
// one payload.
type interner map[string]string

func (in interner) get(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

var (
	errBadObject = errors.New("malformed JSON object")
	stringType   = reflect.TypeFor[string]()
	objectType   = reflect.TypeFor[map[string]string]()
)

// UnmarshalJSON implements json.Unmarshaler. encoding/json hands it one
// complete, already validated value; it still checks every index, so a
// direct call with bad input returns an error rather than panicking.
func (m *stringMap) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if i < len(b) && b[i] == 'n' { // null: leave unset, like encoding/json
		return nil
	}
	if i >= len(b) || b[i] != '{' {
		return &json.UnmarshalTypeError{Value: valueKind(b, i), Type: objectType}
	}
	out := make(map[string]string, countEntries(b[i:]))
	m.m = out
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		key, next, err := m.in.readString(b, i, "")
		if err != nil {
			return err
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errBadObject
		}
		i = skipSpace(b, i+1)
		if i >= len(b) || b[i] != '"' {
			return &json.UnmarshalTypeError{Value: valueKind(b, i), Type: stringType, Field: key}
		}
		val, next, err := m.in.readString(b, i, "")
		if err != nil {
			return err
		}
		out[key] = val
		i = skipSpace(b, next)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return nil
		default:
			return errBadObject
		}
	}
	return errBadObject
}

// readString decodes the JSON string starting at b[i] == '"' and returns it
// with the index after its closing quote.
//
// A string without escapes is in.get's, or a slice of whole (b as a
// string) when whole is set.
func (in interner) readString(b []byte, i int, whole string) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", i, errBadObject
	}
	plain := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if plain && whole != "" {
				return whole[i+1 : j], j + 1, nil
			}
			if plain {
				return in.get(b[i+1 : j]), j + 1, nil
			}
			var s string
			if err := json.Unmarshal(b[i:j+1], &s); err != nil {
				return "", i, err
			}
			return s, j + 1, nil
		case c == '\\':
			plain = false
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", i, errBadObject
		case c >= utf8.RuneSelf && plain:
			// encoding/json replaces invalid UTF-8; let it.
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			j += size - 1
		}
	}
	return "", i, errBadObject
}

// countEntries counts an object's entries by its commas outside strings, to
// size the map once. It is only a hint, capped so that a hostile body cannot
// make it allocate ahead of the data.
func countEntries(b []byte) int {
	n, inString := 1, false
	for j := 0; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			inString = !inString
		case ',':
			if !inString {
				n++
			}
		}
	}
	return min(n, 256)
}

// valueKind names the JSON value starting at b[i] for a type error.
func valueKind(b []byte, i int) string {
	if i >= len(b) {
		return "nothing"
	}
	switch b[i] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
