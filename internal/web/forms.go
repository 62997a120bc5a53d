package web

import (
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// actionFunc handles a logged-in POST form and returns where the browser
// goes next (303 See Other), usually the page the form was on.
type actionFunc func(rq *request) (string, error)

// formProblem re-renders a page with the form's problem shown (a 4xx
// rather than a redirect), keeping what the user typed.
type formProblem struct {
	Status int
	Tmpl   string
	Title  string
	Data   any
}

func (f *formProblem) Error() string { return "form problem" }

// action registers a POST form handler: the session, the CSRF token and
// the role (at least min) are checked before fn runs; a platform admin's
// ?tenant= choice applies as on pages.
func (h *Handler) action(pattern string, min store.Role, fn actionFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sess, err := h.session(r)
		if err != nil {
			h.sessionFailed(w, r, err)
			return
		}
		if !h.parseForm(w, r) {
			return
		}
		if !validCSRF(sess.id, r.PostFormValue(csrfField)) {
			h.renderError(w, r, sess, errForbidden("This form has expired or did not come from this site; reload the page and try again."))
			return
		}
		if !sess.Principal.Allows(min) {
			h.renderError(w, r, sess, errForbidden("This needs the "+string(min)+" role; your token is "+string(sess.Principal.Role)+"."))
			return
		}
		ctx, cancel := withTimeout(r)
		defer cancel()
		v, err := h.newView(ctx, r, sess)
		if err != nil {
			h.renderError(w, r, sess, err)
			return
		}
		rq := &request{Request: r, ctx: ctx, sess: sess, view: v}
		next, err := fn(rq)
		var fp *formProblem
		switch {
		case errors.As(err, &fp):
			v.Title, v.Data = fp.Title, fp.Data
			h.render(w, r, fp.Status, fp.Tmpl, v)
		case err != nil:
			h.renderError(w, r, sess, err)
		default:
			http.Redirect(w, r, next, http.StatusSeeOther)
		}
	})
}

// canAct reports whether the session may use operator forms; pages hide
// the forms it may not use (the handlers refuse them anyway).
func (rq *request) canAct() bool { return rq.sess.Principal.Allows(store.RoleOperator) }
