package ebs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/backup/ebs"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const (
	tenant   = "acme"
	recorded = "../../../testdata/aws/ebs-backup"
	volume   = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0d1a000000000001"
	instance = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0e1b000000000001"
)

// TestEBSSnapshotPlan runs a plan's ebs-snapshot selection against the
// recorded EC2 answers (testdata/aws/ebs-backup/README.md) through the
// real SDK: a volume's and an instance's points are taken and waited
// for, a snapshot EC2 reports in error makes a failed point with an
// OpsItem, and retention deletes the snapshots once their immutability
// has ended, never before.
func TestEBSSnapshotPlan(t *testing.T) {
	ctx := context.Background()
	// The injected clock: the service runs synchronously in this test.
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return errors.Join(tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: now}),
			tx.PutAWSAccount(ctx, store.AWSAccount{TenantID: tenant, ID: "123456789012", Regions: []string{"eu-west-1"}, CreatedAt: now, UpdatedAt: now}))
	}); err != nil {
		t.Fatal(err)
	}
	pill := placebo.Replay(recorded)
	plans := backup.NewCatalog()
	p, err := backup.Compile("ec2-daily", &backup.Spec{
		Rules:      []backup.Rule{{Name: "daily", Schedule: "cron(0 2 * * ? *)", Retention: "7d", ImmutableFor: "2d", CompletionWindow: "1h"}},
		Selections: []backup.Selection{{Name: "ec2", Method: backup.MethodEBS, Resources: []string{volume, instance}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	plans.Add("", p)
	svc := backup.New(backup.Options{Store: st, Plans: plans, Clock: clock,
		Snapshots: ebs.New(ebs.Options{Factory: provider.ReplayFactory(pill), Accounts: st, PollEvery: time.Millisecond})})

	vol, err := svc.Backup(ctx, tenant, "ec2-daily", "daily", "ec2", volume, "test")
	if err != nil {
		t.Fatal(err)
	}
	if vol.Status != store.PointAvailable || vol.Method != backup.MethodEBS || vol.Location != "snap-0c1a000000000001" ||
		vol.SizeBytes != 20<<30 || vol.Repository != "ec2:eu-west-1:123456789012" {
		t.Errorf("volume point = %+v", vol)
	}
	if n := len(pill.CallsTo("ec2.DescribeSnapshots")); n != 2 {
		t.Errorf("DescribeSnapshots called %d times for the volume; want 2 (pending, then completed)", n)
	}
	var in struct {
		VolumeId          string
		TagSpecifications []struct {
			ResourceType string
			Tags         []struct{ Key, Value string }
		}
	}
	if err := pill.CallsTo("ec2.CreateSnapshot")[0].Input(&in); err != nil {
		t.Fatal(err)
	}
	if in.VolumeId != "vol-0d1a000000000001" || len(in.TagSpecifications) != 1 || in.TagSpecifications[0].ResourceType != "snapshot" ||
		!strings.Contains(string(pill.CallsTo("ec2.CreateSnapshot")[0].Params), `"Value":"`+vol.ID+`"`) {
		t.Errorf("CreateSnapshot input = %s", pill.CallsTo("ec2.CreateSnapshot")[0].Params)
	}

	now = now.Add(time.Minute)
	inst, err := svc.Backup(ctx, tenant, "ec2-daily", "daily", "ec2", instance, "test")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Location != "snap-0c1b000000000001,snap-0c1b000000000002" || inst.SizeBytes != 108<<30 {
		t.Errorf("instance point = %+v", inst)
	}
	var multi struct {
		InstanceSpecification struct{ InstanceId string }
		CopyTagsFromSource    string
	}
	if err := pill.CallsTo("ec2.CreateSnapshots")[0].Input(&multi); err != nil {
		t.Fatal(err)
	}
	if multi.InstanceSpecification.InstanceId != "i-0e1b000000000001" || multi.CopyTagsFromSource != "volume" {
		t.Errorf("CreateSnapshots input = %s", pill.CallsTo("ec2.CreateSnapshots")[0].Params)
	}
	if snaps, _ := inst.Manifest["snapshots"].([]any); len(snaps) != 2 {
		t.Errorf("instance point manifest = %v, want its two snapshots", inst.Manifest)
	}

	// Restoring EBS points is not built: refused, and nothing recorded
	// (no failed test, no OpsItem, the point's verification unchanged).
	if _, err := svc.TestRestore(ctx, tenant, "ec2-daily", vol.ID, "", "test"); !errors.Is(err, backup.ErrUnsupported) {
		t.Errorf("restore test of an EBS point: %v, want ErrUnsupported", err)
	}
	if tests, _, _ := st.ListRestoreTests(ctx, tenant, "ec2-daily", store.Page{}); len(tests) != 0 {
		t.Errorf("restore tests recorded: %+v", tests)
	}
	if got, _ := st.GetRecoveryPoint(ctx, tenant, vol.ID); got.Verification != vol.Verification {
		t.Errorf("verification after a refused restore test: %s, want %s", got.Verification, vol.Verification)
	}

	now = now.Add(24 * time.Hour)
	bad, err := svc.Backup(ctx, tenant, "ec2-daily", "daily", "ec2", volume, "test")
	if err == nil || bad.Status != store.PointFailed || bad.OpsItemID == "" || !strings.Contains(bad.Error, "Client.InternalError") {
		t.Errorf("backup whose snapshot EC2 reports in error = %+v, %v; want a failed point with an OpsItem", bad, err)
	}
	if oi, err := st.GetOpsItem(ctx, tenant, bad.OpsItemID); err != nil || oi.Category != "backup" {
		t.Errorf("its OpsItem = %+v, %v", oi, err)
	}

	// One day after the first points: inside their two days of immutability.
	if err := svc.Delete(ctx, tenant, vol.ID, "token:admin"); !errors.Is(err, store.ErrImmutable) {
		t.Errorf("deleting a point a day old, immutable 2d: %v, want ErrImmutable", err)
	}
	if n := len(pill.CallsTo("ec2.DeleteSnapshot")); n != 0 {
		t.Fatalf("an immutable point's deletion called DeleteSnapshot %d times", n)
	}
	now = now.Add(2 * 24 * time.Hour)
	if err := svc.Delete(ctx, tenant, vol.ID, "token:admin"); err != nil {
		t.Errorf("deleting a point past its immutability: %v", err)
	}
	if n, err := svc.Sweep(ctx, tenant); err != nil || n != 0 {
		t.Errorf("sweep at 3d = %d, %v; nothing has expired", n, err)
	}
	now = now.Add(5 * 24 * time.Hour) // 8 days after the first points
	if n, err := svc.Sweep(ctx, tenant); err != nil || n != 2 {
		t.Errorf("sweep at 8d = %d, %v; want the instance's point and the failed one", n, err)
	}
	var deleted []string
	for _, c := range pill.CallsTo("ec2.DeleteSnapshot") {
		var d struct{ SnapshotId string }
		if err := c.Input(&d); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, d.SnapshotId)
	}
	if want := "snap-0c1a000000000001 snap-0c1b000000000001 snap-0c1b000000000002"; strings.Join(deleted, " ") != want {
		t.Errorf("DeleteSnapshot calls = %v, want %s (none for the failed point)", deleted, want)
	}
	for _, pt := range []store.RecoveryPoint{vol, inst, bad} {
		if got, _ := st.GetRecoveryPoint(ctx, tenant, pt.ID); got.Status != store.PointDeleted {
			t.Errorf("point %s: %s, want deleted", pt.Location, got.Status)
		}
	}
	for _, c := range pill.Calls() {
		if c.Region != "eu-west-1" {
			t.Errorf("%s.%s in %q, want the resource's region", c.Service, c.Operation, c.Region)
		}
	}
}

// TestEBSSnapshotNeedsAccount: a resource of an account the tenant has
// not added fails the point, naming the account, and calls nothing.
func TestEBSSnapshotNeedsAccount(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	pill := placebo.Replay(recorded)
	s := ebs.New(ebs.Options{Factory: provider.ReplayFactory(pill), Accounts: st})
	_, err := s.Snapshot(ctx, tenant, volume, nil)
	if err == nil || !strings.Contains(err.Error(), "123456789012") {
		t.Errorf("snapshot in an account not added = %v", err)
	}
	if _, err := s.Snapshot(ctx, tenant, "arn:aws:s3:::bucket", nil); err == nil {
		t.Error("snapshot of an S3 bucket: no error")
	}
	if n := len(pill.Calls()); n != 0 {
		t.Errorf("%d calls made", n)
	}
}
