package api_test

// The acceptance harness: a real store (SQLite in t.TempDir, or PostgreSQL
// in a schema of its own), tenants "acme" and "globex" with a token of each
// role, a platform-admin token in a tenant of its own, revoked and expired
// tokens, an api.Server behind httptest.NewServer, and a fixed clock that
// moves only when a test advances it.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// epoch is the harness clock's starting time.
var epoch = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// fakeClock is fixed until Advance moves it.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// driver opens a fresh, empty store for one test.
type driver struct {
	name string
	open func(t *testing.T) store.Store
}

// drivers are the store drivers suites that must hold on every database run
// against. PostgreSQL skips (with a message) only when no server answers.
var drivers = []driver{
	{"sqlite", openSQLite},
	{"postgres", func(t *testing.T) store.Store { return postgres.OpenTest(t) }},
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flywheel.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The seeded tenants: two customers and the platform operator's own.
const (
	acme     = "acme"
	globex   = "globex"
	platform = "platform"
)

var (
	customers = []string{acme, globex}
	roles     = []store.Role{store.RoleViewer, store.RoleOperator, store.RoleAdmin}
)

// tenantName is the display name seeded for a tenant: a string only that
// tenant's records contain, so leaks are searchable.
func tenantName(id string) string { return "Tenant " + id + " Incorporated" }

// cred is a token the harness issued, with its secret.
type cred struct {
	ID       string
	Secret   string
	Tenant   string
	Role     store.Role
	Platform bool
}

// Actor is how audit records name the token.
func (c cred) Actor() string { return "token:" + c.ID }

type harness struct {
	t      *testing.T
	st     store.Store
	srv    *api.Server
	url    string
	client *http.Client
	clock  *fakeClock
	reg    *prometheus.Registry
	// bodyRead counts the request-body bytes the API read, across requests.
	bodyRead atomic.Int64
	intake   *fakeIntake
	// content is the content reloader (content_test.go).
	content *fakeContent
	// runbooks is the runbook service (runbooks_test.go).
	runbooks *harnessRunbooks
	// creds by key: "<tenant>/<role>" (roles, and "<tenant>/intake"), "<tenant>/revoked",
	// "<tenant>/expired" (both admin role) and "platform".
	creds map[string]cred
}

// newHarness is the harness on a fresh SQLite store.
func newHarness(t *testing.T) *harness { return newHarnessOn(t, openSQLite(t)) }

// newHarnessOn seeds st and serves the API on it.
func newHarnessOn(t *testing.T, st store.Store) *harness {
	t.Helper()
	h := &harness{t: t, st: st, clock: newFakeClock(epoch), reg: prometheus.NewRegistry(), creds: map[string]cred{}}
	ctx := context.Background()
	now := h.clock.Now()
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, id := range []string{acme, globex, platform} {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: id, Name: tenantName(id), CreatedAt: now}); err != nil {
				return err
			}
		}
		issue := func(key string, n auth.NewToken) (store.Token, error) {
			n.Name, n.CreatedBy = key, "test:harness"
			tok, secret, err := auth.Issue(ctx, tx, n, now)
			if err != nil {
				return tok, err
			}
			h.creds[key] = cred{ID: tok.ID, Secret: secret, Tenant: n.TenantID, Role: n.Role, Platform: n.PlatformAdmin}
			return tok, nil
		}
		past := now.Add(-time.Minute)
		for _, tenant := range customers {
			for _, role := range roles {
				if _, err := issue(tenant+"/"+string(role), auth.NewToken{TenantID: tenant, Role: role}); err != nil {
					return err
				}
			}
			if _, err := issue(tenant+"/intake", auth.NewToken{TenantID: tenant, Role: store.RoleIntake}); err != nil {
				return err
			}
			if _, err := issue(tenant+"/expired", auth.NewToken{TenantID: tenant, Role: store.RoleAdmin, ExpiresAt: &past}); err != nil {
				return err
			}
			tok, err := issue(tenant+"/revoked", auth.NewToken{TenantID: tenant, Role: store.RoleAdmin})
			if err != nil {
				return err
			}
			if err := tx.RevokeToken(ctx, tenant, tok.ID, now); err != nil {
				return err
			}
		}
		_, err := issue(platform, auth.NewToken{TenantID: platform, Role: store.RoleAdmin, PlatformAdmin: true})
		return err
	})
	if err != nil {
		t.Fatalf("seed store: %v", err)
	}
	h.intake = &fakeIntake{}
	h.content = &fakeContent{}
	h.runbooks = newHarnessRunbooks(t, st)
	rules := harnessRules(t)
	costs, forecasts := harnessCost(t, st, h.runbooks.x, h.clock.Now)
	h.srv = api.New(api.Options{Store: st, Clock: h.clock.Now, Registerer: h.reg, Gatherer: h.reg, Intake: h.intake, Runbooks: h.runbooks.x,
		Cost: costs, Forecasts: forecasts,
		Rules: rules, Breakers: &rule.Engine{Rules: rules, Now: h.clock.Now}, Applications: harnessApps(t),
		Patch: patch.New(patch.Options{Store: st, Clock: h.clock.Now}), Backup: harnessBackup(t, st, h.clock.Now), Content: h.content, PackContent: packContent{st},
		Channels: map[string]string{"ops-slack": "slack"},
		// Tests send many bad tokens from 127.0.0.1 and count every denied
		// call's audit record; limits_test.go checks the limits on servers
		// of their own.
		AuthFailBurst: -1, DeniedAuditBurst: -1})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Count on a shallow copy: net/http inspects its own request's
		// Body after the handler to decide whether to drain or close.
		counted := *r
		counted.Body = &countingBody{ReadCloser: r.Body, n: &h.bodyRead}
		h.srv.ServeHTTP(w, &counted)
	}))
	t.Cleanup(ts.Close)
	h.url, h.client = ts.URL, ts.Client()
	return h
}

