package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

func TestIssueAuthenticate(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	var tok store.Token
	var secret string
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: now}); err != nil {
			return err
		}
		tok, secret, err = Issue(ctx, tx, NewToken{TenantID: "acme", Name: "ci", Role: store.RoleOperator, ExpiresAt: &exp}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) < 40 || tok.Prefix != secret[:10] {
		t.Errorf("secret %q prefix %q", secret, tok.Prefix)
	}
	p, _, err := Authenticate(ctx, st, secret, now)
	if err != nil || p.TenantID != "acme" || p.Role != store.RoleOperator || p.Actor() != "token:"+tok.ID {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	if !p.Allows(store.RoleViewer) || !p.Allows(store.RoleOperator) || p.Allows(store.RoleAdmin) {
		t.Error("role ordering wrong")
	}
	if _, _, err := Authenticate(ctx, st, secret, exp); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v", err)
	}
	if _, _, err := Authenticate(ctx, st, secret+"x", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong secret: %v", err)
	}
	if _, _, err := Authenticate(ctx, st, "", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty secret: %v", err)
	}
	st.InTx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, "acme", tok.ID, now) })
	if _, _, err := Authenticate(ctx, st, secret, now); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v", err)
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		_, _, err := Issue(ctx, tx, NewToken{TenantID: "acme", Role: "root"}, now)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), `"root"`) {
		t.Errorf("bad role: %v", err)
	}
}
