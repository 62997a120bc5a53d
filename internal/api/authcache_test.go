package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A token check is reused for api.DefaultAuthCacheTTL: a token revoked
// behind the server's back (another replica, the database) keeps working
// until then and not after; revoked through this server, at once.
func TestAuthCacheRevocation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	viewer := h.cred("acme/viewer")
	h.call("GET", "/api/v1/opsitems", viewer.Secret, nil).ok(t, http.StatusOK, nil)

	if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, acme, viewer.ID, h.clock.Now()) }); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(api.DefaultAuthCacheTTL - time.Second)
	h.call("GET", "/api/v1/opsitems", viewer.Secret, nil).ok(t, http.StatusOK, nil)
	h.clock.Advance(time.Second)
	h.call("GET", "/api/v1/opsitems", viewer.Secret, nil).fail(t, http.StatusUnauthorized, "unauthenticated", "revoked")

	// Through the API: the very next request is refused.
	op := h.cred("acme/operator")
	h.call("GET", "/api/v1/opsitems", op.Secret, nil).ok(t, http.StatusOK, nil)
	h.call("DELETE", "/api/v1/tokens/"+op.ID, h.secret("acme/admin"), nil).ok(t, http.StatusNoContent, nil)
	h.call("GET", "/api/v1/opsitems", op.Secret, nil).fail(t, http.StatusUnauthorized, "unauthenticated", "revoked")
}

// A cached check never outlives the token's own expiry.
func TestAuthCacheTokenExpiry(t *testing.T) {
	h := newHarness(t)
	var out struct {
		Secret string `json:"secret"`
	}
	h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), map[string]any{"name": "short", "role": "viewer", "expires_in": "2s"}).
		ok(t, http.StatusCreated, &out)
	h.call("GET", "/api/v1/opsitems", out.Secret, nil).ok(t, http.StatusOK, nil)
	h.clock.Advance(2 * time.Second)
	h.call("GET", "/api/v1/opsitems", out.Secret, nil).fail(t, http.StatusUnauthorized, "unauthenticated", "expired")
}