// countingBody counts what the server reads from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// cred returns a seeded token by key.
func (h *harness) cred(key string) cred {
	h.t.Helper()
	c, ok := h.creds[key]
	if !ok {
		h.t.Fatalf("no seeded token %q", key)
	}
	return c
}

// secret is a seeded token's secret.
func (h *harness) secret(key string) string { return h.cred(key).Secret }

// reply is a finished HTTP exchange.
type reply struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (r reply) String() string {
	b := strings.TrimSpace(string(r.Body))
	if len(b) > 400 {
		b = b[:400] + "…"
	}
	return r.Method + " " + r.Path + " → " + strconv.Itoa(r.Status) + ": " + b
}

// call sends method path with the bearer secret ("" for none). body is nil
// (no body), a string or []byte (sent raw), an io.Reader (streamed,
// chunked), or anything else (sent as JSON). hdr are header name/value pairs.
func (h *harness) call(method, path, secret string, body any, hdr ...string) reply {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read response: %v", method, path, err)
	}
	return reply{Method: method, Path: path, Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// ok asserts a 2xx status (want, when given) and decodes the body into v.
func (r reply) ok(t *testing.T, want int, v any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%v; want status %d", r, want)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id header", r.Method, r.Path)
	}
	if v != nil {
		// Decode into a zero value: omitted fields must not keep what an
		// earlier response put there.
		reflect.ValueOf(v).Elem().SetZero()
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%s %s: decode %q: %v", r.Method, r.Path, r.Body, err)
		}
	}
}

// apiError is the decoded error envelope.
type apiError struct {
	Code, Message, RequestID string
}

