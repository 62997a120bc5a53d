package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestLoginGoodToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := e.get("/login", "")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form, `<label for="token">API token</label>`, `type="password"`, `action="/login"`)

	res := e.login(e.acme, "/opsitems?status=open")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/opsitems?status=open" {
		t.Errorf("redirect to %q, want the next page", loc)
	}
	c := cookie(res.Response, sessionCookie)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure without TLS", c)
	}
	if strings.Contains(c.Value, e.acme) {
		t.Error("cookie holds the raw secret; want it encoded")
	}
	if nonce := cookie(res.Response, loginCookie); nonce == nil || nonce.MaxAge >= 0 {
		t.Errorf("login nonce cookie not cleared: %+v", nonce)
	}

	page := e.do(withCookie(httpGet("/"), c))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, "Acme Corp", "viewer", `action="/logout"`)

	// Logged in, /login goes straight on.
	again := e.do(withCookie(httpGet("/login?next=/opsitems"), c))
	wantStatus(t, again, http.StatusSeeOther)
	if loc := again.Header.Get("Location"); loc != "/opsitems" {
		t.Errorf("logged-in /login redirects to %q", loc)
	}
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	res := e.login(e.acme, "")
	wantStatus(t, res, http.StatusSeeOther)
	for _, c := range res.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s not Secure with Options.Secure", c.Name)
		}
	}
}

func TestLoginBadToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, secret := range []string{"fw_not-a-real-token", "", "   "} {
		res := e.login(secret, "/")
		wantStatus(t, res, http.StatusUnauthorized)
		wantContains(t, res, "That token is not valid.", `role="alert"`)
		if cookie(res.Response, sessionCookie) != nil {
			t.Errorf("bad token %q got a session cookie", secret)
		}
	}
}

func TestLoginRevokedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.login(e.acme, "/")
	wantStatus(t, res, http.StatusSeeOther)
	sess := cookie(res.Response, sessionCookie)
	wantStatus(t, e.do(withCookie(httpGet("/opsitems"), sess)), http.StatusOK)

	e.revoke(e.acmeToken)

	// The open session stops working on its next request.
	page := e.do(withCookie(httpGet("/opsitems"), sess))
	wantStatus(t, page, http.StatusSeeOther)
	if loc := page.Header.Get("Location"); loc != "/login?next=%2Fopsitems" {
		t.Errorf("revoked session redirected to %q", loc)
	}
	if c := cookie(page.Response, sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("revoked session's cookie not cleared: %+v", c)
	}
	// And the token cannot log in again.
	again := e.login(e.acme, "/")
	wantStatus(t, again, http.StatusUnauthorized)
	wantContains(t, again, "That token has been revoked.")
}

func TestRedirectToLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for path, want := range map[string]string{
		"/":                              "/login?next=%2F",
		"/opsitems?status=open&q=disk":   "/login?next=%2Fopsitems%3Fstatus%3Dopen%26q%3Ddisk",
		"/opsitems/oi_whatever":          "/login?next=%2Fopsitems%2Foi_whatever",
		"/areas/security":                "/login?next=%2Fareas%2Fsecurity",
		"/opsitems?tenant=globex":        "/login?next=%2Fopsitems%3Ftenant%3Dglobex",
		"/opsitems?status=open&cursor=x": "/login?next=%2Fopsitems%3Fstatus%3Dopen%26cursor%3Dx",
	} {
		res := e.get(path, "")
		wantStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != want {
			t.Errorf("GET %s redirects to %q, want %q", path, loc, want)
		}
	}
	// A garbage cookie is no session either.
	req := httpGet("/")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "%%%not-base64"})
	wantStatus(t, e.do(req), http.StatusSeeOther)

	// The login form carries next through.
	form := e.get("/login?next=%2Fopsitems%3Fstatus%3Dopen", "")
	wantContains(t, form, `name="next" value="/opsitems?status=open"`)
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "/",
		"/":                      "/",
		"/opsitems?status=open":  "/opsitems?status=open",
		"/areas/security":        "/areas/security",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"http:/evil.example":     "/",
		"javascript:alert(1)":    "/",
		"opsitems":               "/",
		"/login":                 "/",
		"/login?next=//evil":     "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example", // a path on this site
		"/opsitems#frag":         "/opsitems#frag",
		"/\t/evil.example":       "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := e.get("/login", "")
	nonce := cookie(form.Response, loginCookie)

	// No nonce cookie (a cross-site POST carries no SameSite=Strict cookie).
	res := e.post("/login", url.Values{"token": {e.acme}, csrfField: {nonce.Value}})
	wantStatus(t, res, http.StatusForbidden)
	// A nonce that does not match.
	res = e.post("/login", url.Values{"token": {e.acme}, csrfField: {"forged"}}, nonce)
	wantStatus(t, res, http.StatusForbidden)
	if cookie(res.Response, sessionCookie) != nil {
		t.Error("forged login got a session")
	}
	// A browser's cross-site POST is refused before anything else.
	req := formRequest("/login", url.Values{"token": {e.acme}, csrfField: {nonce.Value}})
	req.AddCookie(nonce)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res = e.do(req)
	wantStatus(t, res, http.StatusForbidden)
	if cookie(res.Response, sessionCookie) != nil {
		t.Error("cross-site login got a session")
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := cookie(e.login(e.acme, "/").Response, sessionCookie)
	page := e.do(withCookie(httpGet("/"), sess))
	csrf := sessionCSRF(sess.Value)
	wantContains(t, page, `name="csrf" value="`+csrf+`"`)

	// Wrong or missing CSRF token: refused, session kept.
	for _, token := range []string{"", "forged", csrfFor(e.globex)} {
		res := e.post("/logout", url.Values{csrfField: {token}}, sess)
		wantStatus(t, res, http.StatusForbidden)
		if cookie(res.Response, sessionCookie) != nil {
			t.Errorf("logout with CSRF %q touched the session cookie", token)
		}
	}
	wantStatus(t, e.do(withCookie(httpGet("/"), sess)), http.StatusOK)

	res := e.post("/logout", url.Values{csrfField: {csrf}}, sess)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/login" {
		t.Errorf("logout redirects to %q", loc)
	}
	if c := cookie(res.Response, sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %+v", c)
	}
	// The session is gone on the server: the old cookie, replayed, is no
	// session.
	replay := e.do(withCookie(httpGet("/"), sess))
	wantStatus(t, replay, http.StatusSeeOther)
	if loc := replay.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("a logged-out session's cookie led to %q", loc)
	}
	// GET /logout is not a way to log out.
	wantStatus(t, e.get("/logout", e.acme), http.StatusMethodNotAllowed)
}

func TestFormTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.post("/login", url.Values{"token": {strings.Repeat("x", formLimit+1)}})
	wantStatus(t, res, http.StatusRequestEntityTooLarge)
}

func httpGet(path string) *http.Request { return httptest.NewRequest("GET", path, nil) }

func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r.AddCookie(c)
	return r
}

func formRequest(path string, form url.Values) *http.Request {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestSessionServerSide: the cookie holds a random session id, not the
// token; the store keeps only hashes; the session ends after sessionIdle
// without a request and sessionMaxAge after login even when active, and a
// second login gets another id.
func TestSessionServerSide(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := cookie(e.login(e.acme, "/").Response, sessionCookie)
	if c == nil || len(c.Value) != 43 || strings.Contains(c.Value, e.acme) || c.MaxAge != int(sessionMaxAge/time.Second) {
		t.Fatalf("session cookie %+v: want a 43-character random id, not the token", c)
	}
	stored, err := e.st.GetUISession(context.Background(), hashSessionID(c.Value))
	if err != nil || stored.TokenID != e.acmeToken.ID || stored.IDHash == c.Value || strings.Contains(stored.TokenHash, e.acme) {
		t.Fatalf("stored session %+v, %v", stored, err)
	}
	if other := cookie(e.login(e.acme, "/").Response, sessionCookie); other == nil || other.Value == c.Value {
		t.Errorf("a second login reused the session id")
	}
	get := func() int { return e.do(withCookie(httpGet("/opsitems"), c)).StatusCode }

	// Active every 90 minutes: alive past the idle bound, until the
	// absolute one.
	start := e.now
	for e.now.Sub(start) < sessionMaxAge-2*time.Hour {
		e.now = e.now.Add(90 * time.Minute)
		if code := get(); code != http.StatusOK {
			t.Fatalf("active session ended after %s: %d", e.now.Sub(start), code)
		}
	}
	e.now = start.Add(sessionMaxAge)
	if code := get(); code != http.StatusSeeOther {
		t.Errorf("session alive at its absolute bound: %d", code)
	}
	if _, err := e.st.GetUISession(context.Background(), hashSessionID(c.Value)); err == nil {
		t.Error("the expired session is still stored")
	}

	// Idle: a new session, left alone past sessionIdle.
	c = cookie(e.login(e.acme, "/").Response, sessionCookie)
	e.now = e.now.Add(sessionIdle - time.Second)
	if code := get(); code != http.StatusOK {
		t.Fatalf("session ended before its idle bound: %d", code)
	}
	e.now = e.now.Add(sessionIdle)
	if code := get(); code != http.StatusSeeOther {
		t.Errorf("idle session alive after %s: %d", sessionIdle, code)
	}
}

// TestLoginIntakeToken: a sender's intake token reads nothing, in the UI
// neither: its login is refused, and a session cookie holding it is no
// session.
func TestLoginIntakeToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var secret string
	err := e.st.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		_, secret, err = auth.Issue(context.Background(), tx, auth.NewToken{TenantID: "acme", Name: "prometheus", Role: store.RoleIntake}, e.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := e.login(secret, "/")
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, res, "That is an intake token: it can only send events.", `role="alert"`)
	if cookie(res.Response, sessionCookie) != nil {
		t.Error("the intake token got a session cookie")
	}
	openSessions(t, e.st, e.now, secret) // a session stored for it anyway
	page := e.do(withCookie(httpGet("/opsitems"), sessionCookieFor(secret)))
	wantStatus(t, page, http.StatusSeeOther)
	if loc := page.Header.Get("Location"); loc != "/login?next=%2Fopsitems" {
		t.Errorf("an intake session cookie leads to %q", loc)
	}
}
