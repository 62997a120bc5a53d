package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// DecodeJSON decodes a request body into v, turning every failure into a
// *BadRequest whose message says what is wrong in the sender's terms:
// "request body is empty", "invalid JSON: unexpected end of input",
// "request body is not valid JSON", or the field whose type did not fit.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Badf("request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return JSONError(body, err)
	}
	return nil
}

// JSONError converts an encoding/json error on body into a *BadRequest.
func JSONError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syn) && syn.Error() == "unexpected end of JSON input"):
		return Badf("invalid JSON: unexpected end of input")
	case errors.As(err, &syn):
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '[' && trimmed[0] != '"' {
			return Badf("request body is not valid JSON")
		}
		return Badf("invalid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return Badf("%s: expected %s, got JSON %s", field, jsonType(typ.Type), typ.Value)
	}
	return Badf("invalid JSON: %v", err)
}

// jsonType names the JSON type a Go type decodes from, so that a sender reads
// "expected array" rather than "expected []alertmanager.rawAlert".
func jsonType(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return t.String()
}

// Shape names the JSON type of a raw value for error messages:
// "object", "array of numbers", "string", …
func Shape(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "invalid JSON"
	}
	return shapeOf(v)
}

func shapeOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		if len(x) == 0 {
			return "empty array"
		}
		kinds := map[string]bool{}
		for _, e := range x {
			kinds[shapeOf(e)] = true
		}
		if len(kinds) == 1 {
			for k := range kinds {
				return "array of " + plural(k)
			}
		}
		return "array of mixed values"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func plural(s string) string {
	switch s {
	case "object", "string", "number", "boolean":
		return s + "s"
	case "null":
		return "nulls"
	}
	return s
}
