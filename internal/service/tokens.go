package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TokenInput is a token to issue (the body of POST /api/v1/tokens).
type TokenInput struct {
	Name          string     `json:"name"`
	Role          store.Role `json:"role"`
	PlatformAdmin bool       `json:"platform_admin"`
	// ExpiresIn is a Go duration ("720h"); empty means no expiry.
	ExpiresIn string `json:"expires_in"`
	// Allow grants permissions beyond the role ("host-commands").
	Allow []store.Permission `json:"allow,omitempty"`
}

// CreatedToken is an issued token with its secret, shown this once.
type CreatedToken struct {
	store.Token
	Secret string `json:"secret"`
}

// CreateToken issues a token in the caller's tenant and audits
// "token.create". Only a platform admin may issue a platform-admin token.
func (s *Service) CreateToken(ctx context.Context, c Caller, in TokenInput) (CreatedToken, error) {
	var out CreatedToken
	if strings.TrimSpace(in.Name) == "" {
		return out, errorf(Invalid, "name is required")
	}
	if !in.Role.Valid() {
		return out, errorf(Invalid, "role %q is not one of intake, viewer, operator, admin", in.Role)
	}
	if in.PlatformAdmin && in.Role != store.RoleAdmin {
		return out, errorf(Invalid, "platform_admin needs the admin role, not %s", in.Role)
	}
	if len(in.Allow) > len(store.Permissions) {
		return out, errorf(Invalid, "allow: %d permissions given; there are %d", len(in.Allow), len(store.Permissions))
	}
	for _, p := range in.Allow {
		if !p.Valid() {
			return out, errorf(Invalid, "allow: %q is not one of %v", Clip(string(p), 64), store.Permissions)
		}
		if in.Role != store.RoleOperator && in.Role != store.RoleAdmin {
			return out, errorf(Invalid, "allow: %s needs the operator or admin role, not %s", p, in.Role)
		}
	}
	if in.PlatformAdmin && !c.Principal.PlatformAdmin {
		return out, errorf(Forbidden, "only a platform admin may create a platform-admin token")
	}
	now := s.now()
	var exp *time.Time
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return out, errorf(Invalid, "expires_in %q is not a positive duration (e.g. 720h)", in.ExpiresIn)
		}
		t := now.Add(d)
		exp = &t
	}
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		t, secret, err := auth.Issue(ctx, tx, auth.NewToken{TenantID: c.Tenant, Name: in.Name, Role: in.Role,
			PlatformAdmin: in.PlatformAdmin, Permissions: in.Allow, ExpiresAt: exp, CreatedBy: c.Actor()}, now)
		if err != nil {
			return audit.Entry{}, err
		}
		out = CreatedToken{Token: t, Secret: secret}
		return audit.Entry{Action: "token.create", Target: "token/" + t.ID,
			Detail: map[string]any{"name": t.Name, "role": t.Role, "platform_admin": t.PlatformAdmin, "permissions": t.Permissions}}, nil
	})
	return out, err
}

// RevokeToken revokes one of the tenant's tokens (and ends its UI
// sessions) and audits "token.revoke". Only a platform admin may revoke a
// platform-admin token.
func (s *Service) RevokeToken(ctx context.Context, c Caller, id string) error {
	if !c.Principal.PlatformAdmin {
		switch t, err := findToken(ctx, s.st, c.Tenant, id); {
		case err == nil && t.PlatformAdmin:
			return errorf(Forbidden, "only a platform admin may revoke a platform-admin token")
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.RevokeToken(ctx, c.Tenant, id, s.now()); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "token.revoke", Target: "token/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(NotFound, "token %q not found (or already revoked)", id)
	}
	return err
}

// findToken looks token id up among the tenant's tokens.
func findToken(ctx context.Context, rd store.TokenReader, tenant, id string) (store.Token, error) {
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
