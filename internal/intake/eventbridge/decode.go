package eventbridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// decodeAt decodes raw into v. A value of the wrong JSON type becomes a
// *intake.BadRequest naming the field by its path from the body root, so
// the sender reads "detail.severity: expected number, got string".
func decodeAt(raw json.RawMessage, v any, path string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return intake.Badf("%s: expected %s, got %s", orBody(joinPath(path, typ.Field)), kindName(typ.Type), valueName(typ.Value))
	}
	// raw was cut from an already validated body, so only type errors are
	// expected; anything else is still the sender's payload.
	return intake.Badf("%s: %v", orBody(path), err)
}

func joinPath(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "":
		return path
	case field[0] == '[':
		return path + field
	}
	return path + "." + field
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// kindName names a Go type the way a JSON sender thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.Number]() {
		return "number"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// valueName turns encoding/json's description of the offending value
// ("number 5", "bool") into a JSON type name.
func valueName(v string) string {
	switch {
	case strings.HasPrefix(v, "number"):
		return "number"
	case v == "bool":
		return "boolean"
	}
	return v
}

func itoa(i int) string { return strconv.Itoa(i) }

// setLabel sets m[k] unless v is empty, so labels hold only known facts.
func setLabel(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// numberString formats a JSON number for a label without float noise.
func numberString(n json.Number) string {
	if n == "" {
		return ""
	}
	f, err := n.Float64()
	if err != nil {
		return string(n)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
