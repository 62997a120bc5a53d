package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Who may call each route, as letters: I intake, V viewer, O operator,
// A admin (each of a customer tenant, acme) and P the platform admin. The
// table is the least-privilege contract of the API: TestRoleMatrix calls
// every registered route with every role and fails when the answer differs
// from the row, when a route has no row, or when a row names no route.
var routeRoles = map[string]string{
	"GET /api/v1/tenants":         "VOAP",
	"POST /api/v1/tenants":        "P",
	"GET /api/v1/tenants/{id}":    "VOAP",
	"GET /api/v1/tokens":          "AP",
	"POST /api/v1/tokens":         "AP",
	"DELETE /api/v1/tokens/{id}":  "AP",
	"GET /api/v1/audit":           "AP",
	"GET /api/v1/audit/verify":    "AP",
	"GET /api/v1/doctor":          "P",
	"POST /api/v1/content/reload": "P",
	"GET /api/v1/opsitems":        "VOAP",
	"POST /api/v1/opsitems":       "OAP",
	"GET /api/v1/opsitems/{id}":   "VOAP",
	"PATCH /api/v1/opsitems/{id}": "OAP",

	"POST /api/v1/opsitems/{id}/acknowledge": "OAP",
	"POST /api/v1/opsitems/{id}/assign":      "OAP",
	"POST /api/v1/opsitems/{id}/notes":       "OAP",
	"POST /api/v1/opsitems/{id}/resolve":     "OAP",
	"POST /api/v1/opsitems/{id}/merge":       "OAP",
	"POST /api/v1/opsitems/{id}/split":       "OAP",
	"GET /api/v1/correlation/candidates":     "VOAP",
	"GET /api/v1/applications":               "VOAP",
	"GET /api/v1/applications/proposals":     "VOAP",
	"GET /api/v1/applications/{id}":          "VOAP",

	// Senders: intake tokens, and people sending by hand.
	"POST /api/v1/intake/{source}": "IOAP",
	"POST /api/v2/alerts":          "IOAP",

	"GET /api/v1/events":                          "VOAP",
	"GET /api/v1/events/{id}/raw":                 "VOAP",
	"GET /api/v1/opsitems/{id}/related":           "VOAP",
	"GET /api/v1/stats/noise":                     "VOAP",
	"GET /api/v1/stats/flywheel":                  "VOAP",
	"GET /api/v1/automation/candidates":           "VOAP",
	"GET /api/v1/automation/candidates/{id}/rule": "VOAP",
	"GET /api/v1/opsitems/{id}/rule":              "VOAP",
	"POST /api/v1/automation/rules":               "AP",

	"GET /api/v1/aws/accounts":                 "VOAP",
	"GET /api/v1/aws/accounts/{id}":            "VOAP",
	"PUT /api/v1/aws/accounts/{id}":            "AP",
	"DELETE /api/v1/aws/accounts/{id}":         "AP",
	"POST /api/v1/aws/accounts/{id}/inventory": "OAP",

	"GET /api/v1/silences":         "VOAP",
	"POST /api/v1/silences":        "OAP",
	"GET /api/v1/silences/{id}":    "VOAP",
	"DELETE /api/v1/silences/{id}": "OAP",

	"GET /api/v1/maintenance-windows":            "VOAP",
	"POST /api/v1/maintenance-windows":           "OAP",
	"GET /api/v1/maintenance-windows/{id}":       "VOAP",
	"DELETE /api/v1/maintenance-windows/{id}":    "OAP",
	"GET /api/v1/maintenance-windows/{id}/next":  "VOAP",
	"GET /api/v1/maintenance-windows/{id}/runs":  "VOAP",
	"POST /api/v1/maintenance-windows/{id}/runs": "AP",
	"GET /api/v1/window-runs/{id}":               "VOAP",

	"GET /api/v1/patch/compliance":                 "VOAP",
	"GET /api/v1/patch/hosts/{id}":                 "VOAP",
	"GET /api/v1/patch/baselines":                  "VOAP",
	"GET /api/v1/patch/expedites":                  "VOAP",
	"POST /api/v1/patch/expedites":                 "OAP",
	"GET /api/v1/backup/plans":                     "VOAP",
	"GET /api/v1/backup/plans/{id}":                "VOAP",
	"POST /api/v1/backup/plans/{id}/restore-tests": "AP",
	"GET /api/v1/backup/points":                    "VOAP",
	"GET /api/v1/backup/points/{id}":               "VOAP",
	"DELETE /api/v1/backup/points/{id}":            "AP",
	"POST /api/v1/backup/points/{id}/retention":    "AP",
	"POST /api/v1/backup/points/{id}/restore":      "AP",
	"GET /api/v1/backup/restore-tests":             "VOAP",
	"GET /api/v1/compliance/results":               "VOAP",
	"GET /api/v1/compliance/changes":               "VOAP",
	"GET /api/v1/compliance/scores":                "VOAP",
	"GET /api/v1/compliance/exceptions":            "VOAP",
	"POST /api/v1/compliance/exceptions":           "OAP",
	"DELETE /api/v1/compliance/exceptions/{id}":    "OAP",
	"GET /api/v1/resource-schedules":               "VOAP",
	"GET /api/v1/resource-schedules/{id}":          "VOAP",
	"POST /api/v1/cost/reconcile":                  "AP",
	"GET /api/v1/cost/savings":                     "VOAP",
	"GET /api/v1/cost/prices":                      "VOAP",
	"GET /api/v1/cost/waste":                       "VOAP",
	"GET /api/v1/forecasts":                        "VOAP",
	"GET /api/v1/prometheus":                       "VOAP",
	"PUT /api/v1/prometheus":                       "AP",
	"DELETE /api/v1/prometheus":                    "AP",
	"GET /api/v1/packs":                            "VOAP",
	"GET /api/v1/packs/{name}":                     "VOAP",
	"POST /api/v1/packs/{name}/diff":               "VOAP",
	"POST /api/v1/packs/{name}/install":            "AP",
	"POST /api/v1/packs/{name}/upgrade":            "AP",
	"DELETE /api/v1/packs/{name}":                  "AP",

	"POST /api/v1/enrollment-tokens": "AP",
	"GET /api/v1/enrollment-tokens":  "AP",
	"GET /api/v1/agents":             "VOAP",
	"GET /api/v1/agents/{id}":        "VOAP",
	"DELETE /api/v1/agents/{id}":     "AP",
	// Host commands need the host-commands permission, an admin's by
	// role; an operator only when granted (TestHostCommandsPermission).
	"POST /api/v1/agents/{id}/commands": "AP",
	"GET /api/v1/commands":              "VOAP",
	"GET /api/v1/commands/{id}":         "VOAP",
	"DELETE /api/v1/commands/{id}":      "OAP",
	"GET /api/v1/resources":             "VOAP",
	"GET /api/v1/resources/{id}":        "VOAP",
	"GET /api/v1/fleet/unmanaged":       "VOAP",

	"GET /api/v1/runbooks":                       "VOAP",
	"GET /api/v1/runbooks/{name}":                "VOAP",
	"POST /api/v1/runbooks/{name}/executions":    "OAP",
	"POST /api/v1/opsitems/{id}/runbooks/{name}": "OAP",
	"GET /api/v1/executions":                     "VOAP",
	"GET /api/v1/executions/{id}":                "VOAP",
	"GET /api/v1/executions/{id}/logs":           "VOAP",
	"POST /api/v1/executions/{id}/approve":       "OAP",
	"POST /api/v1/executions/{id}/deny":          "OAP",
	"POST /api/v1/executions/{id}/cancel":        "OAP",

	"GET /api/v1/rules/consolidation":         "VOAP",
	"GET /api/v1/rules/breakers":              "VOAP",
	"GET /api/v1/rules":                       "VOAP",
	"GET /api/v1/channels":                    "VOAP",
	"POST /api/v1/rules/{name}/breaker/reset": "OAP",
}

