package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestBackupPage: a plan's resources with their last point, restore test,
// RPO and RTO, and the restore-test history with a failed test's OpsItem;
// another tenant sees none of it.
func TestBackupPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := backup.Compile("nightly", &backup.Spec{
		Rules: []backup.Rule{{Name: "daily", Schedule: "cron(0 2 * * ? *)", Retention: "35d", ImmutableFor: "7d"}},
		Selections: []backup.Selection{{Name: "db", Method: backup.MethodPostgres, Resources: []string{"res_db1"},
			Postgres: &backup.PostgresTarget{Database: "app", DumpDir: "/var/backups/pg"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	plans := backup.NewCatalog()
	plans.Add("acme", p)
	taken := e.now.Add(-90 * time.Minute)
	pt := store.RecoveryPoint{ID: "rp_db1_a", TenantID: "acme", Plan: "nightly", Rule: "daily", ResourceID: "res_db1", Method: "postgres",
		CreatedAt: taken, SizeBytes: 4096, Status: store.PointAvailable, Verification: store.VerifyPassed,
		ExpiresAt: taken.Add(35 * 24 * time.Hour), ImmutableUntil: taken.Add(7 * 24 * time.Hour)}
	tests := []store.RestoreTest{
		{ID: "rt_1", TenantID: "acme", Plan: "nightly", PointID: pt.ID, ResourceID: "res_db1", StartedAt: taken.Add(time.Minute),
			Duration: 1500 * time.Millisecond, Status: "failed", Detail: "public.orders: 10 rows, the point has 12", OpsItemID: "oi_restore1"},
		{ID: "rt_2", TenantID: "acme", Plan: "nightly", PointID: pt.ID, ResourceID: "res_db1", StartedAt: taken.Add(time.Hour),
			Duration: 12 * time.Second, Status: "passed", Detail: "1 tables, 12 rows"},
	}
	err = e.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateRecoveryPoint(ctx, pt); err != nil {
			return err
		}
		for _, x := range tests {
			if err := tx.CreateRestoreTest(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := backup.New(backup.Options{Store: e.st, Plans: plans, Clock: func() time.Time { return e.now }})
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, Backup: svc})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	page := e.get("/backup", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, `<h2 id="plan-nightly">nightly</h2>`, `<dd class="rpo">1h30m0s</dd>`, `<dd class="rto">12s</dd>`,
		`<tr data-resource="res_db1">`, `<code>rp_db1_a</code>`, `<span class="badge st-verified">verified</span>`,
		`<tr data-test="rt_1">`, `<a href="/opsitems/oi_restore1">oi_restore1</a>`, "public.orders: 10 rows, the point has 12",
		`<a href="/backup" aria-current="page">Backup</a>`)
	other := e.get("/backup", e.globex)
	wantStatus(t, other, http.StatusOK)
	wantContains(t, other, "No backup plans.", "No restore tests yet.")
}
