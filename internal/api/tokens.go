package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerTokens() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tokens", MinRole: store.RoleAdmin}, s.listTokens)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/tokens", MinRole: store.RoleAdmin}, s.createToken)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", MinRole: store.RoleAdmin}, s.revokeToken)
}

// TokenInput is the body of POST /api/v1/tokens.
type TokenInput struct {
	Name          string     `json:"name"`
	Role          store.Role `json:"role"`
	PlatformAdmin bool       `json:"platform_admin"`
	// ExpiresIn is a Go duration ("720h"); empty means no expiry.
	ExpiresIn string `json:"expires_in"`
	// Allow grants permissions beyond the role ("host-commands").
	Allow []store.Permission `json:"allow,omitempty"`
}

// CreatedToken is the response to POST /api/v1/tokens: the only time the
// secret is shown.
type CreatedToken struct {
	store.Token
	Secret string `json:"secret"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in TokenInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := required("name", in.Name); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return BadRequest("role %q is not one of intake, viewer, operator, admin", in.Role)
	}
	if in.PlatformAdmin && in.Role != store.RoleAdmin {
		return BadRequest("platform_admin needs the admin role, not %s", in.Role)
	}
	if len(in.Allow) > len(store.Permissions) {
		return BadRequest("allow: %d permissions given; there are %d", len(in.Allow), len(store.Permissions))
	}
	for _, p := range in.Allow {
		if !p.Valid() {
			return BadRequest("allow: %q is not one of %v", clipDetail(string(p), 64), store.Permissions)
		}
		if in.Role != store.RoleOperator && in.Role != store.RoleAdmin {
			return BadRequest("allow: %s needs the operator or admin role, not %s", p, in.Role)
		}
	}
	if in.PlatformAdmin && !Principal(r).PlatformAdmin {
		return Forbidden("only a platform admin may create a platform-admin token")
	}
	now := s.now()
	var exp *time.Time
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return BadRequest("expires_in %q is not a positive duration (e.g. 720h)", in.ExpiresIn)
		}
		t := now.Add(d)
		exp = &t
	}
	var out CreatedToken
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		t, secret, err := auth.Issue(ctx, tx, auth.NewToken{TenantID: tenant, Name: in.Name, Role: in.Role,
			PlatformAdmin: in.PlatformAdmin, Permissions: in.Allow, ExpiresAt: exp, CreatedBy: Principal(r).Actor()}, now)
		if err != nil {
			return audit.Entry{}, err
		}
		out = CreatedToken{Token: t, Secret: secret}
		return audit.Entry{Action: "token.create", Target: "token/" + t.ID,
			Detail: map[string]any{"name": t.Name, "role": t.Role, "platform_admin": t.PlatformAdmin, "permissions": t.Permissions}}, nil
	})
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

// findToken looks token id up among the tenant's tokens.
func findToken(ctx context.Context, rd store.Reader, tenant, id string) (store.Token, error) {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		items, next, err := rd.ListTokens(ctx, tenant, page)
		if err != nil {
			return store.Token{}, err
		}
		if i := slices.IndexFunc(items, func(t store.Token) bool { return t.ID == id }); i >= 0 {
			return items[i], nil
		}
		if next == "" {
			return store.Token{}, store.ErrNotFound
		}
		page.Cursor = next
	}
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	if !Principal(r).PlatformAdmin {
		switch t, err := findToken(r.Context(), s.st, tenant, id); {
		case err == nil && t.PlatformAdmin:
			return Forbidden("only a platform admin may revoke a platform-admin token")
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.RevokeToken(ctx, tenant, id, s.now()); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "token.revoke", Target: "token/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("token %q not found (or already revoked)", id)
	}
	if err != nil {
		return err
	}
	s.auth.reset()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
