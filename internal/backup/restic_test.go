package backup_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

const repoPassword = "correct horse battery staple 42"

func resticPlan(repo, copyTo string, paths ...string) backup.Spec {
	s := backup.Spec{
		Repository: &backup.Repository{URL: repo, PasswordEnv: "TEST_RESTIC_PASSWORD"},
		Rules:      []backup.Rule{{Name: "hourly", Schedule: "rate(1 hour)", Retention: "3d", ImmutableFor: "1d"}},
		Selections: []backup.Selection{{Name: "files", Method: backup.MethodRestic, Resources: []string{"local"}, Paths: paths}},
	}
	if copyTo != "" {
		s.CopyTo = &backup.Repository{URL: copyTo, PasswordEnv: "TEST_RESTIC_PASSWORD"}
	}
	return s
}

// sourceTree writes files to back up and returns their directory.
func sourceTree(t *testing.T) string {
	dir := t.TempDir()
	for i, body := range []string{"alpha\n", strings.Repeat("bravo ", 50000), "charlie"} {
		sub := filepath.Join(dir, "d"+string(rune('0'+i)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "f.txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestResticCorruptPack backs files up with restic, restores and checks
// them, then corrupts one pack file of the repository: the next restore
// test fails and opens an OpsItem. The password reaches restic only
// through the environment: it is in no point, OpsItem or audit record.
func TestResticCorruptPack(t *testing.T) {
	testenv.Program(t, "restic", "restic")
	ctx := context.Background()
	e := newEnv(t, time.Now)
	e.secrets["TEST_RESTIC_PASSWORD"] = repoPassword
	repo, copyRepo := filepath.Join(t.TempDir(), "repo"), filepath.Join(t.TempDir(), "copy")
	src := sourceTree(t)
	spec := resticPlan(repo, copyRepo, src)
	spec.RestoreTest = &backup.RestoreTestSpec{ScratchDir: t.TempDir(),
		Validate: `test "$(cat "$FLYWHEEL_RESTORE_DIR"` + src + `/d0/f.txt)" = alpha`}
	e.addPlan(t, "files", spec)

	pt, err := e.svc.Backup(ctx, tenant, "files", "hourly", "files", "local", "test")
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if pt.Manifest["files"] != float64(3) || pt.SizeBytes != int64(len("alpha\n")+6*50000+len("charlie")) {
		t.Errorf("point = %+v; want 3 files of %d bytes", pt, len("alpha\n")+6*50000+len("charlie"))
	}
	if _, err := os.Stat(filepath.Join(copyRepo, "config")); err != nil {
		t.Errorf("the second repository was not made: %v", err)
	}
	rt, err := e.svc.TestRestore(ctx, tenant, "files", "", "", "test")
	if err != nil || rt.Status != "passed" {
		t.Fatalf("restore test: %+v, %v", rt, err)
	}
	// The plan's status shows the point (RPO, its age) and the measured
	// restore (RTO, the test's duration).
	p, _ := e.plans.Get(tenant, "files")
	status, err := e.svc.Status(ctx, tenant, p)
	if err != nil || len(status.Resources) != 1 {
		t.Fatalf("status = %+v, %v", status, err)
	}
	if r := status.Resources[0]; r.Resource != "local" || r.LastPoint == nil || r.LastPoint.ID != pt.ID || r.Points != 1 ||
		r.LastTest == nil || r.LastTest.ID != rt.ID || r.RTOSeconds != rt.Duration.Seconds() || r.RPOSeconds <= 0 || status.RTOSeconds != r.RTOSeconds {
		t.Errorf("status of local = %+v (plan %+v)", r, status)
	}

	packs, _ := filepath.Glob(filepath.Join(repo, "data", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("no pack files in the repository")
	}
	f, err := os.OpenFile(packs[0], os.O_RDWR, 0)
	if err != nil {
		// restic makes packs read-only.
		if err := os.Chmod(packs[0], 0o600); err != nil {
			t.Fatal(err)
		}
		if f, err = os.OpenFile(packs[0], os.O_RDWR, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt([]byte("corrupted by TestResticCorruptPack"), 40); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rt, err = e.svc.TestRestore(ctx, tenant, "files", pt.ID, "", "test")
	if err == nil || rt.Status != "failed" || rt.OpsItemID == "" {
		t.Fatalf("restore test of a corrupted repository: %+v, %v; want failed with an OpsItem", rt, err)
	}
	t.Logf("detected: %s", rt.Detail)
	items := e.opsItems(t)
	if len(items) != 1 || items[0].ID != rt.OpsItemID || items[0].Category != "backup" {
		t.Errorf("OpsItems = %+v", items)
	}
	// The secret is nowhere in what Flywheel keeps.
	var seen []string
	_ = e.st.ScanAudit(ctx, tenant, 0, func(r store.AuditRecord) error { seen = append(seen, string(r.Detail), r.Result); return nil })
	for _, it := range items {
		seen = append(seen, it.Description)
	}
	tests, _, _ := e.st.ListRestoreTests(ctx, tenant, "", store.Page{})
	for _, x := range tests {
		seen = append(seen, x.Detail)
	}
	for _, s := range seen {
		if strings.Contains(s, repoPassword) {
			t.Errorf("the repository password is in %q", s)
		}
	}
	if len(seen) < 4 {
		t.Errorf("only %d records looked at", len(seen))
	}
}

// TestRetentionAndImmutability runs on an injected clock: a point cannot
// be deleted, nor its retention shortened, inside its immutability window
// (whoever asks); after it, an operator may delete it; retention deletes
// the points whose time has come, and their data with them.
func TestRetentionAndImmutability(t *testing.T) {
	testenv.Program(t, "restic", "restic")
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	e := newEnv(t, clk.now)
	e.secrets["TEST_RESTIC_PASSWORD"] = repoPassword
	repo := filepath.Join(t.TempDir(), "repo")
	e.addPlan(t, "files", resticPlan(repo, "", sourceTree(t))) // retention 3d, immutable 1d
	var pts []store.RecoveryPoint
	for range 3 {
		pt, err := e.svc.Backup(ctx, tenant, "files", "hourly", "files", "local", "test")
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, pt)
		clk.add(12 * time.Hour)
	}
	// Now 36h after the first point: the first two are past their day of
	// immutability (24h, 12h ago... the second one only at 36h exactly).
	if err := e.svc.Delete(ctx, tenant, pts[2].ID, "token:admin"); !errors.Is(err, store.ErrImmutable) {
		t.Errorf("deleting a point 12h old, immutable for 1d: %v, want ErrImmutable", err)
	}
	if _, err := e.svc.SetRetention(ctx, tenant, pts[2].ID, clk.now().Add(time.Hour), "token:admin"); !errors.Is(err, store.ErrImmutable) {
		t.Errorf("shortening retention into the immutability window: %v, want ErrImmutable", err)
	}
	if _, err := e.svc.SetRetention(ctx, tenant, pts[2].ID, pts[2].CreatedAt.Add(30*24*time.Hour), "token:admin"); err != nil {
		t.Errorf("lengthening retention: %v", err)
	}
	if err := e.svc.Delete(ctx, tenant, pts[0].ID, "token:admin"); err != nil {
		t.Errorf("deleting a point past its immutability: %v", err)
	}
	if n, err := e.svc.Sweep(ctx, tenant); err != nil || n != 0 {
		t.Errorf("sweep at 36h = %d, %v; nothing has expired", n, err)
	}
	clk.add(2*24*time.Hour + time.Minute) // 3d 12h after the first point
	n, err := e.svc.Sweep(ctx, tenant)
	if err != nil || n != 1 {
		t.Errorf("sweep at 3d12h = %d, %v; want the second point (the first was deleted, the third kept 30d)", n, err)
	}
	want := []string{store.PointDeleted, store.PointDeleted, store.PointAvailable}
	for i, pt := range pts {
		got, _ := e.st.GetRecoveryPoint(ctx, tenant, pt.ID)
		if got.Status != want[i] {
			t.Errorf("point %d: %s, want %s", i, got.Status, want[i])
		}
	}
	// The deleted snapshots are gone from the repository too.
	cmd := "restic snapshots --json"
	out := runShell(t, cmd, map[string]string{"RESTIC_REPOSITORY": repo, "RESTIC_PASSWORD": repoPassword})
	var snaps []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &snaps); err != nil {
		t.Fatalf("restic snapshots: %v\n%s", err, out)
	}
	for i, pt := range pts {
		if has := slices.ContainsFunc(snaps, func(s struct {
			ID string `json:"id"`
		}) bool {
			return pt.Location != "" && strings.HasPrefix(s.ID, pt.Location)
		}); has != (want[i] == store.PointAvailable) {
			t.Errorf("snapshot %s of point %d in the repository: %v", pt.Location, i, has)
		}
	}
}

// TestFailedPointsPruned: a failed point is kept, with its OpsItem, for
// its rule's retention like any point, then pruned by the sweep.
func TestFailedPointsPruned(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	e := newEnv(t, clk.now)
	// No TEST_RESTIC_PASSWORD in the secret store: the backup fails.
	e.addPlan(t, "files", resticPlan(filepath.Join(t.TempDir(), "repo"), "", "/srv")) // retention 3d, immutable 1d
	failed, err := e.svc.Backup(ctx, tenant, "files", "hourly", "files", "local", "test")
	if err == nil || failed.Status != store.PointFailed || failed.OpsItemID == "" {
		t.Fatalf("backup without the repository password = %+v, %v; want a failed point with an OpsItem", failed, err)
	}
	clk.add(3*24*time.Hour - time.Minute)
	if n, err := e.svc.Sweep(ctx, tenant); err != nil || n != 0 {
		t.Errorf("sweep a minute before the retention ends = %d, %v; want 0", n, err)
	}
	if got, _ := e.st.GetRecoveryPoint(ctx, tenant, failed.ID); got.Status != store.PointFailed {
		t.Errorf("failed point before its retention ends: %s", got.Status)
	}
	clk.add(2 * time.Minute)
	if n, err := e.svc.Sweep(ctx, tenant); err != nil || n != 1 {
		t.Errorf("sweep after the retention = %d, %v; want the failed point", n, err)
	}
	got, _ := e.st.GetRecoveryPoint(ctx, tenant, failed.ID)
	if got.Status != store.PointDeleted || got.DeletedAt == nil || !got.DeletedAt.Equal(clk.now()) {
		t.Errorf("failed point after its retention: %+v, want deleted now", got)
	}
	if n, err := e.svc.Sweep(ctx, tenant); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; a deleted point is swept once", n, err)
	}
}
