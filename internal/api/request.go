package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// DecodeJSON reads the request body into v strictly: an empty body, invalid
// JSON, a wrong type or an unknown field is a 400 naming the problem; a body
// beyond the limit is a 413.
func DecodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return BadRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return BadRequest("invalid JSON: unexpected data after the top-level value")
	}
	return nil
}

func jsonError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("invalid JSON: unexpected end of input")
	case errors.As(err, &syn):
		return BadRequest("invalid JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		return BadRequest("field %q: expected %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return BadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return BadRequest("invalid JSON: %v", err)
}

// Page reads ?limit= and ?cursor=.
func Page(r *http.Request) (store.Page, error) {
	p := store.Page{Cursor: r.URL.Query().Get("cursor")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxPageLimit {
			return p, BadRequest("limit %q must be a number from 1 to %d", l, store.MaxPageLimit)
		}
		p.Limit = n
	}
	return p.Normalize(), nil
}

// List is the shape of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// tenantList is the handler of a list whose only query parameters are the
// tenant and the page; the items are answered as list returns them, the
// page cut short of maxListBytes continuing at cursor of its last item.
func tenantList[T any](s *Server, list func(ctx context.Context, tenant string, page store.Page) ([]T, string, error), cursor func(T) string) HandlerFunc {
	return tenantListView(s, list, cursor, same[T])
}

// tenantListView is tenantList with each item shaped by view.
func tenantListView[T, V any](s *Server, list func(ctx context.Context, tenant string, page store.Page) ([]T, string, error), cursor func(T) string, view func(T) V) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenant, page, err := s.tenantAndPage(r)
		if err != nil {
			return err
		}
		items, next, err := list(r.Context(), tenant, page)
		if err != nil {
			return err
		}
		return WritePage(w, items, next, cursor, view)
	}
}

// tenantAndPage is the tenant a request acts in and the page it asks for.
func (s *Server) tenantAndPage(r *http.Request) (tenant string, page store.Page, err error) {
	if tenant, err = s.Tenant(r); err != nil {
		return "", store.Page{}, err
	}
	page, err = Page(r)
	return tenant, page, err
}

// tenantAndID is the tenant a request acts in and the {id} in its path.
func (s *Server) tenantAndID(r *http.Request) (tenant, id string, err error) {
	if tenant, err = s.Tenant(r); err != nil {
		return "", "", err
	}
	id, err = PathID(r, "id")
	return tenant, id, err
}

// tenantGet is the handler of GET …/{id} for one of a tenant's resources:
// get reads it (store.ErrNotFound answers 404 naming what and the id) and
// view shapes the answer.
func tenantGet[T, V any](s *Server, what string, get func(ctx context.Context, tenant, id string) (T, error), view func(T) V) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenant, id, err := s.tenantAndID(r)
		if err != nil {
			return err
		}
		v, err := get(r.Context(), tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			return NotFound("%s %q not found", what, id)
		}
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, view(v))
		return nil
	}
}

// WritePage writes a page of a store list, each item shaped by view, and
// is how every paged list handler answers: the items stop short of
// maxListBytes of JSON (the first is always sent), and a page cut short
// continues, by next_cursor, after the last item sent (cursor of that
// item, the store's cursor for its list).
func WritePage[T, V any](w http.ResponseWriter, items []T, next string, cursor func(T) string, view func(T) V) error {
	out := make([]V, 0, len(items))
	size := 0
	for i, it := range items {
		v := view(it)
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if size += len(b) + 1; size > maxListBytes && i > 0 {
			next = cursor(items[i-1])
			break
		}
		out = append(out, v)
	}
	WriteList(w, out, next)
	return nil
}

// maxListBytes bounds a list response's items.
const maxListBytes = 4 << 20

// same is the view of a list answered as the store returns it.
func same[T any](v T) T { return v }

// WriteList writes a list of items whole: paged lists answer through
// WritePage; this is for short unpaged ones.
func WriteList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	WriteJSON(w, http.StatusOK, List[T]{Items: items, NextCursor: next})
}

// Principal returns the caller; routes with a MinRole always have one.
func Principal(r *http.Request) auth.Principal {
	p, _ := PrincipalFrom(r.Context())
	return p
}

// Tenant returns the tenant a request acts on: the token's own, or for a
// platform admin the one named by ?tenant= (which must exist).
func (s *Server) Tenant(r *http.Request) (string, error) {
	p := Principal(r)
	var t string
	if r.URL.RawQuery != "" {
		t = r.URL.Query().Get("tenant")
	}
	if t == "" || t == p.TenantID {
		return p.TenantID, nil
	}
	if !p.PlatformAdmin {
		return "", Forbidden("only a platform admin may act on another tenant (?tenant=%s)", t)
	}
	if _, err := s.st.GetTenant(r.Context(), t); err != nil {
		return "", NotFound("tenant %q not found", t)
	}
	return t, nil
}

// PathID returns a path parameter, rejecting empty or oversized values.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if v == "" || len(v) > 128 {
		return "", BadRequest("invalid %s %q", name, v)
	}
	return v, nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return BadRequest("%s is required", field)
	}
	return nil
}

func maxLen(field, v string, n int) error {
	if len(v) > n {
		return BadRequest("%s is longer than %d characters", field, n)
	}
	return nil
}
