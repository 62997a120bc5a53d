package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
)

// everyResponse requests every page the UI has — logged out, as a tenant
// user and as the platform admin, including error pages, assets, redirects
// and form answers — and calls check on each.
func everyResponse(t *testing.T, e *env, check func(t *testing.T, name string, r response)) {
	t.Helper()
	var paths []string
	for _, o := range e.items {
		paths = append(paths, "/opsitems/"+o.ID)
	}
	for _, c := range opsitem.Categories {
		paths = append(paths, "/areas/"+c)
	}
	paths = append(paths, "/", "/opsitems", "/opsitems?status=open&severity=high&category=finance&q=disk",
		"/opsitems?q=nothing", "/opsitems?severity=bogus", "/opsitems?tenant=globex", "/areas/nope",
		"/no/such/page", "/events", "/events?decision=suppressed&source=x&from=2026-05-04T09:00", "/events?from=bad", "/login", "/login?next=/opsitems", "/static/style.css", "/static/favicon.svg", "/static/missing.js")
	for _, who := range []struct{ name, secret string }{{"anonymous", ""}, {"acme", e.acme}, {"admin", e.admin}} {
		for _, p := range paths {
			check(t, who.name+" GET "+p, e.get(p, who.secret))
		}
	}
	check(t, "admin GET /?tenant=acme", e.get("/?tenant=acme", e.admin))
	check(t, "admin GET opsitem of acme", e.get("/opsitems/"+e.items["Disk almost full on db-01"].ID+"?tenant=acme", e.admin))
	check(t, "bad login", e.login("fw_wrong", "/"))
	check(t, "good login", e.login(e.acme, "/"))
	check(t, "forged logout", e.post("/logout", url.Values{csrfField: {"x"}}, sessionCookieFor(e.acme)))
	check(t, "logout", e.post("/logout", url.Values{csrfField: {csrfFor(e.acme)}}, sessionCookieFor(e.acme)))
	check(t, "POST to a page", e.post("/opsitems", url.Values{}, sessionCookieFor(e.acme)))
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := 0
	everyResponse(t, e, func(t *testing.T, name string, r response) {
		n++
		checkHeaders(t, name, r)
	})
	if n < 90 {
		t.Errorf("checked only %d responses", n)
	}
}

var (
	// absoluteURL finds anything that would make the browser leave this
	// origin: a scheme URL or a protocol-relative one.
	absoluteURL = regexp.MustCompile(`(?i)\b(https?|wss?|ftp):|(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*//|url\(\s*["']?\s*//|@import`)
	// codeText is the content of code and pre elements.
	codeText = regexp.MustCompile(`(?s)<code>[^<]*</code>|<pre class="snippet"[^>]*>[^<]*</pre>`)
	// svgNamespace is a name, not a request; SVG files must declare it.
	svgNamespace = regexp.MustCompile(`xmlns="http://www\.w3\.org/2000/svg"`)
)

func TestNoExternalRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pages := 0
	everyResponse(t, e, func(t *testing.T, name string, r response) {
		if checkOrigin(t, name, r) {
			pages++
		}
	})
	if pages < 50 {
		t.Errorf("checked only %d HTML pages", pages)
	}
}

// scriptTag matches a script element: its src and its inline body.
var scriptTag = regexp.MustCompile(`<script\b([^>]*)>([\s\S]*?)</script>`)

// isPage reports whether r is a rendered page (not an asset or a redirect).
func isPage(r response) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") && r.StatusCode != http.StatusSeeOther
}

// TestAccessibleForms checks every form control has a label.
func TestAccessibleForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	everyResponse(t, e, checkLabels)
}

// checkHeaders checks a response's security headers.
func checkHeaders(t *testing.T, name string, r response) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", name, k, got, v)
		}
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %s", name, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy allows inline code: %q", name, csp)
	}
	if (isPage(r) || r.StatusCode == http.StatusSeeOther) && r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", name, r.Header.Get("Cache-Control"))
	}
}

// checkOrigin checks a response asks for nothing outside this origin and,
// for a page, holds no code the Content-Security-Policy blocks; it reports
// whether r is a page.
func checkOrigin(t *testing.T, name string, r response) bool {
	t.Helper()
	body := r.body
	if strings.HasSuffix(r.Request.URL.Path, ".svg") && r.StatusCode == http.StatusOK {
		body = svgNamespace.ReplaceAllString(body, "")
	}
	// Addresses written out for people to copy (the onboarding's intake
	// URLs and snippets) are text in <code> or <pre>, not requests.
	if isPage(r) {
		body = codeText.ReplaceAllString(body, "")
	}
	if m := absoluteURL.FindString(body); m != "" {
		i := strings.Index(body, m)
		t.Errorf("%s references another origin (%q) near: %s", name, m, body[max(0, i-80):min(len(body), i+80)])
	}
	if loc := r.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
		t.Errorf("%s redirects off-site to %q", name, loc)
	}
	if !isPage(r) {
		return false
	}
	// The CSP forbids inline code and style; keep the pages within it.
	// Scripts are files of this site's /static/, with no inline body.
	for _, bad := range []string{" style=", "<style", " on" + "click=", "javascript:"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("%s contains %q, which the Content-Security-Policy blocks", name, bad)
		}
	}
	scripts := scriptTag.FindAllStringSubmatch(strings.ToLower(body), -1)
	if n := strings.Count(strings.ToLower(body), "<script"); n != len(scripts) {
		t.Errorf("%s has %d script tags, %d of them closed", name, n, len(scripts))
	}
	for _, m := range scripts {
		if !strings.Contains(m[1], ` src="/static/`) || m[2] != "" {
			t.Errorf("%s has an inline or foreign script, which the Content-Security-Policy blocks: %s", name, m[0])
		}
	}
	return true
}

// checkLabels checks every form control of a page has a label, and the
// page a language.
func checkLabels(t *testing.T, name string, r response) {
	t.Helper()
	control := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttr := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, c := range control.FindAllString(r.body, -1) {
		if strings.Contains(c, `type="hidden"`) {
			continue
		}
		m := idAttr.FindStringSubmatch(c)
		if m == nil || !strings.Contains(r.body, `<label for="`+m[1]+`"`) {
			t.Errorf("%s: control without a label: %s", name, c)
		}
	}
	if isPage(r) && !strings.Contains(r.body, `<html lang="en">`) {
		t.Errorf("%s: no document language", name)
	}
}
