package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Error is an API error; every error response has the envelope
// {"error":{"code":…,"message":…,"request_id":…}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter is sent as Retry-After with a 429 or 503 (default 1s).
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// BadRequest returns a 400 naming what is wrong.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a 404 for the named object.
func NotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// Forbidden returns a 403.
func Forbidden(format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// Conflict returns a 409.
func Conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: fmt.Sprintf("request body is larger than the %d-byte limit", limit)}
}

// asError maps any error to an *Error: store errors become 404/409,
// everything unknown a 500 that hides its details.
func asError(err error) *Error {
	var ae *Error
	var mbe *http.MaxBytesError
	var se *service.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &se):
		return serviceError(se)
	case errors.As(err, &mbe):
		return tooLarge(mbe.Limit)
	case errors.Is(err, store.ErrNotFound):
		return NotFound("%v", err)
	case errors.Is(err, store.ErrConflict):
		return Conflict("%v", err)
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	body := struct {
		Error struct {
			*Error
			RequestID string `json:"request_id,omitempty"`
		} `json:"error"`
	}{}
	body.Error.Error = e
	body.Error.RequestID = RequestID(r.Context())
	if e.Status == http.StatusUnauthorized {
		// Senders that only put credentials in the URL (SNS) send them only
		// after a Basic challenge.
		w.Header().Set("WWW-Authenticate", `Bearer realm="flywheel", Basic realm="flywheel"`)
	}
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())+1))
		} else if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	WriteJSON(w, e.Status, body)
}

// WriteJSON writes v as a JSON response with the given status. It is the
// one place invalid UTF-8 is kept out of JSON responses: encoding/json
// coerces strings, but raw JSON fields (json.RawMessage) are copied as
// stored, so each invalid byte left in the encoding (only ever inside a
// string) becomes the escape \ufffd.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	b := buf.Bytes()
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte(`\ufffd`))
	}
	_, _ = w.Write(b)
}

// reqKey is the context key of a request's reqInfo.
type reqKey struct{}

// reqInfo is what the API keeps about a request in its context: one value,
// so that a request takes one context and one copy of *http.Request
// however much is kept (the principal is filled in after authentication).
type reqInfo struct {
	id           string
	principal    auth.Principal
	hasPrincipal bool
}

func infoFrom(ctx context.Context) *reqInfo {
	ri, _ := ctx.Value(reqKey{}).(*reqInfo)
	return ri
}

// RequestID returns the request's ID.
func RequestID(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// requestID takes a sane incoming X-Request-Id or makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && printable(id) {
		return id
	}
	// An ID only has to tell requests apart in logs: no cryptographic
	// randomness (a system call each) needed.
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
