package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Live updates. A live page names the parts of it that change ("regions":
// templates called live-<name>, each rendered inside <div id="live-<name>">)
// and carries the version of their content (view.Live). static/live.js
// opens a server-sent event stream at /live?path=<the page's URL>; the
// server renders the page's regions again every interval, as the same
// session (authenticated again each time, so a revoked token ends the
// stream), and sends the new HTML when the version changed. Nothing but
// this origin is contacted.

// liveHub holds the live pages and bounds the streams.
type liveHub struct {
	interval time.Duration
	pages    map[string]livePageEntry // by mux pattern
	slots    chan struct{}

	mu        sync.Mutex
	bySession map[string]int // open streams per session id
	byTenant  map[string]int // per tenant of the session's token
	// shares are the latest renders by token and page (liveRender).
	shares map[string]*liveShare
	// renders counts the regions rendered for streams.
	renders atomic.Int64
}

// liveShare is one render of a page's regions for a token, which every
// stream of that token and page asking within the interval takes.
type liveShare struct {
	at      time.Time
	done    chan struct{} // closed when the render is in
	version string
	regions map[string]string
	err     error
}

type livePageEntry struct {
	tmpl    string
	fn      pageFunc
	regions []string
}

// Bounds of the live streams: how many at once, and how long one lasts
// before the browser reconnects (EventSource does so by itself).
const (
	maxLiveStreams = 256
	// A session (any number of tabs) and a tenant hold at most these many
	// of them: one user's tabs, or one tenant's users, cannot take the
	// streams everyone else needs.
	maxLiveStreamsPerSession = 8
	maxLiveStreamsPerTenant  = 64
	liveStreamLimit          = 10 * time.Minute
	liveKeepalive            = 15 * time.Second
)

func newLiveHub(interval time.Duration) *liveHub {
	if interval <= 0 {
		interval = time.Second
	}
	return &liveHub{interval: interval, pages: map[string]livePageEntry{}, slots: make(chan struct{}, maxLiveStreams),
		bySession: map[string]int{}, byTenant: map[string]int{}, shares: map[string]*liveShare{}}
}

// acquire counts a stream for a session and tenant, or says which bound
// it would pass ("" when counted; release it after).
func (l *liveHub) acquire(session, tenant string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.bySession[session] >= maxLiveStreamsPerSession:
		return "too many live pages open in this session; close some tabs"
	case l.byTenant[tenant] >= maxLiveStreamsPerTenant:
		return "too many live pages open for this tenant; try again later"
	}
	l.bySession[session]++
	l.byTenant[tenant]++
	return ""
}

func (l *liveHub) release(session, tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bySession[session]--; l.bySession[session] <= 0 {
		delete(l.bySession, session)
	}
	if l.byTenant[tenant]--; l.byTenant[tenant] <= 0 {
		delete(l.byTenant, tenant)
	}
}

// livePage registers a page whose regions update live.
func (h *Handler) livePage(pattern, tmpl string, fn pageFunc, regions ...string) {
	for _, r := range regions {
		if h.pages.byName[tmpl].Lookup("live-"+r) == nil {
			panic("web: template " + tmpl + " has no live-" + r) // a programming error, caught by any test
		}
	}
	e := livePageEntry{tmpl: tmpl, fn: fn, regions: regions}
	h.live.pages[pattern] = e
	h.page(pattern, tmpl, func(rq *request) (any, error) {
		data, err := fn(rq)
		if err != nil {
			return nil, err
		}
		rq.view.Data = data
		// The version as the streams' shared renders compute it: with
		// the CSRF stand-in (liveRender).
		shared, sess := *rq.view, *rq.view.Session
		sess.CSRF, shared.Session = liveCSRFStandIn, &sess
		if rq.view.Live, _, err = h.renderRegions(e, &shared); err != nil {
			return nil, err
		}
		return data, nil
	})
}

// renderRegions renders a live page's regions for v, returning their
// version (a hash of all of them) and HTML.
func (h *Handler) renderRegions(e livePageEntry, v *view) (string, map[string]string, error) {
	out := map[string]string{}
	sum := sha256.New()
	for _, r := range e.regions {
		var buf bytes.Buffer
		if err := h.pages.byName[e.tmpl].ExecuteTemplate(&buf, "live-"+r, v); err != nil {
			return "", nil, fmt.Errorf("render live-%s: %w", r, err)
		}
		out[r] = buf.String()
		fmt.Fprintf(sum, "%s\x00%d\x00", r, buf.Len())
		sum.Write(buf.Bytes())
	}
	return hex.EncodeToString(sum.Sum(nil)[:12]), out, nil
}

// liveTarget resolves the page a stream follows: a same-site path of a
// live page, as a request carrying the stream's cookies.
func (h *Handler) liveTarget(r *http.Request) (*http.Request, livePageEntry, error) {
	p := r.URL.Query().Get("path")
	if p == "" || safeNext(p) != p || len(p) > 2048 {
		return nil, livePageEntry{}, errBadRequest("The live path is missing or not a path of this site.")
	}
	u, err := url.Parse(p)
	if err != nil {
		return nil, livePageEntry{}, errBadRequest("The live path is invalid.")
	}
	target := r.Clone(r.Context())
	target.Method, target.URL, target.RequestURI = http.MethodGet, u, u.RequestURI()
	_, pattern := h.mux.Handler(target)
	e, ok := h.live.pages[pattern]
	if !ok {
		return nil, livePageEntry{}, errNotFound("%s does not update live.", u.Path)
	}
	setPathValues(target, pattern)
	return target, e, nil
}