// roleCallers are the callers of the matrix, by their letter in routeRoles.
var roleCallers = []struct{ letter, key string }{
	{"I", "acme/intake"}, {"V", "acme/viewer"}, {"O", "acme/operator"}, {"A", "acme/admin"}, {"P", platform},
}

// allowedBy reports whether the routeRoles row of key admits the caller
// with this letter; ok is false when the route has no row.
func allowedBy(key, letter string) (allowed, ok bool) {
	row, ok := routeRoles[key]
	return strings.Contains(row, letter), ok
}

// TestIntakeTokenOnlySends issues an intake token through the API: its
// deliveries are accepted, and it reads nothing, runs nothing and decides
// nothing.
func TestIntakeTokenOnlySends(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var tok api.CreatedToken
	h.call("POST", "/api/v1/tokens", h.secret("acme/admin"), api.TokenInput{Name: "prometheus", Role: store.RoleIntake}).ok(t, 201, &tok)
	if tok.Role != store.RoleIntake {
		t.Fatalf("created token has role %q", tok.Role)
	}
	h.call("POST", "/api/v1/intake/generic", tok.Secret, map[string]any{"title": "disk full"}).ok(t, 200, nil)
	h.call("POST", "/api/v2/alerts", tok.Secret, map[string]any{"labels": map[string]string{"alertname": "x"}}).ok(t, 200, nil)
	if got := h.intake.submitted(); !slices.Equal(got, []string{"acme/generic", "acme/alertmanager-v2"}) {
		t.Errorf("deliveries %v", got)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/opsitems"}, {"GET", "/api/v1/events"}, {"GET", "/api/v1/executions"}, {"GET", "/api/v1/agents"},
		{"GET", "/api/v1/tenants"}, {"POST", "/api/v1/agents/ag_1/commands"}, {"POST", "/api/v1/runbooks/restart/executions"},
		{"POST", "/api/v1/executions/ex_1/approve"}, {"POST", "/api/v1/opsitems"},
	} {
		h.call(c.method, c.path, tok.Secret, map[string]any{"title": "x"}).fail(t, 403, "forbidden", "the token has intake")
	}
	// A viewer reads but does not send.
	h.call("POST", "/api/v1/intake/generic", h.secret("acme/viewer"), map[string]any{"title": "x"}).
		fail(t, 403, "forbidden", "needs the intake (or operator) role")
	h.call("POST", "/api/v1/tokens?tenant=acme", h.secret(platform), api.TokenInput{Name: "x", Role: store.RoleIntake, PlatformAdmin: true}).
		fail(t, 400, "bad_request", "platform_admin needs the admin role")
}

