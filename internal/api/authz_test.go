package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestEveryRouteAuthenticates calls every registered route without a
// usable token: each authenticated one answers 401, each public one 200.
func TestEveryRouteAuthenticates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bad := []struct {
		name, authorization, msg string
	}{
		{"no token", "", "missing bearer token"},
		{"empty bearer", "Bearer ", "missing bearer token"},
		{"basic auth without password", "Basic " + base64.StdEncoding.EncodeToString([]byte("acme:")), "missing bearer token"},
		{"basic auth, not a token", "Basic " + base64.StdEncoding.EncodeToString([]byte("acme:hunter2")), "invalid token"},
		{"basic auth, revoked token", "Basic " + base64.StdEncoding.EncodeToString([]byte("flywheel:"+h.secret("acme/revoked"))), "token revoked"},
		{"unknown token", "Bearer fw_notarealtoken", "invalid token"},
		{"token hash as secret", "Bearer " + strings.Repeat("0", 64), "invalid token"},
		{"revoked", "Bearer " + h.secret("acme/revoked"), "token revoked"},
		{"expired", "Bearer " + h.secret("acme/expired"), "token expired"},
		{"revoked, other tenant", "Bearer " + h.secret("globex/revoked"), "token revoked"},
	}
	authenticated := 0
	for _, rt := range h.srv.Routes() {
		path := concretePath(rt.Pattern, "x")
		if rt.MinRole == "" {
			r := h.call(rt.Method, path, "", nil)
			r.ok(t, http.StatusOK, nil)
			continue
		}
		authenticated++
		for _, b := range bad {
			var hdr []string
			if b.authorization != "" {
				hdr = []string{"Authorization", b.authorization}
			}
			r := h.call(rt.Method, path, "", `{"title":"x","id":"x","name":"x","role":"admin"}`, hdr...)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s with %s: %v; want 401", rt.Method+" "+rt.Pattern, b.name, r)
				continue
			}
			r.fail(t, http.StatusUnauthorized, "unauthenticated", b.msg)
		}
	}
	if authenticated < 12 {
		t.Errorf("only %d authenticated routes; the foundation has at least 12", authenticated)
	}
	// Refused callers are anonymous: nothing was stored, nothing audited.
	for _, tenant := range []string{acme, globex, platform} {
		if n := len(h.auditOf(tenant)); n != 0 {
			t.Errorf("%s has %d audit records after unauthenticated calls", tenant, n)
		}
		if n := len(h.opsItemsOf(tenant)); n != 0 {
			t.Errorf("%s has %d OpsItems after unauthenticated calls", tenant, n)
		}
	}
}

// TestRoleMatrix calls every authenticated route with every role (intake,
// viewer, operator, admin, platform admin): the callers routeRoles admits
// get through, the others get a 403 naming what the route needs, and a
// refused mutating call is itself recorded in the caller's audit chain.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seen := map[string]bool{}
	for _, rt := range h.srv.Routes() {
		if rt.MinRole == "" {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		if _, ok := routeRoles[key]; !ok {
			t.Errorf("route %s has no row in routeRoles: say which roles may call it", key)
			continue
		}
		for _, caller := range roleCallers {
			c := h.cred(caller.key)
			allowed, _ := allowedBy(key, caller.letter)
			before := len(h.auditOf(c.Tenant))
			r := h.call(rt.Method, concretePath(rt.Pattern, "nonexistent"), c.Secret, isolationCases[key].body)
			after := h.auditOf(c.Tenant)
			if allowed {
				if r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized {
					t.Errorf("%s by %s: %v; want it allowed", key, caller.key, r)
				}
				continue
			}
			if r.Status != http.StatusForbidden {
				t.Errorf("%s by %s: %v; want 403", key, caller.key, r)
				continue
			}
			r.fail(t, http.StatusForbidden, "forbidden", "needs the ")
			mutating := rt.Method != "GET" && rt.Method != "HEAD"
			switch {
			case !mutating && len(after) != before:
				t.Errorf("%s by %s: a refused read wrote %d audit records", key, caller.key, len(after)-before)
			case mutating && len(after) != before+1:
				t.Errorf("%s by %s: a refused change wrote %d audit records, want 1", key, caller.key, len(after)-before)
			case mutating:
				rec := after[len(after)-1]
				if rec.Actor != c.Actor() || !strings.HasPrefix(rec.Result, "denied") || rec.Target != r.Path ||
					rec.Action != "api."+strings.ToLower(rt.Method) {
					t.Errorf("%s by %s: audit record %+v", key, caller.key, rec)
				}
			}
		}
	}
	for key := range routeRoles {
		if !seen[key] {
			t.Errorf("routeRoles has a row for %s, which is no authenticated route", key)
		}
	}
}

