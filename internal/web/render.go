package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// pages holds one parsed template set per page: the layout and partials,
// cloned, plus the page's own file, which defines "content".
type pages struct {
	byName map[string]*template.Template
}

func parsePages(a *assets, now func() time.Time) (*pages, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs(a, now)).
		ParseFS(files, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(files, name); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		p.byName[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return p, nil
}

func templateFuncs(a *assets, now func() time.Time) template.FuncMap {
	return template.FuncMap{
		// age is how long ago t was, short: "45 s", "12 min", "5 h", "3 d".
		"age":           func(t time.Time) string { return shortAge(now().Sub(t)) },
		"asset":         a.url,
		"categoryTitle": categoryTitle,
		// when renders a time for people; the <time> element carries the
		// machine-readable value.
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"seconds": secondsText,
		// duration shows seconds for people: "0 s", "4 min 5 s", "2 h 3 min".
		"duration":   humanSeconds,
		"decideArgs": func(v *view, id, back string) decideArgs { return decideArgs{V: v, ID: id, Back: back} },
		"gateArgs": func(v *view, id, back string, g *gateView, canAct bool) decideArgs {
			return decideArgs{V: v, ID: id, Back: back, Gate: g, CanAct: canAct}
		},
		// Figures of the dashboard and candidates pages (dashboard.go).
		"percent":          func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + " %" },
		"minutes":          figureMinutes,
		"hours":            func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) + " h" },
		"add":              func(a, b int) int { return a + b },
		"silenceDurations": func() []string { return silenceDurations },
		// Enum values as people read them (human.go).
		"human": human, "decision": decisionLabel,
		// Structured views of JSON documents (doctable.go).
		"doc":         func(raw []byte) template.HTML { return docTable(raw) },
		"stepOutputs": stepOutputs,
	}
}

// shortAge writes a duration the way a dense list shows an age.
func shortAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(max(0, int(d/time.Second))) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d"
}

func categoryTitle(c string) string {
	if t, ok := opsitem.CategoryTitles[c]; ok {
		return t
	}
	return c
}

// view is what the layout renders; Data is the page's own.
type view struct {
	Title   string
	Session *session
	// Tenant is the tenant the page shows: the session's own, or for a
	// platform admin the one chosen with ?tenant=.
	Tenant store.Tenant
	// Tenants lists tenants for the platform admin's tenant switcher.
	Tenants []store.Tenant
	Nav     []navSection
	// Path is the current path, the target of the tenant switcher.
	Path string
	Data any
	// Live is the version of a live page's changing part (see live.go);
	// "" on pages that do not update live.
	Live string
}

// Link builds a URL to a UI path with query pairs (empty values dropped),
// keeping the platform admin's tenant choice.
func (v *view) Link(p string, kv ...string) string {
	q := url.Values{}
	if t := v.OtherTenant(); t != "" {
		q.Set("tenant", t)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

// OtherTenant is the acting tenant's ID when a platform admin has chosen a
// tenant other than their own, else "". GET forms carry it as a hidden
// field, since a browser drops the query of a GET form's action.
func (v *view) OtherTenant() string {
	if v.Session != nil && v.Tenant.ID != v.Session.Principal.TenantID {
		return v.Tenant.ID
	}
	return ""
}

// SwitchAction is where the tenant switcher goes: the current page, except
// from one OpsItem, which the other tenant does not have.
func (v *view) SwitchAction() string {
	if strings.HasPrefix(v.Path, "/opsitems/") {
		return "/opsitems"
	}
	return v.Path
}

// request is a logged-in page request with its acting tenant resolved.
type request struct {
	*http.Request
	ctx  context.Context
	sess *session
	view *view
}

// tenantID is the tenant the request acts on.
func (rq *request) tenantID() string { return rq.view.Tenant.ID }

// pageFunc handles a page: it sets rq.view.Title and returns the page's data.
type pageFunc func(rq *request) (any, error)

// Pages lists the patterns of the logged-in pages ("GET /opsitems/{id}")
// in the order they were registered; the browser tests that check every
// page (overflow, accessibility, screenshots) visit one of each.
func (h *Handler) Pages() []string { return append([]string(nil), h.pagePatterns...) }

// page registers a logged-in GET page rendered with the named template,
// open to every role.
func (h *Handler) page(pattern, tmpl string, fn pageFunc) {
	h.pageFor(pattern, tmpl, store.RoleViewer, fn)
}

// pageFor registers a page for the roles at least min. The table of
// these minimums (pageRoles) is the one permission table of the pages:
// the page answers 403 below it, and the navigation leaves out what the
// session's role may not open (allows).
func (h *Handler) pageFor(pattern, tmpl string, min store.Role, fn pageFunc) {
	if _, ok := h.pages.byName[tmpl]; !ok {
		panic("web: no template " + tmpl) // a programming error, caught by any test
	}
	h.pagePatterns = append(h.pagePatterns, pattern)
	if h.pageRoles == nil {
		h.pageRoles = map[string]store.Role{}
	}
	h.pageRoles[pattern] = min
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rq, cancel, ok := h.begin(w, r)
		if !ok {
			return
		}
		defer cancel()
		if !rq.sess.Principal.Allows(min) {
			rq.view.Title = "Forbidden"
			h.renderError(w, r, rq.sess, errForbidden("This page is for the "+string(min)+" role and above; your token is "+string(rq.sess.Principal.Role)+"."))
			return
		}
		data, err := fn(rq)
		if err != nil {
			h.renderError(w, r, rq.sess, err)
			return
		}
		rq.view.Data = data
		h.render(w, r, http.StatusOK, tmpl, rq.view)
	})
}

