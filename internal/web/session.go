package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
// The session cookie holds the API token's secret (base64url-encoded, so
// any secret survives cookie syntax), HttpOnly, SameSite=Strict, Path=/.
// Each request authenticates it again through auth.Authenticate, so a
// revoked or expired token ends the session on the next request, and the UI
// keeps no session state: any replica, before or after a restart, serves it.
//
// CSRF. Every POST form carries a token. For a session it is an HMAC keyed
// by the session's secret: only someone holding the cookie can compute it,
// and like the session it needs no server-side state or shared key, so a
// form rendered by one replica posts to another. (A per-process random key
// would break every open form on restart and across replicas.) The login
// form, which has no session yet, uses a double-submit nonce in its own
// SameSite=Strict cookie. SameSite=Strict and net/http's
// CrossOriginProtection (Sec-Fetch-Site / Origin checks, see web.go) stand
// behind both.
const (
	sessionCookie = "flywheel_session"
	loginCookie   = "flywheel_login"
	csrfField     = "csrf"
	sessionMaxAge = 12 * time.Hour
	formLimit     = 64 << 10
)

// session is a logged-in user.
type session struct {
	secret    string
	Principal auth.Principal
	// TokenName is the token's display name.
	TokenName string
	// CSRF is the token every POST form of this session carries.
	CSRF string
}

var errNoSession = errors.New("not logged in")

// session authenticates the request's session cookie.
func (h *Handler) session(r *http.Request) (*session, error) {
	secret, ok := cookieSecret(r)
	if !ok {
		return nil, errNoSession
	}
	p, tok, err := auth.Authenticate(r.Context(), h.st, secret, h.now())
	if err != nil {
		return nil, err
	}
	if !p.Allows(store.RoleViewer) {
		return nil, auth.ErrInvalid // an intake token reads nothing, here neither
	}
	return &session{secret: secret, Principal: p, TokenName: tok.Name, CSRF: sessionCSRF(secret)}, nil
}

// encodeSecret is the session cookie's value for a secret.
func encodeSecret(secret string) string { return base64.RawURLEncoding.EncodeToString([]byte(secret)) }

func cookieSecret(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// sessionFailed sends a request without a valid session to the login page.
func (h *Handler) sessionFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoSession):
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrExpired):
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

func sessionCSRF(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
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
	p, _, err := auth.Authenticate(r.Context(), h.st, secret, h.now())
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
		h.log.Info("UI login refused", "reason", "role "+string(p.Role), "token_id", p.TokenID)
		h.renderLogin(w, r, http.StatusForbidden, next, "That is an intake token: it can only send events. Log in with a viewer, operator or admin token.")
		return
	}
	h.log.Info("UI login", "token_id", p.TokenID, "tenant", p.TenantID)
	h.setCookie(w, loginCookie, "", "/login", -1)
	h.setCookie(w, sessionCookie, encodeSecret(secret), "/", sessionMaxAge)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session. It needs the session's CSRF token (so another
// site cannot log the user out) but not a still-valid token.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	secret, ok := cookieSecret(r)
	if ok && !validCSRF(secret, r.PostFormValue(csrfField)) {
		h.renderError(w, r, nil, errForbidden("The form's security token did not match; reload the page and try again."))
		return
	}
	h.setCookie(w, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// validCSRF reports whether a form's CSRF token belongs to the session
// secret. Later logged-in actions (acknowledge, approve, run) check it
// before acting, as logout does.
func validCSRF(secret, token string) bool {
	return hmac.Equal([]byte(sessionCSRF(secret)), []byte(token))
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