// TestForbiddenIsAudited covers the refusals the acceptance criteria name,
// and those a handler (not the route's role) decides: each is a 403, changes
// nothing, and leaves one "denied" record in the caller's chain.
func TestForbiddenIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	item := h.createOpsItem(h.secret("acme/operator"), api.OpsItemInput{Title: "existing"})
	cases := []struct {
		name, who, method, path string
		body                    any
		msg                     string
	}{
		{"viewer creates an OpsItem", "acme/viewer", "POST", "/api/v1/opsitems", api.OpsItemInput{Title: "x"}, "needs the operator role"},
		{"viewer resolves an OpsItem", "acme/viewer", "PATCH", "/api/v1/opsitems/" + item.ID, api.OpsItemPatch{Status: ptr("resolved")}, "needs the operator role"},
		{"operator creates a token", "acme/operator", "POST", "/api/v1/tokens", api.TokenInput{Name: "x", Role: store.RoleAdmin}, "needs the admin role"},
		{"operator revokes a token", "acme/operator", "DELETE", "/api/v1/tokens/" + h.cred("acme/viewer").ID, nil, "needs the admin role"},
		{"tenant admin creates a tenant", "acme/admin", "POST", "/api/v1/tenants", api.TenantInput{ID: "initech"}, "needs the platform admin role"},
		{"tenant admin mints a platform-admin token", "acme/admin", "POST", "/api/v1/tokens",
			api.TokenInput{Name: "escalate", Role: store.RoleAdmin, PlatformAdmin: true}, "platform admin"},
		{"operator writes into another tenant", "acme/operator", "POST", "/api/v1/opsitems?tenant=globex", api.OpsItemInput{Title: "x"}, "platform admin"},
		{"admin revokes in another tenant", "acme/admin", "DELETE", "/api/v1/tokens/" + h.cred("globex/admin").ID + "?tenant=globex", nil, "platform admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.cred(tc.who)
			before := map[string]string{}
			for _, tenant := range []string{acme, globex, platform} {
				before[tenant] = snapshot(t, h, tenant)
			}
			data := dataSnapshot(t, h, c.Tenant)
			had := len(h.auditOf(c.Tenant))
			r := h.call(tc.method, tc.path, c.Secret, tc.body)
			r.fail(t, http.StatusForbidden, "forbidden", tc.msg)
			recs := h.auditOf(c.Tenant)
			if len(recs) != had+1 {
				t.Fatalf("the refusal wrote %d audit records, want 1", len(recs)-had)
			}
			rec := recs[len(recs)-1]
			path, _, _ := strings.Cut(tc.path, "?")
			if rec.Actor != c.Actor() || !strings.HasPrefix(rec.Result, "denied") || rec.Target != path ||
				rec.Action != "api."+strings.ToLower(tc.method) || !rec.Time.Equal(h.clock.Now()) {
				t.Errorf("last audit record %+v; want actor %s, action api.%s, target %s, result denied…",
					rec, c.Actor(), strings.ToLower(tc.method), path)
			}
			// Apart from that one record, nothing changed anywhere.
			for tenant, snap := range before {
				now := snapshot(t, h, tenant)
				if tenant == c.Tenant {
					if rec.Seq != int64(len(recs)) {
						t.Errorf("audit chain of %s: last seq %d of %d records", tenant, rec.Seq, len(recs))
					}
					if now := dataSnapshot(t, h, tenant); now != data {
						t.Errorf("%s's data changed:\n%s\n→\n%s", tenant, data, now)
					}
					continue
				}
				if now != snap {
					t.Errorf("%s's data changed:\n%s\n→\n%s", tenant, snap, now)
				}
			}
		})
	}
	h.call("GET", "/api/v1/tokens", h.secret("acme/viewer"), nil).fail(t, http.StatusForbidden, "forbidden")
	var rep struct {
		Records int64
		Broken  any
	}
	h.call("GET", "/api/v1/audit/verify", h.secret("acme/admin"), nil).ok(t, http.StatusOK, &rep)
	if rep.Broken != nil || rep.Records != int64(len(h.auditOf(acme))) {
		t.Errorf("audit verify after refusals: %+v", rep)
	}
}

// TestTokenExpiryFollowsClock issues a token that expires in an hour
// through the API and moves the server clock past it.
func TestTokenExpiryFollowsClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var tok api.CreatedToken
	h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), api.TokenInput{Name: "ci", Role: store.RoleViewer, ExpiresIn: "1h"}).ok(t, 201, &tok)
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("expires_at = %v, want %v", tok.ExpiresAt, epoch.Add(time.Hour))
	}
	h.clock.Advance(time.Hour - time.Microsecond)
	h.call("GET", "/api/v1/opsitems", tok.Secret, nil).ok(t, http.StatusOK, nil)
	h.clock.Advance(time.Microsecond)
	h.call("GET", "/api/v1/opsitems", tok.Secret, nil).fail(t, http.StatusUnauthorized, "unauthenticated", "token expired")
	for _, bad := range []string{"0s", "-1h", "soon", "1"} {
		h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), api.TokenInput{Name: "ci", Role: store.RoleViewer, ExpiresIn: bad}).
			fail(t, http.StatusBadRequest, "bad_request", "expires_in")
	}
	h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), api.TokenInput{Name: "ci", Role: "root"}).
		fail(t, http.StatusBadRequest, "bad_request", "role", "viewer, operator, admin")
	h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), api.TokenInput{Role: store.RoleViewer}).
		fail(t, http.StatusBadRequest, "bad_request", "name is required")
}

func TestUnauthorizedChallenges(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.url + "/api/v1/opsitems")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, `Basic realm="flywheel"`) {
		t.Errorf("401 WWW-Authenticate = %q, want a Basic challenge (SNS sends URL credentials only after one)", got)
	}
}
