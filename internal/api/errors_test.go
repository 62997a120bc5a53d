package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// TestMalformedJSON: every body the API cannot take is a 400 whose message
// names the problem, and nothing is stored or audited.
func TestMalformedJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	item := h.createOpsItem(h.secret("acme/operator"), api.OpsItemInput{Title: "existing"})
	before := snapshot(t, h, acme)
	op, admin, pa := h.secret("acme/operator"), h.secret("acme/admin"), h.secret(platform)
	patch := "/api/v1/opsitems/" + item.ID
	cases := []struct {
		name, secret, method, path, body string
		want                             []string
	}{
		{"truncated object", op, "POST", "/api/v1/opsitems", `{"title": "disk full"`, []string{"unexpected end of input"}},
		{"truncated string", op, "POST", "/api/v1/opsitems", `{"title": "dis`, []string{"unexpected end of input"}},
		{"truncated patch", op, "PATCH", patch, `{"status":`, []string{"unexpected end of input"}},
		{"wrong type", op, "POST", "/api/v1/opsitems", `{"title": 42}`, []string{`"title"`, "string", "number"}},
		{"wrong type in patch", op, "PATCH", patch, `{"severity": ["high"]}`, []string{`"severity"`, "array"}},
		{"wrong type in token", admin, "POST", "/api/v1/tokens", `{"name": "ci", "role": 3}`, []string{`"role"`, "number"}},
		{"wrong type in tenant", pa, "POST", "/api/v1/tenants", `{"id": true}`, []string{`"id"`, "bool"}},
		{"top-level array", op, "POST", "/api/v1/opsitems", `[{"title": "x"}]`, []string{"array"}},
		{"unknown field", op, "POST", "/api/v1/opsitems", `{"title": "x", "priority": 1}`, []string{"unknown field", `"priority"`}},
		{"unknown field in patch", op, "PATCH", patch, `{"resolved_by": "me"}`, []string{"unknown field", `"resolved_by"`}},
		{"unknown field in token", admin, "POST", "/api/v1/tokens", `{"name": "ci", "role": "viewer", "secret": "fw_x"}`, []string{"unknown field", `"secret"`}},
		{"empty body", op, "POST", "/api/v1/opsitems", ``, []string{"request body is empty"}},
		{"blank body", op, "PATCH", patch, " \n\t", []string{"request body is empty"}},
		{"empty token body", admin, "POST", "/api/v1/tokens", ``, []string{"request body is empty"}},
		{"empty tenant body", pa, "POST", "/api/v1/tenants", ``, []string{"request body is empty"}},
		{"syntax error", op, "POST", "/api/v1/opsitems", `{"title" "x"}`, []string{"invalid JSON at byte"}},
		{"two values", op, "POST", "/api/v1/opsitems", `{"title": "a"} {"title": "b"}`, []string{"unexpected data after the top-level value"}},
		{"missing title", op, "POST", "/api/v1/opsitems", `{"severity": "high"}`, []string{"title is required"}},
		{"bad severity", op, "POST", "/api/v1/opsitems", `{"title": "x", "severity": "urgent"}`, []string{"severity", `"urgent"`, "critical, high, medium, low, info"}},
		{"bad category", op, "POST", "/api/v1/opsitems", `{"title": "x", "category": "misc"}`, []string{"category", `"misc"`, "operations"}},
		{"bad tenant id", pa, "POST", "/api/v1/tenants", `{"id": "Not A Slug"}`, []string{"id", `"Not A Slug"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.call(tc.method, tc.path, tc.secret, tc.body).fail(t, http.StatusBadRequest, "bad_request", tc.want...)
		})
	}
	if now := snapshot(t, h, acme); now != before {
		t.Errorf("rejected bodies changed acme:\n%s\n→\n%s", before, now)
	}
	if n := len(h.auditOf(platform)); n != 0 {
		t.Errorf("rejected tenant bodies wrote %d audit records", n)
	}
}

// TestOversizedBody: a body beyond the 10 MiB limit is a 413, whether it
// announces its length (then it is refused unread) or streams chunked.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	const size = 12 << 20
	const limit = 10 << 20

	t.Run("content-length refused before reading", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// Send only the head of a 12 MiB request: the answer must come
		// without a single body byte on the wire.
		u, _ := url.Parse(h.url)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /api/v1/opsitems HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\nX-Request-Id: big-body-1\r\n\r\n", u.Host, h.secret("acme/operator"), size)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no response to the request head alone: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := reply{Method: "POST", Path: "/api/v1/opsitems", Status: resp.StatusCode, Header: resp.Header, Body: b}
		e := r.fail(t, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprint(limit))
		if e.RequestID != "big-body-1" {
			t.Errorf("request_id = %q, want the incoming big-body-1", e.RequestID)
		}
		if n := h.bodyRead.Load(); n != 0 {
			t.Errorf("the API read %d body bytes of a request it refused by Content-Length", n)
		}

		// The same through net/http with a reader that counts what the
		// client could hand over before the refusal arrived.
		var sent atomic.Int64
		req, _ := http.NewRequest("POST", h.url+"/api/v1/opsitems", &countingReader{r: jsonFiller(size), n: &sent})
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+h.secret("acme/operator"))
		resp, err = h.client.Do(req)
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		r = reply{Method: "POST", Path: "/api/v1/opsitems", Status: resp.StatusCode, Header: resp.Header, Body: b}
		r.fail(t, http.StatusRequestEntityTooLarge, "body_too_large")
		if n := h.bodyRead.Load(); n != 0 {
			t.Errorf("the API read %d body bytes of a request it refused by Content-Length", n)
		}
		t.Logf("client handed %d of %d bytes to the socket before the 413", sent.Load(), size)
		// What the client got rid of sits in socket buffers (a few hundred
		// KiB on loopback, at most the 4 MiB send-buffer cap): the server
		// never pulled the body through.
		if n := sent.Load(); n > size/2 {
			t.Errorf("the client handed over %d of %d bytes before the 413: the server drained the body", n, size)
		}
		if n := len(h.opsItemsOf(acme)) + len(h.auditOf(acme)); n != 0 {
			t.Errorf("store saw %d OpsItems/audit records from refused bodies", n)
		}
	})

	t.Run("chunked", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		var sent atomic.Int64
		// An io.Reader of unknown length goes out chunked (no Content-Length).
		body := &countingReader{r: jsonFiller(size), n: &sent}
		r := h.call("POST", "/api/v1/opsitems", h.secret("acme/operator"), io.Reader(body))
		r.fail(t, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprint(limit))
		if n := h.bodyRead.Load(); n > limit+1 {
			t.Errorf("the API read %d body bytes, more than the limit+1 (%d)", n, limit+1)
		}
		if n := len(h.opsItemsOf(acme)) + len(h.auditOf(acme)); n != 0 {
			t.Errorf("store saw %d OpsItems/audit records from refused bodies", n)
		}
	})

	t.Run("just under the limit is read", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// 9 MiB of JSON is accepted as far as size goes; its description
		// is then too long, which is a 400 naming the field.
		desc := strings.Repeat("x", 9<<20)
		r := h.call("POST", "/api/v1/opsitems", h.secret("acme/operator"), api.OpsItemInput{Title: "big", Description: desc})
		r.fail(t, http.StatusBadRequest, "bad_request", "description is longer than")
	})
}

// jsonFiller is n bytes of a JSON object with one long string value.
func jsonFiller(n int64) io.Reader {
	head, tail := `{"title":"`, `"}`
	return io.MultiReader(strings.NewReader(head),
		io.LimitReader(repeatByte('a'), n-int64(len(head)+len(tail))), strings.NewReader(tail))
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestUnknownRouteAndMethod: unknown paths are a JSON 404; a known path
// with a method it does not have is a JSON 405 whose Allow lists exactly
// the registered methods.
func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, p := range []string{"/", "/api", "/api/v1", "/api/v1/nope", "/api/v2/opsitems", "/api/v1/opsitems/a/b", "/api/v1/tenants/acme/tokens"} {
		h.call("GET", p, h.secret("acme/admin"), nil).fail(t, http.StatusNotFound, "not_found", "no such route", p)
		h.call("POST", p, "", `{}`).fail(t, http.StatusNotFound, "not_found")
	}

	methods := map[string][]string{}
	for _, rt := range h.srv.Routes() {
		methods[rt.Pattern] = append(methods[rt.Pattern], rt.Method)
		if rt.Method == "GET" {
			methods[rt.Pattern] = append(methods[rt.Pattern], "HEAD")
		}
	}
	checked := 0
	for pattern, allowed := range methods {
		path := concretePath(pattern, "x")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(allowed, m) {
				continue
			}
			r := h.call(m, path, h.secret("acme/admin"), `{}`)
			r.fail(t, http.StatusMethodNotAllowed, "method_not_allowed", m, path)
			got := strings.Split(r.Header.Get("Allow"), ", ")
			if !sameSet(got, allowed) {
				t.Errorf("%s %s: Allow %q, want %v", m, path, r.Header.Get("Allow"), allowed)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d wrong-method checks", checked)
	}
	if n := len(h.auditOf(acme)); n != 0 {
		t.Errorf("unrouted requests wrote %d audit records", n)
	}
}

// TestRequestID: every response carries X-Request-Id; a sane incoming one
// is echoed (header and error envelope), anything else is replaced.
func TestRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.call("GET", "/api/v1/opsitems/nope", h.secret("acme/viewer"), nil, "X-Request-Id", "trace-4711.abc")
	if e := r.fail(t, http.StatusNotFound, "not_found"); e.RequestID != "trace-4711.abc" {
		t.Errorf("request_id %q, want the incoming trace-4711.abc", e.RequestID)
	}
	r = h.call("GET", "/healthz", "", nil, "X-Request-Id", "trace-4712")
	if got := r.Header.Get("X-Request-Id"); got != "trace-4712" {
		t.Errorf("success response X-Request-Id %q, want trace-4712", got)
	}
	seen := map[string]bool{}
	for _, in := range []string{"", "has space", strings.Repeat("a", 65), "tab\there", "ünïcode"} {
		r := h.call("GET", "/api/v1/nope", "", nil, "X-Request-Id", in)
		e := r.fail(t, http.StatusNotFound, "not_found")
		if !requestIDPattern.MatchString(e.RequestID) || e.RequestID == in {
			t.Errorf("incoming %q: request_id %q, want a generated one", in, e.RequestID)
		}
		if seen[e.RequestID] {
			t.Errorf("request ID %q reused", e.RequestID)
		}
		seen[e.RequestID] = true
	}
	// Every error path echoes it: 401, 403, 400, 405.
	for _, c := range []struct {
		id, method, secret string
		body               any
		status             int
	}{
		{"r401", "GET", "", nil, 401},
		{"r403", "POST", h.secret("acme/viewer"), `{}`, 403},
		{"r400", "POST", h.secret("acme/operator"), `{`, 400},
		{"r405", "DELETE", h.secret("acme/operator"), nil, 405},
	} {
		e := h.call(c.method, "/api/v1/opsitems", c.secret, c.body, "X-Request-Id", c.id).fail(t, c.status, "")
		if e.RequestID != c.id {
			t.Errorf("%d: request_id %q, want %q", c.status, e.RequestID, c.id)
		}
	}
}
