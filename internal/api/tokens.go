package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerTokens() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/tokens", MinRole: store.RoleAdmin}, tenantList(s, s.st.ListTokens))
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
			PlatformAdmin: in.PlatformAdmin, ExpiresAt: exp, CreatedBy: Principal(r).Actor()}, now)
		if err != nil {
			return audit.Entry{}, err
		}
		out = CreatedToken{Token: t, Secret: secret}
		return audit.Entry{Action: "token.create", Target: "token/" + t.ID,
			Detail: map[string]any{"name": t.Name, "role": t.Role, "platform_admin": t.PlatformAdmin}}, nil
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
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