// requestIDPattern is what a generated request ID looks like.
var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// fail asserts r is an error with the given status and code (code "" skips
// that check), in the envelope {"error":{"code","message","request_id"}}
// with exactly those keys, the request ID equal to the X-Request-Id header,
// and a message containing every string in contains.
func (r reply) fail(t *testing.T, status int, code string, contains ...string) apiError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want status %d", r, status)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: error Content-Type %q, want application/json", r.Method, r.Path, ct)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("%s %s: error body is not the envelope: %q: %v", r.Method, r.Path, r.Body, err)
	}
	inner, ok := env["error"]
	if len(env) != 1 || !ok {
		t.Fatalf("%s %s: error body %q: want exactly {\"error\":{…}}", r.Method, r.Path, r.Body)
	}
	keys := make([]string, 0, len(inner))
	for k := range inner {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"code", "message", "request_id"}) {
		t.Errorf("%s %s: error keys %v, want [code message request_id]", r.Method, r.Path, keys)
	}
	e := apiError{Code: inner["code"], Message: inner["message"], RequestID: inner["request_id"]}
	if e.Code == "" || e.Message == "" {
		t.Errorf("%s %s: empty code or message in %q", r.Method, r.Path, r.Body)
	}
	if code != "" && e.Code != code {
		t.Errorf("%s %s: code %q, want %q (%s)", r.Method, r.Path, e.Code, code, e.Message)
	}
	if rid := r.Header.Get("X-Request-Id"); rid == "" || rid != e.RequestID {
		t.Errorf("%s %s: X-Request-Id header %q, envelope request_id %q: want equal and non-empty", r.Method, r.Path, rid, e.RequestID)
	}
	for _, s := range contains {
		if !strings.Contains(e.Message, s) {
			t.Errorf("%s %s: message %q does not contain %q", r.Method, r.Path, e.Message, s)
		}
	}
	return e
}

// createOpsItem creates an OpsItem through the API.
func (h *harness) createOpsItem(secret string, in api.OpsItemInput) store.OpsItem {
	h.t.Helper()
	var o store.OpsItem
	h.call("POST", "/api/v1/opsitems", secret, in).ok(h.t, http.StatusCreated, &o)
	return o
}

// auditOf returns tenant's whole audit chain, oldest first, from the store.
func (h *harness) auditOf(tenant string) []store.AuditRecord {
	h.t.Helper()
	var out []store.AuditRecord
	err := h.st.ScanAudit(context.Background(), tenant, 0, func(r store.AuditRecord) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		h.t.Fatalf("scan audit of %s: %v", tenant, err)
	}
	return out
}

// opsItemsOf returns every OpsItem of tenant, newest first, from the store.
func (h *harness) opsItemsOf(tenant string) []store.OpsItem {
	h.t.Helper()
	var out []store.OpsItem
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		items, next, err := h.st.ListOpsItems(context.Background(), tenant, store.OpsItemFilter{}, page)
		if err != nil {
			h.t.Fatalf("list opsitems of %s: %v", tenant, err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		page.Cursor = next
	}
}

// tokensOf returns every token of tenant from the store.
func (h *harness) tokensOf(tenant string) []store.Token {
	h.t.Helper()
	var out []store.Token
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		items, next, err := h.st.ListTokens(context.Background(), tenant, page)
		if err != nil {
			h.t.Fatalf("list tokens of %s: %v", tenant, err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		page.Cursor = next
	}
}

// ids returns the IDs of OpsItems.
func ids(items []store.OpsItem) []string {
	out := make([]string, len(items))
	for i, o := range items {
		out[i] = o.ID
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// concretePath fills a ServeMux pattern's wildcards with v.
func concretePath(pattern, v string) string {
	return wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return v
	})
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// mustJSON marshals v for comparisons.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeIntake stands in for the intake pipeline so the intake routes are
// registered: every source parses any JSON object into one event, and
// Submit records which tenant a delivery was committed for.
type fakeIntake struct {
	mu      sync.Mutex
	submits []string // "<tenant>/<source>"
}

func (f *fakeIntake) Adapter(source string) (intake.Adapter, bool) {
	return fakeAdapter(source), source != "nonexistent"
}

func (f *fakeIntake) Submit(ctx context.Context, tenant, source string, body []byte, header json.RawMessage, evs []event.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submits = append(f.submits, tenant+"/"+source)
	return nil
}

// submitted returns the deliveries committed so far.
func (f *fakeIntake) submitted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.submits)
}

type fakeAdapter string

func (a fakeAdapter) Name() string { return string(a) }

func (a fakeAdapter) Parse(ctx context.Context, req intake.Request) (intake.Result, error) {
	var m map[string]any
	if err := json.Unmarshal(req.Body, &m); err != nil {
		return intake.Result{}, intake.Badf("body is not a JSON object: %v", err)
	}
	return intake.Result{Events: []event.Event{{}}}, nil
}
