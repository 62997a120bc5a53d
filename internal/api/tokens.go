package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerTokens() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tokens", MinRole: store.RoleAdmin}, s.listTokens)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/tokens", MinRole: store.RoleAdmin}, s.createToken)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", MinRole: store.RoleAdmin}, s.revokeToken)
}

// TokenInput is the body of POST /api/v1/tokens.
type TokenInput = service.TokenInput

// CreatedToken is the response to POST /api/v1/tokens: the only time the
// secret is shown.
type CreatedToken = service.CreatedToken

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	var in TokenInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.svc.CreateToken(r.Context(), c, in)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

// listTokens lists the tenant's tokens; platform-admin tokens only to a
// platform admin (a tenant admin neither sees nor revokes the credentials
// that govern every tenant).
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list := s.st.ListTokens
	if !Principal(r).PlatformAdmin {
		list = func(ctx context.Context, tenant string, page store.Page) ([]store.Token, string, error) {
			items, next, err := s.st.ListTokens(ctx, tenant, page)
			return slices.DeleteFunc(items, func(t store.Token) bool { return t.PlatformAdmin }), next, err
		}
	}
	return tenantList(s, list, func(t store.Token) string { return t.ID })(w, r)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	if err := s.svc.RevokeToken(r.Context(), c, id); err != nil {
		return err
	}
	s.auth.reset()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// TokensChanged forgets the token checks the server remembers: call it
// when a token is revoked other than through this API (the UI's tokens
// page), so the token stops working here at once.
func (s *Server) TokensChanged() { s.auth.reset() }
