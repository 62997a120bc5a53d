// Package api is Flywheel's JSON HTTP API under /api/v1: one error envelope,
// bearer-token authentication, role checks, tenant scoping, cursor
// pagination, request-body limits, request IDs and an OpenAPI document that
// tests hold against the real routes. Each endpoint family is one file;
// later capabilities register their routes through Server.Handle.
package api

import (
	"cmp"
	"context"
	"github.com/flywheel-ops/flywheel/internal/application"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Options configure a Server.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// Clock returns the current time (tests inject a fixed one).
	Clock func() time.Time
	// Registerer receives the HTTP metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Gatherer serves /metrics; nil disables the endpoint.
	Gatherer prometheus.Gatherer
	// BodyLimit caps request bodies (413 beyond it); default 10 MiB.
	BodyLimit int64
	// Ready reports readiness beyond the database (e.g. jobs started).
	Ready func(ctx context.Context) error
	// Intake serves the intake endpoints; nil leaves them out.
	Intake IntakeService
	// Fleet serves the agent and fleet endpoints; nil uses one over Store
	// with default options.
	Fleet *fleet.Service
	// Runbooks serves the runbook and execution endpoints; nil leaves
	// them out.
	Runbooks RunbookService
	// Rules are the automation rules content defines, for
	// GET /api/v1/rules/consolidation; nil leaves that route out.
	Rules *rule.Rules
	// Windows runs maintenance windows' tasks (POST …/runs); nil answers
	// 503 there.
	Windows WindowService
	// Patch is patch management; nil answers its routes 503.
	Patch PatchService
	// AWS reads tenants' AWS accounts (nil: no inventory on request).
	AWS AWSInventory
	// Cost and Forecasts serve the financial and capacity routes (nil:
	// 503 there).
	Cost      CostService
	Forecasts ForecastService
	// Breakers resets rules' circuit breakers (the rule engine), for
	// POST /api/v1/rules/{name}/breaker/reset; nil leaves that route out.
	Breakers BreakerResetter
	// Applications are the applications content declares, for
	// GET /api/v1/applications (nil: none).
	Applications *application.Catalog
	// ContentDir is the user's content directory, where admins may save
	// drafted automation rules; "" refuses saving.
	ContentDir string
	// Content reloads the server's content (POST /api/v1/content/reload)
	// and reports the content in force on /healthz; nil: no reload.
	Content ContentReloader
	// PackContent installs packs into the content (/api/v1/packs/…); nil
	// answers 503 to installs, upgrades and removals.
	PackContent service.ContentChanger
	// AuthCacheTTL is how long a successful token check is reused (default
	// DefaultAuthCacheTTL; negative: check every request). A token revoked
	// through this server stops working at once, revoked elsewhere within
	// the TTL.
	AuthCacheTTL time.Duration
	// AuthFailBurst is how many failed authentications a client IP may
	// make at once before getting 429 (one more per 3s; default 20;
	// negative: no limit).
	AuthFailBurst int
	// UnauthPerIP is how many requests of one client IP may be in
	// authentication at once, their token not yet known valid (default 16;
	// negative: no limit); past it, 429.
	UnauthPerIP int
	// DeniedAuditBurst is how many denied calls of one principal are
	// audited at once (one more per 10s; default 10; negative: all).
	DeniedAuditBurst int
	// Doctor runs the setup check of GET /api/v1/doctor; nil answers an
	// empty report.
	Doctor *doctor.Doctor
	// Backup runs backup plans' operations (/api/v1/backup/…); nil lists
	// no plans and answers 503 to operations.
	Backup BackupService
	// Channels are the server's notification channels, name → type, for
	// GET /api/v1/channels (nil: none configured).
	Channels map[string]string
}

// Route is one registered endpoint.
type Route struct {
	Method  string
	Pattern string // stdlib ServeMux pattern path, e.g. /api/v1/opsitems/{id}
	// MinRole is the least role allowed; "" means no authentication.
	// store.RoleIntake marks the intake endpoints: intake tokens and
	// operators and admins may call them (see auth.Principal.Allows); no
	// other route admits an intake token.
	MinRole store.Role
	// PlatformAdmin restricts the route to platform admins.
	PlatformAdmin bool
	// Permission, when set, is needed besides MinRole (see
	// auth.Principal.Can): host-commands for running commands on hosts.
	Permission store.Permission
}

