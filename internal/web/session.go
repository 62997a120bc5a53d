package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Sessions.
//
// A UI session is server-side: logging in with an API token stores a
// session (store.UISession) under the SHA-256 of a random 256-bit id, and
// the cookie (HttpOnly, SameSite=Strict, Path=/, Secure under TLS) holds
// only that id — never the token. Every request looks the session up and
// its token again: the session ends after sessionIdle without a request,
// sessionMaxAge after login, at logout (the row is deleted), and as soon as
// its token is revoked or expires (revoking deletes the token's sessions).
// The store is shared, so any replica, before or after a restart, serves
// it.
//
// CSRF. Every POST form carries a token. For a session it is an HMAC keyed
// by the session's id: only someone holding the cookie can compute it, and
// it needs no other server-side state or shared key, so a form rendered by
// one replica posts to another. The login form, which has no session yet,
// uses a double-submit nonce in its own SameSite=Strict cookie.
// SameSite=Strict and net/http's CrossOriginProtection (Sec-Fetch-Site /
// Origin checks, see web.go) stand behind both.
const (
	sessionCookie = "flywheel_session"
	loginCookie   = "flywheel_login"
	csrfField     = "csrf"
	sessionMaxAge = 12 * time.Hour
	sessionIdle   = 2 * time.Hour
	// sessionTouch: a session's last activity is written at most this
	// often (not on every request).
	sessionTouch = time.Minute
	formLimit    = 64 << 10
)

// session is a logged-in user.
type session struct {
	id        string // the cookie's random id (keys the CSRF token)
	Principal auth.Principal
	// TokenName is the token's display name.
	TokenName string
	// CSRF is the token every POST form of this session carries.
	CSRF string
}

var (
	errNoSession      = errors.New("not logged in")
	errSessionExpired = errors.New("session expired")
)

// session authenticates the request's session cookie.
func (h *Handler) session(r *http.Request) (*session, error) {
	id, ok := cookieSessionID(r)
	if !ok {
		return nil, errNoSession
	}
	ctx, now := r.Context(), h.now()
	s, err := h.st.GetUISession(ctx, hashSessionID(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSessionExpired
	}
	if err != nil {
		return nil, err
	}
	if !now.Before(s.CreatedAt.Add(sessionMaxAge)) || !now.Before(s.LastSeenAt.Add(sessionIdle)) {
		h.endSession(ctx, s.IDHash)
		return nil, errSessionExpired
	}
	p, tok, err := auth.AuthenticateHash(ctx, h.st, s.TokenHash, now)
	if err != nil {
		if errors.Is(err, auth.ErrRevoked) || errors.Is(err, auth.ErrExpired) || errors.Is(err, auth.ErrInvalid) {
			h.endSession(ctx, s.IDHash)
		}
		return nil, err
	}
	if !p.Allows(store.RoleViewer) {
		return nil, auth.ErrInvalid // an intake token reads nothing, here neither
	}
	if now.Sub(s.LastSeenAt) >= sessionTouch {
		if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.TouchUISession(ctx, s.IDHash, now) }); err != nil {
			h.log.Warn("UI session activity not recorded", "err", err)
		}
	}
	return &session{id: id, Principal: p, TokenName: tok.Name, CSRF: sessionCSRF(id)}, nil
}

// startSession authenticates an API token's secret and stores a new
// session for it, returning the session's id (the cookie's value).
// Sessions past their bounds are pruned on the way.
func startSession(ctx context.Context, st store.Store, secret string, now time.Time) (auth.Principal, string, error) {
	p, _, err := auth.Authenticate(ctx, st, secret, now)
	if err != nil {
		return p, "", err
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	err = st.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.PruneUISessions(ctx, now.Add(-sessionMaxAge), now.Add(-sessionIdle)); err != nil {
			return err
		}
		return tx.CreateUISession(ctx, store.UISession{IDHash: hashSessionID(id), TenantID: p.TenantID, TokenID: p.TokenID,
			TokenHash: auth.HashSecret(strings.TrimSpace(secret)), CreatedAt: now, LastSeenAt: now})
	})
	return p, id, err
}

