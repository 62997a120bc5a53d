// Package web is Flywheel's operator UI: server-rendered html/template
// pages with their templates, stylesheet and icon embedded in the binary, so
// `flywheel serve` serves the UI with no front-end build step and no
// external requests (no CDN fonts or scripts; charts are SVG drawn on the
// server).
//
// Users log in with an API token. The token's secret travels only in an
// HttpOnly, SameSite=Strict session cookie and is authenticated again on
// every request, so revoking the token ends the UI session at once. Every
// POST form carries a CSRF token (see session.go).
//
// Pages are registered in one place (routes, below) and rendered inside one
// layout (templates/layout.html) with the navigation built in nav.go; later
// pages (OpsItem timelines, executions, approvals, dashboards) add a
// template under templates/pages, a handler and, if they belong in the
// navigation, an entry in nav.go.
//
// The app mounts the Handler for every path outside the API (/api/,
// /healthz, /readyz, /metrics).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Options configure a Handler.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Secure marks cookies Secure; set it when the UI is served over TLS.
	Secure bool
	// Runbooks runs and decides runbook executions; without it the
	// runbook, execution and approval pages are absent.
	Runbooks Runbooks
	// Breakers resets rules' circuit breakers (the rule engine); nil: the
	// runbooks page lists open breakers without a Reset button.
	Breakers BreakerResetter
	// LiveInterval is how often live pages look for changes; default 1s.
	LiveInterval time.Duration
	// ContentDir is the user's content directory, where admins may save
	// drafted automation rules; "" offers download only.
	ContentDir string
	// DesiredVersion is the agent version the fleet should run (the
	// fleet page marks agents that drift from it); "" marks none.
	DesiredVersion string
	// Doctor is the server's setup check; platform admins see its open
	// tasks on the overview. Nil shows none.
	Doctor *doctor.Doctor
	// Patch reports patch compliance; nil: the patching page says so.
	Patch PatchReports
	// Backup reports backup plans for the backup page; nil lists none.
	Backup BackupStatus
	// Costs and Forecasts serve the cost and capacity pages (nil: absent).
	Costs     api.CostService
	Forecasts api.ForecastService
	// Rules are the automation rules in force (the rule engine), for the
	// rules page; nil lists none.
	Rules RuleSet
	// Channels are the server's notification channels, name → type, for
	// the channels page.
	Channels map[string]string
	// Location is the time zone of the dashboard's day and week buckets
	// when the viewer names none (?tz=); default time.Local (the server's
	// TZ).
	Location *time.Location
	// TokenRevoked is called after a token is revoked on the tokens page,
	// so the API forgets the token checks it remembers
	// (api.Server.TokensChanged) and the token stops working at once.
	TokenRevoked func()
}

// Handler serves the UI.
type Handler struct {
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	mux     *http.ServeMux
	guarded http.Handler // mux behind the cross-origin check
	pages   *pages
	static  *assets
	origins *http.CrossOriginProtection
	rb      Runbooks
	brk     BreakerResetter
	live    *liveHub
	// contentDir receives drafted rules ("" when the server has none).
	contentDir     string
	desiredVersion string
	doctor         *doctor.Doctor
	patch          PatchReports
	backup         BackupStatus
	costs          api.CostService
	forecasts      api.ForecastService
	loc            *time.Location
	rules          RuleSet
	channels       map[string]string
	tokenRevoked   func()
	// pagePatterns are the patterns of the pages (see Pages).
	pagePatterns []string
	// pageRoles is the least role of each page pattern (pageFor).
	pageRoles map[string]store.Role
}

var _ http.Handler = (*Handler)(nil)

// New parses the embedded templates and builds the Handler.
func New(o Options) (*Handler, error) {
	if o.Store == nil {
		return nil, errors.New("web: Options.Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	static, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	pg, err := parsePages(static, o.Clock)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	h := &Handler{
		st: o.Store, log: o.Logger, now: o.Clock, secure: o.Secure,
		mux: http.NewServeMux(), pages: pg, static: static,
		origins: http.NewCrossOriginProtection(),
		rb:      o.Runbooks, brk: o.Breakers, live: newLiveHub(o.LiveInterval), contentDir: o.ContentDir, desiredVersion: o.DesiredVersion,
		doctor: o.Doctor, patch: o.Patch, backup: o.Backup, costs: o.Costs, forecasts: o.Forecasts,
		loc: o.Location, rules: o.Rules, channels: o.Channels, tokenRevoked: o.TokenRevoked,
	}
	h.origins.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, nil, errForbidden("This form was sent from another site, so it was refused."))
	}))
	h.routes()
	h.guarded = h.origins.Handler(h.mux)
	return h, nil
}

// routes registers every page and action. Page handlers return the data
// their template renders; see page and action in render.go.
func (h *Handler) routes() {
	h.mux.HandleFunc("GET /static/{name}", func(w http.ResponseWriter, r *http.Request) {
		if !h.static.serve(w, r) {
			h.notFound(w, r)
		}
	})
	h.mux.HandleFunc("GET /login", h.loginForm)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)

	h.page("GET /{$}", "overview", h.overview)
	h.workRoutes()    // OpsItems, runbooks, executions, approvals, live updates
	h.insightRoutes() // dashboard, candidates, silences, maintenance, fleet, audit
	h.patchRoutes()   // patch compliance
	h.costRoutes()    // cost, resource schedules, capacity
	h.ruleRoutes()    // rules and their breakers
	h.channelRoutes() // notification channels
	h.tokenRoutes()   // API tokens (tenant admins)
	h.tenantRoutes()  // tenants (platform admins)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic in UI handler", "path", r.URL.Path, "panic", p)
			h.renderError(w, r, nil, fmt.Errorf("panic: %v", p))
		}
	}()
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.noRoute(w, r)
		return
	}
	h.guarded.ServeHTTP(w, r)
}

// securityHeaders are set on every response, pages and assets alike. The
// policy allows nothing but this origin: no inline script, no inline style,
// no framing. Nothing is cached unless it says so (versioned assets do):
// pages and redirects depend on the session.
func securityHeaders(hd http.Header) {
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// noRoute answers unknown paths with the 404 page and known paths with a
// wrong method with 405.
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	probe := &allowRecorder{header: http.Header{}}
	if mh, _ := h.mux.Handler(r); mh != nil {
		mh.ServeHTTP(probe, r)
	}
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		h.renderError(w, r, nil, &pageError{Status: http.StatusMethodNotAllowed,
			Message: r.Method + " is not allowed here; allowed: " + probe.header.Get("Allow") + "."})
		return
	}
	h.notFound(w, r)
}

// notFound renders the 404 page, with the navigation when logged in.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	sess, _ := h.session(r)
	h.renderError(w, r, sess, errNotFound("There is no page at %s.", r.URL.Path))
}

type allowRecorder struct {
	header http.Header
	status int
}

func (a *allowRecorder) Header() http.Header         { return a.header }
func (a *allowRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (a *allowRecorder) WriteHeader(code int)        { a.status = code }

// timeout bounds the store work behind one page.
const timeout = 15 * time.Second

func withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), timeout)
}
