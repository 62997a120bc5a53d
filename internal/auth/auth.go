// Package auth issues and checks API tokens. A token's secret is shown once
// at creation and stored only as its SHA-256; each token belongs to one
// tenant and carries a role (viewer < operator < admin, or intake for
// senders, which may only post events), permissions granted beyond the
// role (host-commands), and, for operators of the platform itself, the
// platform-admin flag that crosses tenants.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// SecretPrefix starts every generated secret, so leaked tokens are greppable.
const SecretPrefix = "fw_"

// Errors Authenticate returns.
var (
	ErrInvalid = errors.New("invalid token")
	ErrRevoked = errors.New("token revoked")
	ErrExpired = errors.New("token expired")
)

// Principal is an authenticated caller.
type Principal struct {
	TokenID string
	// TokenName is the token's name (approval gates may name it).
	TokenName     string
	TenantID      string
	Role          store.Role
	PlatformAdmin bool
	// Permissions are the token's grants beyond its role.
	Permissions []store.Permission
}

// Can reports whether the principal holds permission perm: admins hold
// host-commands by their role, other roles when their token was granted it.
func (p Principal) Can(perm store.Permission) bool {
	if perm == store.PermHostCommands && p.Role == store.RoleAdmin {
		return true
	}
	return slices.Contains(p.Permissions, perm)
}

// Actor names the principal in audit records.
func (p Principal) Actor() string { return "token:" + p.TokenID }

// Allows reports whether the principal's role reaches min. A route whose
// least role is intake (the intake endpoints) admits intake tokens and
// operators and admins (who may send events by hand); any other route
// admits the roles ranked at least min, never intake.
func (p Principal) Allows(min store.Role) bool {
	if min == store.RoleIntake {
		return p.Role == store.RoleIntake || p.Role.Rank() >= store.RoleOperator.Rank()
	}
	return min.Rank() > 0 && p.Role.Rank() >= min.Rank()
}

// NewSecret returns a fresh secret.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret is the stored form of a secret.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Prefix is the displayable start of a secret.
func Prefix(secret string) string {
	if len(secret) > 10 {
		return secret[:10]
	}
	return secret
}

// Authenticate resolves a bearer secret to a principal.
func Authenticate(ctx context.Context, r store.Reader, secret string, now time.Time) (Principal, store.Token, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Principal{}, store.Token{}, ErrInvalid
	}
	return AuthenticateHash(ctx, r, HashSecret(secret), now)
}

// AuthenticateHash resolves a token by its secret's hash (HashSecret) to a
// principal, with Authenticate's checks: the UI's server-side sessions
// keep the hash, never the secret.
func AuthenticateHash(ctx context.Context, r store.Reader, hash string, now time.Time) (Principal, store.Token, error) {
	t, err := r.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, t, ErrInvalid
	}
	if err != nil {
		return Principal{}, t, err
	}
	if t.RevokedAt != nil {
		return Principal{}, t, ErrRevoked
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return Principal{}, t, ErrExpired
	}
	return Principal{TokenID: t.ID, TokenName: t.Name, TenantID: t.TenantID, Role: t.Role, PlatformAdmin: t.PlatformAdmin,
		Permissions: t.Permissions}, t, nil
}

// NewToken describes a token to issue.
type NewToken struct {
	TenantID      string
	Name          string
	Role          store.Role
	PlatformAdmin bool
	// Permissions are granted beyond the role (store.Permissions).
	Permissions []store.Permission
	ExpiresAt   *time.Time
	CreatedBy   string
	// Secret, when set, is used instead of a generated one (the admin token
	// from FLYWHEEL_ADMIN_TOKEN).
	Secret string
}

// Issue stores a new token in tx and returns it with its secret, which is
// never retrievable again.
func Issue(ctx context.Context, tx store.Tx, n NewToken, now time.Time) (store.Token, string, error) {
	if !n.Role.Valid() {
		return store.Token{}, "", fmt.Errorf("role %q is not one of intake, viewer, operator, admin", n.Role)
	}
	if n.PlatformAdmin && n.Role != store.RoleAdmin {
		return store.Token{}, "", fmt.Errorf("a platform-admin token must have the admin role, not %s", n.Role)
	}
	for _, p := range n.Permissions {
		if !p.Valid() {
			return store.Token{}, "", fmt.Errorf("permission %q is not one of %v", p, store.Permissions)
		}
		if n.Role == store.RoleIntake || n.Role == store.RoleViewer {
			return store.Token{}, "", fmt.Errorf("permission %s needs the operator or admin role, not %s", p, n.Role)
		}
	}
	secret := n.Secret
	if secret == "" {
		secret = NewSecret()
	}
	t := store.Token{
		ID: store.NewID("tok", now), TenantID: n.TenantID, Name: n.Name, Role: n.Role,
		PlatformAdmin: n.PlatformAdmin, Permissions: slices.Compact(slices.Sorted(slices.Values(n.Permissions))), Prefix: Prefix(secret), CreatedAt: now, CreatedBy: n.CreatedBy, ExpiresAt: n.ExpiresAt,
	}
	if err := tx.CreateToken(ctx, t, HashSecret(secret)); err != nil {
		return store.Token{}, "", err
	}
	return t, secret, nil
}