// endSession deletes a session (logout, expiry).
func (h *Handler) endSession(ctx context.Context, idHash string) {
	ctx = context.WithoutCancel(ctx)
	if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteUISession(ctx, idHash) }); err != nil {
		h.log.Warn("UI session not deleted", "err", err)
	}
}

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// cookieSessionID returns the session cookie's id when it has the form of
// one (43 base64url characters).
func cookieSessionID(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

// sessionFailed sends a request without a valid session to the login page.
func (h *Handler) sessionFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoSession):
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrExpired), errors.Is(err, errSessionExpired):
		h.log.Info("UI session ended", "reason", err.Error(), "path", r.URL.Path)
		h.setCookie(w, sessionCookie, "", "/", -1)
	default:
		h.renderError(w, r, nil, err)
		return
	}
	target := "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		target += "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func sessionCSRF(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("flywheel ui csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// loginData is what the login template shows.
type loginData struct {
	Next  string
	CSRF  string
	Error string
}

// loginForm shows the login form, or sends an already logged-in user on.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, next, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		nonce = c.Value // keep it, so a second open login tab still works
	} else {
		var b [32]byte
		_, _ = rand.Read(b[:])
		nonce = base64.RawURLEncoding.EncodeToString(b[:])
	}
	h.setCookie(w, loginCookie, nonce, "/login", time.Hour)
	h.render(w, r, status, "login", &view{Title: "Log in", Path: "/login",
		Data: loginData{Next: next, CSRF: nonce, Error: msg}})
}

// login checks the submitted token and starts a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	next := safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue(csrfField))) {
		h.renderLogin(w, r, http.StatusForbidden, next, "The login form expired. Please enter your token again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	p, id, err := startSession(r.Context(), h.st, secret, h.now())
	if err != nil {
		msg := "That token is not valid."
		switch {
		case errors.Is(err, auth.ErrRevoked):
			msg = "That token has been revoked."
		case errors.Is(err, auth.ErrExpired):
			msg = "That token has expired."
		case !errors.Is(err, auth.ErrInvalid):
			h.renderError(w, r, nil, err)
			return
		}
		h.log.Info("UI login failed", "reason", err.Error())
		h.renderLogin(w, r, http.StatusUnauthorized, next, msg)
		return
	}
	if !p.Allows(store.RoleViewer) {
		h.endSession(r.Context(), hashSessionID(id))
		h.log.Info("UI login refused", "reason", "role "+string(p.Role), "token_id", p.TokenID)
		h.renderLogin(w, r, http.StatusForbidden, next, "That is an intake token: it can only send events. Log in with a viewer, operator or admin token.")
		return
	}
	h.log.Info("UI login", "token_id", p.TokenID, "tenant", p.TenantID)
	h.setCookie(w, loginCookie, "", "/login", -1)
	h.setCookie(w, sessionCookie, id, "/", sessionMaxAge)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session. It needs the session's CSRF token (so another
// site cannot log the user out) but not a still-valid token.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	id, ok := cookieSessionID(r)
	if ok && !validCSRF(id, r.PostFormValue(csrfField)) {
		h.renderError(w, r, nil, errForbidden("The form's security token did not match; reload the page and try again."))
		return
	}
	if ok {
		h.endSession(r.Context(), hashSessionID(id))
	}
	h.setCookie(w, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// validCSRF reports whether a form's CSRF token belongs to the session
// id. Later logged-in actions (acknowledge, approve, run) check it
// before acting, as logout does.
func validCSRF(id, token string) bool {
	return hmac.Equal([]byte(sessionCSRF(id)), []byte(token))
}

// parseForm reads a bounded form body.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, formLimit)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.renderError(w, r, nil, &pageError{Status: http.StatusRequestEntityTooLarge, Message: "The form is too large."})
		} else {
			h.renderError(w, r, nil, errBadRequest("The form could not be read."))
		}
		return false
	}
	return true
}

// safeNext accepts only a same-site path ("/opsitems?status=open") as the
// place to go after login; anything else ("//evil", "https://…", "/\evil")
// becomes "/".
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\") {
		return "/"
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path == "/login" {
		return "/"
	}
	return s
}