// Server serves the API.
type Server struct {
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	limit   int64
	ready   func(ctx context.Context) error
	mux     *http.ServeMux
	routes  []Route
	metrics *httpMetrics
	gather  prometheus.Gatherer
	intake  IntakeService
	// runbooks serves runbooks and executions (nil: no such routes).
	runbooks RunbookService
	// rules are content's automation rules (nil: no /api/v1/rules routes).
	rules    atomic.Pointer[rule.Rules]          // SetContent replaces them
	apps     atomic.Pointer[application.Catalog] // SetContent replaces them
	reloader ContentReloader
	breakers BreakerResetter
	auth     *authCache
	// authFails limits failed authentications per client IP; deniedAudit
	// the audit records of denied calls per principal (limits.go).
	authFails, deniedAudit *limiter
	// unauth caps each client IP's requests in authentication at once.
	unauth       *gate
	limitMetrics *limitMetrics
	fleet        *fleet.Service
	// contentDir receives drafted rules ("" when the server has none).
	contentDir string
	doctor     *doctor.Doctor
	// windows runs maintenance windows' tasks (nil: POST …/runs is 503).
	windows WindowService
	patch   PatchService
	// backup runs backup plans' operations (nil: none).
	backup BackupService
	// svc carries out the operations the handlers decode and encode.
	svc *service.Service
	// aws reads AWS accounts (nil: POST …/inventory is 503).
	aws AWSInventory
	// channels are the notification channels, name → type.
	channels map[string]string
}

// New builds a Server with the foundation's routes registered.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = 10 << 20
	}
	if o.AuthCacheTTL == 0 {
		o.AuthCacheTTL = DefaultAuthCacheTTL
	}
	clock := o.Clock
	s := &Server{
		// Stored times have microsecond resolution; answer with what is stored.
		st: o.Store, log: o.Logger, now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }, limit: o.BodyLimit, ready: o.Ready,
		mux: http.NewServeMux(), metrics: newHTTPMetrics(o.Registerer), gather: o.Gatherer, intake: o.Intake,
		auth:      newAuthCache(o.AuthCacheTTL),
		authFails: newLimiter(cmp.Or(o.AuthFailBurst, authFailBurst), authFailEvery), deniedAudit: newLimiter(cmp.Or(o.DeniedAuditBurst, deniedBurst), deniedEvery),
		limitMetrics: newLimitMetrics(o.Registerer), unauth: newGate(cmp.Or(o.UnauthPerIP, unauthPerIP)),
	}
	s.svc = service.New(service.Options{Store: o.Store, Clock: s.now, Runbooks: o.Runbooks, Content: o.PackContent})
	s.registerHealth()
	s.registerTenants()
	s.registerTokens()
	s.registerAudit()
	s.registerOpsItems()
	s.registerIntake()
	s.registerEvents()
	s.registerStats()
	s.contentDir = o.ContentDir
	s.registerCandidates()
	s.registerSilences()
	s.registerMaintenance()
	s.windows = o.Windows
	s.registerWindowRuns()
	s.registerFleet(o.Fleet)
	s.runbooks = o.Runbooks
	s.registerRunbooks()
	s.rules.Store(o.Rules)
	s.breakers = o.Breakers
	s.registerRules()
	s.channels = o.Channels
	s.registerChannels()
	s.doctor = o.Doctor
	s.registerDoctor()
	s.apps.Store(o.Applications)
	s.registerApplications()
	s.patch = o.Patch
	s.registerPatch()
	s.registerBackup(o.Backup)
	s.registerCompliance()
	s.registerAWS(o.AWS)
	s.registerCost(o.Cost, o.Forecasts)
	s.registerContent(o.Content)
	s.registerPrometheus()
	s.registerPacks()
	s.registerOpenAPI()
	// What no route matches (any path, or a known path with another
	// method) falls through to noRoute, so a request is routed once.
	s.mux.HandleFunc("/", s.noRoute)
	return s
}

// Routes lists every registered route (the OpenAPI test reads it).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Store returns the server's store, for handlers registered by other packages.
func (s *Server) Store() store.Store { return s.st }

// Now returns the server clock's time.
func (s *Server) Now() time.Time { return s.now() }

// HandlerFunc is an API handler: it returns an error to have it written as
// the error envelope (see Error), or writes the response itself and returns nil.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle registers h for method and pattern, behind authentication (unless
// rt.MinRole is empty), role checks, metrics and error handling.
func (s *Server) Handle(rt Route, h HandlerFunc) {
	s.routes = append(s.routes, rt)
	s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt, h))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := requestID(r)
	w.Header().Set("X-Request-Id", rid)
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, &reqInfo{id: rid}))
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in handler", "request_id", rid, "path", r.URL.Path, "panic", p)
			writeError(w, r, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
		}
	}()
	if r.ContentLength > s.limit {
		writeError(w, r, tooLarge(s.limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.limit)
	s.mux.ServeHTTP(w, r)
}

// noRoute answers what no route matched: a path some route has with
// another method is a 405 whose Allow lists the methods it has, anything
// else a 404; both in JSON.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range s.methods() {
		probe := *r
		probe.Method = m
		if _, pattern := s.mux.Handler(&probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		list := strings.Join(allow, ", ")
		w.Header().Set("Allow", list)
		writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + list})
		return
	}
	writeError(w, r, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route: " + r.Method + " " + r.URL.Path})
}

