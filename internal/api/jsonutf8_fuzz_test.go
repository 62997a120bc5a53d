package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// FuzzWriteJSON: whatever bytes a stored string or raw JSON field holds,
// WriteJSON answers valid JSON in valid UTF-8.
func FuzzWriteJSON(f *testing.F) {
	for _, s := range []string{"plain", "h\xff\xfeost", "\xc3", "é\xed\xa0\x80", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// A raw field holding b as a JSON string's bytes, as a store may
		// hold it: only what would end the string is dropped, invalid
		// bytes kept.
		inner := rawString(b)
		rec := httptest.NewRecorder()
		api.WriteJSON(rec, 200, map[string]any{"s": string(b), "raw": json.RawMessage(`["` + string(inner) + `"]`)})
		out := rec.Body.Bytes()
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Errorf("WriteJSON of %q: %q", b, out)
		}
	})
}

// rawString is b without quotes, backslashes and control characters,
// its invalid bytes kept as they are.
func rawString(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if !(r == '"' || r == '\\' || (r < 0x20 && n == 1 && r != utf8.RuneError)) {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