// setPathValues fills in the wildcards of pattern ("GET /opsitems/{id}")
// from r's path, as the mux would have.
func setPathValues(r *http.Request, pattern string) {
	_, pat, _ := strings.Cut(pattern, " ")
	ps, rs := strings.Split(pat, "/"), strings.Split(r.URL.Path, "/")
	for i, seg := range ps {
		if i < len(rs) && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "$")
			if name != "" {
				r.SetPathValue(name, rs[i])
			}
		}
	}
}

// liveEvent is one update: the new version and the regions' HTML.
type liveEvent struct {
	Version string            `json:"v"`
	Regions map[string]string `json:"regions"`
}

// liveStream serves GET /live: server-sent events for one page.
func (h *Handler) liveStream(w http.ResponseWriter, r *http.Request) {
	sess, err := h.session(r)
	if err != nil {
		http.Error(w, "not logged in", http.StatusUnauthorized)
		return
	}
	target, e, err := h.liveTarget(r)
	if err != nil {
		pe := err.(*pageError)
		http.Error(w, pe.Message, pe.Status)
		return
	}
	if msg := h.live.acquire(sess.id, sess.Principal.TenantID); msg != "" {
		w.Header().Set("Retry-After", "30")
		http.Error(w, msg, http.StatusTooManyRequests)
		return
	}
	defer h.live.release(sess.id, sess.Principal.TenantID)
	select {
	case h.live.slots <- struct{}{}:
		defer func() { <-h.live.slots }()
	default:
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live pages open; try again later", http.StatusServiceUnavailable)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// The stream outlives the server's per-request write deadline.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Retry after 2 s when the stream drops.
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()

	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("v")
	}
	tick := time.NewTicker(h.live.interval)
	defer tick.Stop()
	end := time.NewTimer(liveStreamLimit)
	defer end.Stop()
	quiet := time.Now()
	for {
		version, regions, err := h.liveRender(target, e)
		var pe *pageError
		if err != nil && !errors.As(err, &pe) && !errors.Is(err, errSessionEnded) {
			// A slow or failing database: try again at the next tick.
			h.log.Warn("live update failed", "path", target.URL.Path, "error", err)
			version = last
		} else if err != nil {
			// The session ended or the page is gone: close the stream and
			// tell the page, which stops listening.
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", jsonString(err.Error()))
			fl.Flush()
			return
		}
		if version != last {
			b, _ := json.Marshal(liveEvent{Version: version, Regions: regions})
			fmt.Fprintf(w, "id: %s\nevent: update\ndata: %s\n\n", version, b)
			fl.Flush()
			last, quiet = version, time.Now()
		} else if time.Since(quiet) >= liveKeepalive {
			fmt.Fprint(w, ": keepalive\n\n")
			fl.Flush()
			quiet = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// liveRender gives a live page's regions for the stream's session. The
// session is authenticated every time, but the render is shared: the
// streams of one token and page (its tabs, in one session or several)
// take one render per interval, made with a stand-in for the session's
// CSRF token that each stream then replaces with its own. Renders are
// keyed by token, not tenant: what a page offers depends on who looks
// (four-eyes approvals, roles, permissions).
func (h *Handler) liveRender(target *http.Request, e livePageEntry) (string, map[string]string, error) {
	sess, err := h.session(target)
	if err != nil {
		return "", nil, errSessionEnded
	}
	l := h.live
	key := sess.Principal.TokenID + "\x00" + target.URL.RequestURI()
	now := time.Now()
	l.mu.Lock()
	sh := l.shares[key]
	if sh == nil || now.Sub(sh.at) >= l.interval*9/10 {
		for k, o := range l.shares {
			if now.Sub(o.at) > 2*l.interval {
				delete(l.shares, k)
			}
		}
		sh = &liveShare{at: now, done: make(chan struct{})}
		l.shares[key] = sh
		l.mu.Unlock()
		shared := *sess
		shared.CSRF = liveCSRFStandIn
		sh.version, sh.regions, sh.err = h.renderFor(target, e, &shared)
		close(sh.done)
	} else {
		l.mu.Unlock()
		<-sh.done
	}
	if sh.err != nil {
		return "", nil, sh.err
	}
	regions := make(map[string]string, len(sh.regions))
	for r, html := range sh.regions {
		regions[r] = strings.ReplaceAll(html, liveCSRFStandIn, sess.CSRF)
	}
	return sh.version, regions, nil
}

// liveCSRFStandIn stands for the CSRF token in shared renders.
const liveCSRFStandIn = "live-csrf-stand-in-7f3c9a"

// renderFor renders a live page's regions as sess.
func (h *Handler) renderFor(target *http.Request, e livePageEntry, sess *session) (string, map[string]string, error) {
	h.live.renders.Add(1)
	ctx, cancel := withTimeout(target)
	defer cancel()
	v, err := h.newView(ctx, target, sess)
	if err != nil {
		return "", nil, err
	}
	rq := &request{Request: target, ctx: ctx, sess: sess, view: v}
	data, err := e.fn(rq)
	if err != nil {
		return "", nil, err
	}
	v.Data = data
	return h.renderRegions(e, v)
}

var errSessionEnded = errors.New("the session ended; log in again")

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
