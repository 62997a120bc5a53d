package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// env is a UI over a SQLite store holding two tenants, acme and globex,
// with a few OpsItems, a viewer token for each and a platform-admin token.
type env struct {
	t   *testing.T
	st  store.Store
	h   *Handler
	now time.Time

	acme, globex, admin string // token secrets
	acmeToken           store.Token
	items               map[string]store.OpsItem // by title
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	e := &env{t: t, st: st, now: time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC), items: map[string]store.OpsItem{}}
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, tn := range []store.Tenant{{ID: "default", Name: "Default tenant"}, {ID: "acme", Name: "Acme Corp"}, {ID: "globex", Name: "Globex"}} {
			tn.CreatedAt = e.now
			if err := tx.CreateTenant(ctx, tn); err != nil {
				return err
			}
		}
		var err error
		if e.acmeToken, e.acme, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "acme viewer", Role: store.RoleViewer}, e.now); err != nil {
			return err
		}
		if _, e.globex, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "globex", Name: "globex viewer", Role: store.RoleViewer}, e.now); err != nil {
			return err
		}
		if _, e.admin, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "default", Name: "admin", Role: store.RoleAdmin, PlatformAdmin: true}, e.now); err != nil {
			return err
		}
		for i, o := range []store.OpsItem{
			{TenantID: "acme", Title: "Disk almost full on db-01", Description: "Volume /var at 93%.\nGrowing 2%/day.", Category: "finance", Severity: "high", Status: "open"},
			{TenantID: "acme", Title: "GuardDuty: SSH brute force", Category: "security", Severity: "critical", Status: "open"},
			{TenantID: "acme", Title: "Patch window overran", Category: "patching", Severity: "medium", Status: "in-progress"},
			{TenantID: "acme", Title: "Backup restore test failed", Category: "backup", Severity: "high", Status: "resolved"},
			{TenantID: "acme", Title: `<script>alert("x")</script> in title`, Category: "operations", Severity: "info", Status: "open"},
			{TenantID: "globex", Title: "Globex secret outage", Category: "monitoring", Severity: "critical", Status: "open"},
		} {
			at := e.now.Add(time.Duration(i) * time.Minute)
			o.ID, o.Source, o.CreatedAt, o.UpdatedAt = store.NewID("oi", at), "manual", at, at
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			e.items[o.Title] = o
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	openSessions(t, st, e.now, e.acme, e.globex, e.admin)
	e.h, err = New(Options{Store: st, Clock: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// response is a finished request.
type response struct {
	*http.Response
	body string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

// get requests path with the session of secret ("" for none).
func (e *env) get(path, secret string) response {
	e.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if secret != "" {
		req.AddCookie(sessionCookieFor(secret))
	}
	return e.do(req)
}

func (e *env) post(path string, form url.Values, cookies ...*http.Cookie) response {
	e.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

// login goes through the login form with secret and returns the response
// to the POST.
func (e *env) login(secret, next string) response {
	e.t.Helper()
	form := e.get("/login", "")
	if form.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /login: %d", form.StatusCode)
	}
	nonce := cookie(form.Response, loginCookie)
	if nonce == nil || !strings.Contains(form.body, `value="`+nonce.Value+`"`) {
		e.t.Fatalf("login form has no CSRF nonce matching its cookie")
	}
	return e.post("/login", url.Values{"token": {secret}, csrfField: {nonce.Value}, "next": {next}}, nonce)
}

// testSessions maps the tests' token secrets to the ids of the UI
// sessions openSessions stored for them.
var testSessions sync.Map

// openSessions logs each secret in (a stored session, as the login form
// makes) at now, for sessionCookieFor and csrfFor.
func openSessions(tb testing.TB, st store.Store, now time.Time, secrets ...string) {
	tb.Helper()
	for _, secret := range secrets {
		_, id, err := startSession(context.Background(), st, secret, now)
		if err != nil {
			tb.Fatal(err)
		}
		testSessions.Store(secret, id)
	}
}

func sessionID(secret string) string {
	id, ok := testSessions.Load(secret)
	if !ok {
		panic("no session opened for this token (openSessions)")
	}
	return id.(string)
}

// sessionCookieFor is the cookie of the session openSessions opened for
// secret.
func sessionCookieFor(secret string) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: sessionID(secret)}
}

// csrfFor is the CSRF token of the forms of secret's session.
func csrfFor(secret string) string { return sessionCSRF(sessionID(secret)) }

func cookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (e *env) revoke(tok store.Token) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.InTx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, tok.TenantID, tok.ID, e.now) }); err != nil {
		e.t.Fatal(err)
	}
}

func wantStatus(t *testing.T, r response, code int) {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, code, excerpt(r.body))
	}
}

func wantContains(t *testing.T, r response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: body lacks %q:\n%s", r.Request.URL, s, excerpt(r.body))
		}
	}
}

func wantLacks(t *testing.T, r response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(r.body, s) {
			t.Errorf("%s: body contains %q", r.Request.URL, s)
		}
	}
}

var mainRE = regexp.MustCompile(`(?s)<main.*</main>`)

// excerpt is the <main> of a page, to keep failure output short.
func excerpt(body string) string {
	if m := mainRE.FindString(body); m != "" {
		return m
	}
	if len(body) > 2000 {
		return body[:2000]
	}
	return body
}

// rows counts the table rows of OpsItems on a page.
func rows(body string) int {
	return strings.Count(body, `<tr data-opsitem="`)
}

func itemLink(o store.OpsItem) string { return fmt.Sprintf(`href="/opsitems/%s"`, o.ID) }
