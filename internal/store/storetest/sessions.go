package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testUISessions: sessions are created, read back, touched, deleted one by
// one, pruned by age and idleness, and all of a token's go when it is
// revoked.
func testUISessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	tk := store.Token{ID: "tok_ui", TenantID: "acme", Name: "alice", Role: store.RoleViewer, Prefix: "fw_ui", CreatedAt: t0}
	other := store.Token{ID: "tok_other", TenantID: "acme", Name: "bob", Role: store.RoleViewer, Prefix: "fw_ot", CreatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateToken(ctx, tk, "tok-hash-ui"); err != nil {
			return err
		}
		return tx.CreateToken(ctx, other, "tok-hash-other")
	})
	mk := func(id, token string, created time.Time) store.UISession {
		return store.UISession{IDHash: id, TenantID: "acme", TokenID: token, TokenHash: "tok-hash-" + token[4:], CreatedAt: created, LastSeenAt: created}
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, se := range []store.UISession{mk("s1", "tok_ui", t0), mk("s2", "tok_ui", t0), mk("s3", "tok_other", t0), mk("s-old", "tok_other", t0.Add(-24*time.Hour))} {
			if err := tx.CreateUISession(ctx, se); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.GetUISession(ctx, "s1")
	if err != nil || got.TokenID != "tok_ui" || got.TokenHash != "tok-hash-ui" || got.TenantID != "acme" || !got.CreatedAt.Equal(t0) || !got.LastSeenAt.Equal(t0) {
		t.Errorf("GetUISession = %+v, %v", got, err)
	}
	if _, err := s.GetUISession(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateUISession(ctx, mk("s1", "tok_ui", t0)) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate session id: %v", err)
	}
	later := t0.Add(30 * time.Minute)
	mustTx(t, s, func(tx store.Tx) error { return tx.TouchUISession(ctx, "s2", later) })
	if got, _ := s.GetUISession(ctx, "s2"); !got.LastSeenAt.Equal(later) || !got.CreatedAt.Equal(t0) {
		t.Errorf("touched session = %+v", got)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteUISession(ctx, "s3") })
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteUISession(ctx, "s3") })
	if _, err := s.GetUISession(ctx, "s3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	// s-old is past the absolute bound, s1 idle since t0; s2 was seen later.
	var n int64
	mustTx(t, s, func(tx store.Tx) (err error) {
		n, err = tx.PruneUISessions(ctx, t0.Add(-time.Hour), t0.Add(time.Minute))
		return err
	})
	if n != 2 {
		t.Errorf("pruned %d sessions, want 2 (one too old, one idle)", n)
	}
	if _, err := s.GetUISession(ctx, "s2"); err != nil {
		t.Errorf("an active session was pruned: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateUISession(ctx, mk("s4", "tok_other", later)) })
	mustTx(t, s, func(tx store.Tx) error { return tx.RevokeToken(ctx, "acme", "tok_ui", later) })
	if _, err := s.GetUISession(ctx, "s2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked token's session survived: %v", err)
	}
	if _, err := s.GetUISession(ctx, "s4"); err != nil {
		t.Errorf("another token's session went with the revocation: %v", err)
	}
}