// TestPlatformAdminTokensHidden: a tenant admin neither lists nor revokes
// platform-admin tokens, in its own tenant either; a platform admin does.
func TestPlatformAdminTokensHidden(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var pa, own api.CreatedToken
	h.call("POST", "/api/v1/tokens?tenant=acme", h.secret(platform), api.TokenInput{Name: "msp-ops", Role: store.RoleAdmin, PlatformAdmin: true}).ok(t, 201, &pa)
	h.call("POST", "/api/v1/tokens?tenant=platform", h.secret(platform), api.TokenInput{Name: "platform-tenant-admin", Role: store.RoleAdmin}).ok(t, 201, &own)
	for _, c := range []struct{ who, tenant, victim string }{
		{h.secret("acme/admin"), acme, pa.ID},
		{own.Secret, platform, h.cred(platform).ID},
	} {
		var l api.List[store.Token]
		h.call("GET", "/api/v1/tokens?limit=500", c.who, nil).ok(t, 200, &l)
		if len(l.Items) == 0 {
			t.Fatalf("%s admin lists no tokens", c.tenant)
		}
		for _, tok := range l.Items {
			if tok.PlatformAdmin {
				t.Errorf("%s admin lists platform-admin token %s", c.tenant, tok.ID)
			}
		}
		h.call("DELETE", "/api/v1/tokens/"+c.victim, c.who, nil).fail(t, 403, "forbidden", "platform-admin token")
	}
	// Both still work; the platform admin sees and revokes them.
	h.call("GET", "/api/v1/opsitems", pa.Secret, nil).ok(t, 200, nil)
	var l api.List[store.Token]
	h.call("GET", "/api/v1/tokens?tenant=acme&limit=500", h.secret(platform), nil).ok(t, 200, &l)
	if !slices.ContainsFunc(l.Items, func(t store.Token) bool { return t.ID == pa.ID }) {
		t.Errorf("the platform admin does not list %s", pa.ID)
	}
	h.call("DELETE", "/api/v1/tokens/"+pa.ID+"?tenant=acme", h.secret(platform), nil).ok(t, 204, nil)
	h.call("GET", "/api/v1/opsitems", pa.Secret, nil).fail(t, 401, "unauthenticated", "revoked")
}
