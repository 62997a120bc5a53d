package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The tokens page (tenant admins): the tenant's API tokens, a form to
// create one — its secret shown once, on the answer to the form — and a
// Revoke button. Both actions go through internal/service, as POST and
// DELETE /api/v1/tokens and `flywheel token create|revoke` do, and are
// audited (token.create, token.revoke).

type tokensData struct {
	Tokens []store.Token
	Roles  []store.Role
	// Created is the token just issued, with its secret (only on the
	// answer to the create form).
	Created *service.CreatedToken
	Problem string
	Form    tokenForm
}

type tokenForm struct {
	Name, Role, ExpiresIn string
}

func (h *Handler) tokenRoutes() {
	h.page("GET /tokens", "tokens", h.tokensPage)
	h.action("POST /tokens", store.RoleAdmin, h.createToken)
	h.action("POST /tokens/{id}/revoke", store.RoleAdmin, h.revokeToken)
}

func (h *Handler) tokensPage(rq *request) (any, error) {
	if !rq.sess.Principal.Allows(store.RoleAdmin) {
		return nil, errForbidden("The tokens page needs the admin role; your token is " + string(rq.sess.Principal.Role) + ".")
	}
	return h.tokensData(rq)
}

// tokensData lists the tenant's tokens: platform-admin tokens only to a
// platform admin, as the API does.
func (h *Handler) tokensData(rq *request) (tokensData, error) {
	rq.view.Title = "API tokens"
	d := tokensData{Roles: []store.Role{store.RoleViewer, store.RoleOperator, store.RoleAdmin, store.RoleIntake}, Form: tokenForm{Role: string(store.RoleViewer)}}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		items, next, err := h.st.ListTokens(rq.ctx, rq.tenantID(), page)
		if err != nil {
			return d, fmt.Errorf("list tokens: %w", err)
		}
		d.Tokens = append(d.Tokens, items...)
		if next == "" || len(d.Tokens) >= 10*store.MaxPageLimit {
			break
		}
		page.Cursor = next
	}
	if !rq.sess.Principal.PlatformAdmin {
		d.Tokens = slices.DeleteFunc(d.Tokens, func(t store.Token) bool { return t.PlatformAdmin })
	}
	return d, nil
}

// createToken issues a token and answers with the page showing its secret
// (not a redirect: the secret must not travel in a URL or be shown twice).
func (h *Handler) createToken(rq *request) (string, error) {
	in := service.TokenInput{Name: strings.TrimSpace(rq.PostFormValue("name")), Role: store.Role(rq.PostFormValue("role")),
		ExpiresIn: strings.TrimSpace(rq.PostFormValue("expires_in"))}
	out, err := h.svc().CreateToken(rq.ctx, rq.caller(), in)
	d, derr := h.tokensData(rq)
	if derr != nil {
		return "", derr
	}
	if e, ok := service.As(err); ok && e.Kind == service.Invalid {
		d.Problem, d.Form = e.Msg, tokenForm{Name: in.Name, Role: string(in.Role), ExpiresIn: in.ExpiresIn}
		return "", &formProblem{Status: http.StatusBadRequest, Tmpl: "tokens", Title: "API tokens", Data: d}
	}
	if err != nil {
		return "", servicePage(err)
	}
	d.Created = &out
	return "", &formProblem{Status: http.StatusCreated, Tmpl: "tokens", Title: "API tokens", Data: d}
}

func (h *Handler) revokeToken(rq *request) (string, error) {
	id := rq.PathValue("id")
	if len(id) > 64 {
		return "", errBadRequest("The token ID is too long.")
	}
	if err := h.svc().RevokeToken(rq.ctx, rq.caller(), id); err != nil {
		return "", servicePage(err)
	}
	if h.tokenRevoked != nil {
		h.tokenRevoked()
	}
	return rq.view.Link("/tokens"), nil
}