// methods are the methods routes are registered for, sorted, with HEAD
// where there is GET (the mux serves HEAD with a GET route).
func (s *Server) methods() []string {
	var ms []string
	for _, rt := range s.routes {
		ms = append(ms, rt.Method)
		if rt.Method == http.MethodGet {
			ms = append(ms, http.MethodHead)
		}
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// PrincipalFrom returns the authenticated caller of an API request.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	if ri := infoFrom(ctx); ri != nil && ri.hasPrincipal {
		return ri.principal, true
	}
	return auth.Principal{}, false
}

func (s *Server) wrap(rt Route, h HandlerFunc) http.Handler {
	metrics := s.metrics.route(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w}
		err := s.authorize(rt, r)
		if err == nil {
			err = h(sw, r)
			// A handler's own refusal (another tenant, a platform-admin
			// token) is audited like the route's role check.
			if err != nil {
				if ae := asError(err); ae.Status == http.StatusForbidden {
					s.auditDenied(r, Principal(r), ae.Message)
				}
			}
		}
		if err != nil {
			if sw.status != 0 {
				s.log.Error("handler error after response started", "request_id", RequestID(r.Context()), "error", err)
			} else {
				ae := asError(err)
				if ae.Status >= 500 {
					s.log.Error("request failed", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "error", err)
				}
				writeError(sw, r, ae)
			}
		}
		metrics.observe(sw.code(), s.now().Sub(start))
	})
}

// authorize authenticates the bearer token and checks the route's role; on
// success it stores the principal in the request context.
func (s *Server) authorize(rt Route, r *http.Request) error {
	if rt.MinRole == "" {
		return nil
	}
	secret, ok := bearer(r)
	if !ok {
		return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "missing bearer token (Authorization: Bearer TOKEN)"}
	}
	now := s.now()
	p, ok := s.auth.get(secret, now)
	if !ok {
		// A valid token seen lately (cached) passes even from a throttled
		// address; anything else waits until its failures drain.
		ip := clientIP(r)
		if full, retry := s.authFails.empty(ip, now); full {
			s.limitMetrics.authThrottled.Inc()
			return throttled(retry)
		}
		if !s.unauth.wait(r.Context(), ip, unauthWait) {
			s.limitMetrics.authThrottled.Inc()
			return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", RetryAfter: time.Second,
				Message: "too many requests from this address are being authenticated at once; retry in 1s"}
		}
		defer s.unauth.leave(ip)
		var tok store.Token
		var err error
		p, tok, err = auth.Authenticate(r.Context(), s.st, secret, now)
		if err != nil {
			switch err {
			case auth.ErrInvalid, auth.ErrRevoked, auth.ErrExpired:
				if s.authFails.allow(ip, now) {
					s.log.Info("API authentication failed", "ip", ip, "reason", err.Error(), "path", cut(r.URL.Path, maxAuditText))
				}
				return &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: err.Error()}
			}
			return err
		}
		s.auth.put(secret, p, tok.ExpiresAt, now)
	}
	if ri := infoFrom(r.Context()); ri != nil {
		ri.principal, ri.hasPrincipal = p, true
	} else {
		*r = *r.WithContext(context.WithValue(r.Context(), reqKey{}, &reqInfo{principal: p, hasPrincipal: true}))
	}
	if (rt.PlatformAdmin && !p.PlatformAdmin) || !p.Allows(rt.MinRole) {
		need := string(rt.MinRole)
		switch {
		case rt.PlatformAdmin:
			need = "platform admin"
		case rt.MinRole == store.RoleIntake:
			need = "intake (or operator)"
		}
		s.auditDenied(r, p, "needs "+need)
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this action needs the " + need + " role; the token has " + string(p.Role)}
	}
	if rt.Permission != "" && !p.Can(rt.Permission) {
		s.auditDenied(r, p, "needs permission "+string(rt.Permission))
		return needPermission(rt.Permission, p)
	}
	return nil
}

// needPermission is the 403 of a principal without permission perm.
func needPermission(perm store.Permission, p auth.Principal) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this action needs the " + string(perm) +
		" permission: admins hold it, other tokens when created with --allow " + string(perm) + "; the token has role " + string(p.Role) + " without it"}
}

// bearer takes the token from "Authorization: Bearer TOKEN", or from HTTP
// basic auth's password (senders like SNS can only put credentials in the
// URL: https://flywheel:TOKEN@host/api/v1/intake/sns).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && (h[:7] == "Bearer " || h[:7] == "bearer ") {
		return h[7:], true
	}
	if _, pw, ok := r.BasicAuth(); ok && pw != "" {
		return pw, true
	}
	return "", false
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