// allows reports, for the navigation, whether the session's role may open
// the page at path (pageRoles); paths that are no page are allowed.
func (h *Handler) allows(sess *session) func(path string) bool {
	return func(path string) bool {
		_, pattern := h.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: "ui"})
		min, ok := h.pageRoles[pattern]
		return !ok || sess.Principal.Allows(min)
	}
}

// begin authenticates a logged-in GET request and resolves its view; when
// it cannot, it has answered (login redirect, error page) and ok is false.
// cancel ends the request's store deadline.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request) (rq *request, cancel context.CancelFunc, ok bool) {
	sess, err := h.session(r)
	if err != nil {
		h.sessionFailed(w, r, err)
		return nil, nil, false
	}
	ctx, cancel := withTimeout(r)
	v, err := h.newView(ctx, r, sess)
	if err != nil {
		cancel()
		h.renderError(w, r, sess, err)
		return nil, nil, false
	}
	return &request{Request: r, ctx: ctx, sess: sess, view: v}, cancel, true
}

// newView resolves the acting tenant and fills in the layout's data.
func (h *Handler) newView(ctx context.Context, r *http.Request, sess *session) (*view, error) {
	v := &view{Session: sess, Path: r.URL.Path}
	want := r.URL.Query().Get("tenant")
	if want == "" {
		want = sess.Principal.TenantID
	}
	if want != sess.Principal.TenantID && !sess.Principal.PlatformAdmin {
		return nil, errForbidden("Only a platform admin may view another tenant.")
	}
	t, err := h.st.GetTenant(ctx, want)
	switch {
	case errors.Is(err, store.ErrNotFound) && want != sess.Principal.TenantID:
		return nil, errNotFound("There is no tenant %q.", want)
	case errors.Is(err, store.ErrNotFound):
		t = store.Tenant{ID: want, Name: want}
	case err != nil:
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	v.Tenant = t
	if sess.Principal.PlatformAdmin {
		ts, _, err := h.st.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit})
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		v.Tenants = ts
	}
	v.Nav = navigation(v, h.allows(sess))
	return v, nil
}

// render executes a page template into a buffer, so a template error
// becomes a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, tmpl string, v *view) {
	var buf bytes.Buffer
	if err := h.pages.byName[tmpl].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.Error("render page", "template", tmpl, "path", r.URL.Path, "error", err)
		if tmpl != "error" {
			h.renderError(w, r, nil, err)
		} else {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageError is an error shown to the user as its own page.
type pageError struct {
	Status  int
	Message string
}

func (e *pageError) Error() string { return e.Message }

func errNotFound(format string, args ...any) error {
	return &pageError{Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

func errBadRequest(format string, args ...any) error {
	return &pageError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func errForbidden(msg string) error {
	return &pageError{Status: http.StatusForbidden, Message: msg}
}

// errorData is what the error template shows.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// renderError shows err as an error page; unexpected errors are logged and
// shown as a 500 that hides their details. sess may be nil.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		if errors.Is(err, context.DeadlineExceeded) {
			pe = &pageError{Status: http.StatusServiceUnavailable, Message: "The database took too long to answer. Try again shortly."}
			w.Header().Set("Retry-After", "5")
		} else {
			pe = &pageError{Status: http.StatusInternalServerError, Message: "Something went wrong on the server; it has been logged."}
		}
		h.log.Error("UI request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	v := &view{Session: sess, Path: r.URL.Path, Title: http.StatusText(pe.Status)}
	if sess != nil {
		v.Tenant = store.Tenant{ID: sess.Principal.TenantID, Name: sess.Principal.TenantID}
		if t, err := h.st.GetTenant(r.Context(), sess.Principal.TenantID); err == nil {
			v.Tenant = t
		}
		v.Nav = navigation(v, h.allows(sess))
	}
	v.Data = errorData{Status: pe.Status, Heading: http.StatusText(pe.Status), Message: pe.Message}
	h.render(w, r, pe.Status, "error", v)
}
