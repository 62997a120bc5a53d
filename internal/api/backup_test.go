package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// harnessBackup is a backup service with one plan for every tenant,
// "nightly" (postgres, resource res_db). It reaches no host: the tests
// here exercise the API's answers, the catalogue and immutability;
// internal/backup runs the methods for real.
func harnessBackup(t *testing.T, st store.Store, now func() time.Time) *backup.Service {
	t.Helper()
	p, err := backup.Compile("nightly", &backup.Spec{
		Rules: []backup.Rule{{Name: "daily", Schedule: "cron(0 2 * * ? *)", Retention: "7d", ImmutableFor: "1d"}},
		Selections: []backup.Selection{{Name: "db", Method: backup.MethodPostgres, Resources: []string{"res_db"},
			Postgres: &backup.PostgresTarget{Database: "app", DumpDir: "/var/backups/pg"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := backup.NewCatalog()
	c.Add("", p)
	return backup.New(backup.Options{Store: st, Plans: c, Clock: now})
}

// seedPoint stores a point of tenant's nightly plan taken at at, and a
// passed restore test of it; the IDs carry the tenant's name.
func seedPoint(t *testing.T, h *harness, tenant string, at time.Time, status string) store.RecoveryPoint {
	t.Helper()
	ctx := context.Background()
	pt := store.RecoveryPoint{ID: "rp_" + tenant + "_" + at.Format("150405"), TenantID: tenant, Plan: "nightly", Rule: "daily", ResourceID: "res_db",
		Method: backup.MethodPostgres, Repository: "/var/backups/pg", Location: "/var/backups/pg/canary-" + tenant + ".sql", CreatedAt: at,
		Duration: time.Second, SizeBytes: 1234, Checksum: "canary-sum-" + tenant, Status: status, Verification: store.VerifyPassed,
		ExpiresAt: at.Add(7 * 24 * time.Hour), ImmutableUntil: at.Add(24 * time.Hour)}
	if _, err := h.st.GetRecoveryPoint(ctx, tenant, pt.ID); err == nil {
		return pt
	}
	rt := store.RestoreTest{ID: "rt_" + tenant + "_" + at.Format("150405"), TenantID: tenant, Plan: "nightly", PointID: pt.ID, ResourceID: "res_db",
		StartedAt: at.Add(time.Hour), Duration: 42 * time.Second, Status: "passed", Detail: "canary-test-" + tenant}
	if err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateRecoveryPoint(ctx, pt); err != nil {
			return err
		}
		return tx.CreateRestoreTest(ctx, rt)
	}); err != nil {
		t.Fatal(err)
	}
	return pt
}

// TestBackupAPI: plans with RPO and RTO, the catalogue, and immutability
// held against an admin.
func TestBackupAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	taken := epoch.Add(-2 * time.Hour)
	pt := seedPoint(t, h, acme, taken, store.PointAvailable)
	viewer, admin := h.secret(acme+"/viewer"), h.secret(acme+"/admin")

	var plans api.List[backup.PlanStatus]
	h.call("GET", "/api/v1/backup/plans", viewer, nil).ok(t, 200, &plans)
	if len(plans.Items) != 1 || plans.Items[0].Plan != "nightly" || len(plans.Items[0].Resources) != 1 {
		t.Fatalf("plans = %+v", plans.Items)
	}
	if r := plans.Items[0].Resources[0]; r.LastPoint == nil || r.LastPoint.ID != pt.ID || r.RPOSeconds != 7200 || r.RTOSeconds != 42 {
		t.Errorf("nightly's res_db = %+v; want the point, RPO 7200 s (two hours old), RTO 42 s (its restore test)", r)
	}
	h.call("GET", "/api/v1/backup/plans/weekly", viewer, nil).fail(t, 404, "not_found", `backup plan "weekly" not found`)

	var pts api.List[store.RecoveryPoint]
	h.call("GET", "/api/v1/backup/points?plan=nightly&resource=res_db", viewer, nil).ok(t, 200, &pts)
	if len(pts.Items) != 1 || pts.Items[0].ID != pt.ID {
		t.Errorf("points = %+v", pts.Items)
	}
	h.call("GET", "/api/v1/backup/points?plan=other", viewer, nil).ok(t, 200, &pts)
	if len(pts.Items) != 0 {
		t.Errorf("points of plan other = %+v", pts.Items)
	}
	var tests api.List[store.RestoreTest]
	h.call("GET", "/api/v1/backup/restore-tests?plan=nightly", viewer, nil).ok(t, 200, &tests)
	if len(tests.Items) != 1 || tests.Items[0].PointID != pt.ID {
		t.Errorf("restore tests = %+v", tests.Items)
	}

	// Inside its day of immutability, no one deletes the point or
	// shortens its retention; lengthening is fine.
	h.call("DELETE", "/api/v1/backup/points/"+pt.ID, admin, nil).fail(t, http.StatusConflict, "conflict", "immutable until")
	h.call("POST", "/api/v1/backup/points/"+pt.ID+"/retention", admin, api.RetentionInput{ExpiresAt: taken.Add(time.Hour)}).
		fail(t, http.StatusConflict, "conflict", "immutable until")
	var longer store.RecoveryPoint
	h.call("POST", "/api/v1/backup/points/"+pt.ID+"/retention", admin, api.RetentionInput{ExpiresAt: taken.Add(90 * 24 * time.Hour)}).ok(t, 200, &longer)
	if !longer.ExpiresAt.Equal(taken.Add(90 * 24 * time.Hour)) {
		t.Errorf("expires_at = %s", longer.ExpiresAt)
	}
	if got, _ := h.st.GetRecoveryPoint(context.Background(), acme, pt.ID); got.Status != store.PointAvailable {
		t.Errorf("point after the refused delete: %s", got.Status)
	}
	denied := false
	for _, rec := range h.auditOf(acme) {
		if rec.Action == "backup.delete" && strings.HasPrefix(rec.Result, "denied: immutable until") {
			denied = true
		}
	}
	if !denied {
		t.Error("the refused delete is not in the audit log")
	}
	// A failed point past nothing can go (it holds no data).
	failed := seedPoint(t, h, acme, epoch.Add(-49*time.Hour), store.PointFailed)
	h.call("DELETE", "/api/v1/backup/points/"+failed.ID, admin, nil).ok(t, http.StatusNoContent, nil)

	// Bad input names the problem.
	h.call("POST", "/api/v1/backup/points/"+pt.ID+"/restore", admin, map[string]any{}).fail(t, 400, "bad_request", "to is required")
	h.call("POST", "/api/v1/backup/points/"+pt.ID+"/restore", admin, map[string]any{"to": "x", "force": true}).fail(t, 400, "bad_request", "force")
	h.call("POST", "/api/v1/backup/points/"+pt.ID+"/retention", admin, map[string]any{}).fail(t, 400, "bad_request", "expires_at is required")
	h.call("POST", "/api/v1/backup/points/rp_nope/restore", admin, api.RestoreInput{To: "x"}).fail(t, 404, "not_found")
	h.call("POST", "/api/v1/backup/plans/nightly/restore-tests", admin, api.RestoreTestInput{Point: "rp_nope"}).fail(t, 404, "not_found")
}

func init() {
	// Another tenant's points and tests are never listed, read, deleted,
	// restored or re-timed; ?tenant= is forbidden.
	for key, body := range map[string]any{
		"GET /api/v1/backup/points/{id}":            nil,
		"DELETE /api/v1/backup/points/{id}":         nil,
		"POST /api/v1/backup/points/{id}/retention": api.RetentionInput{ExpiresAt: epoch.Add(1000 * time.Hour)},
		"POST /api/v1/backup/points/{id}/restore":   api.RestoreInput{To: "sweep"},
	} {
		method, suffix, _ := strings.Cut(key, " ")
		suffix = strings.TrimPrefix(suffix, "/api/v1/backup/points/{id}")
		isolationCases[key] = isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			pt := seedPoint(t, h, other, epoch.Add(-time.Hour), store.PointAvailable)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				want := 404
				if method != "GET" && role != store.RoleAdmin {
					want = 403
				}
				r := h.call(method, "/api/v1/backup/points/"+pt.ID+suffix, sec, body)
				if r.Status != want || strings.Contains(string(r.Body), "canary-"+other) || strings.Contains(string(r.Body), "canary-sum-"+other) {
					t.Errorf("%s as %s/%s: %s", key, self, role, r)
				}
				h.call(method, "/api/v1/backup/points/"+pt.ID+suffix+"?tenant="+other, sec, body).fail(t, 403, "forbidden")
			}
			if got, _ := h.st.GetRecoveryPoint(context.Background(), other, pt.ID); got.Status != pt.Status || !got.ExpiresAt.Equal(pt.ExpiresAt) {
				t.Errorf("%s's point changed: %+v", other, got)
			}
		}}
	}
	for _, path := range []string{"/api/v1/backup/points", "/api/v1/backup/restore-tests", "/api/v1/backup/plans"} {
		isolationCases["GET "+path] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
			seedPoint(t, h, other, epoch.Add(-time.Hour), store.PointAvailable)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				r := h.call("GET", path, sec, nil)
				r.ok(t, 200, nil)
				if strings.Contains(string(r.Body), "canary-sum-"+other) || strings.Contains(string(r.Body), "canary-test-"+other) ||
					strings.Contains(string(r.Body), "rp_"+other) {
					t.Errorf("%s as %s/%s shows %s's: %s", path, self, role, other, r.Body)
				}
				h.call("GET", path+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}}
	}
	isolationCases["GET /api/v1/backup/plans/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		seedPoint(t, h, other, epoch.Add(-time.Hour), store.PointAvailable)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/backup/plans/nightly", sec, nil)
			r.ok(t, 200, nil)
			if strings.Contains(string(r.Body), "canary-sum-"+other) || strings.Contains(string(r.Body), "rp_"+other) {
				t.Errorf("plan as %s/%s shows %s's points: %s", self, role, other, r.Body)
			}
			h.call("GET", "/api/v1/backup/plans/nightly?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/backup/plans/{id}/restore-tests"] = isoCase{body: api.RestoreTestInput{Resource: "res_db"},
		check: func(t *testing.T, h *harness, self, other string) {
			pt := seedPoint(t, h, other, epoch.Add(-time.Hour), store.PointAvailable)
			before, _, _ := h.st.ListRestoreTests(context.Background(), other, "", store.Page{})
			sec := h.secret(self + "/admin")
			h.call("POST", "/api/v1/backup/plans/nightly/restore-tests", sec, api.RestoreTestInput{Point: pt.ID}).fail(t, 404, "not_found")
			h.call("POST", "/api/v1/backup/plans/nightly/restore-tests?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			after, _, _ := h.st.ListRestoreTests(context.Background(), other, "", store.Page{})
			if len(after) != len(before) {
				t.Errorf("%s's restore tests grew from %d to %d", other, len(before), len(after))
			}
		}}
}
