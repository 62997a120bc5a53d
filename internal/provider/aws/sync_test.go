package aws_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// copyRecording copies the recorded account into a new directory with
// some responses replaced.
func copyRecording(t *testing.T, replace map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(acmeDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(acmeDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := replace[e.Name()]; ok {
			b = []byte(r)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func inventory(t *testing.T, dir string) *provider.Inventory {
	t.Helper()
	inv, _, err := provider.Recorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestSyncIsIncremental: the first inventory adds everything; the same
// account again writes nothing; a later one writes what changed, deletes
// what is gone, and keeps the resources of a type it could not read.
func TestSyncIsIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "T1", CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.PutAWSAccount(ctx, acme)
	}); err != nil {
		t.Fatal(err)
	}
	first, err := inventory(t, acmeDir).Sync(ctx, st, acme)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Added) != 33 || len(first.Changed)+len(first.Removed)+first.Unchanged != 0 {
		t.Fatalf("first sync %d added, %+v", len(first.Added), first)
	}
	got, err := st.GetAWSAccount(ctx, "t1", acme.ID)
	if err != nil || got.Inventory.Resources != 33 || got.Inventory.Error != "" || !got.Inventory.At.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("status %+v (%v)", got.Inventory, err)
	}
	bucket, err := st.GetResource(ctx, "t1", "arn:aws:s3:::acme-public-assets")
	if err != nil || bucket.Type != provider.TypeBucket || !strings.Contains(string(bucket.Config), `"IsPublic":true`) {
		t.Errorf("stored bucket %+v (%v)", bucket, err)
	}

	again, err := inventory(t, acmeDir).Sync(ctx, st, acme)
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != 33 || len(again.Added)+len(again.Changed)+len(again.Removed) != 0 {
		t.Errorf("second sync of the same account %+v", again)
	}

	// Later: vol-0a is encrypted, acme-secure-data is gone, RDS refuses.
	vol, _ := os.ReadFile(filepath.Join(acmeDir, "ec2.DescribeVolumes_1.json"))
	var buckets struct {
		StatusCode int `json:"status_code"`
		Data       struct {
			Owner   map[string]string
			Buckets []map[string]string
		} `json:"data"`
	}
	b, _ := os.ReadFile(filepath.Join(acmeDir, "s3.ListBuckets_1.json"))
	if err := json.Unmarshal(b, &buckets); err != nil || buckets.Data.Buckets[2]["Name"] != "acme-secure-data" {
		t.Fatalf("recording changed: %v", err)
	}
	buckets.Data.Buckets = buckets.Data.Buckets[:2]
	b, _ = json.Marshal(buckets)
	later := copyRecording(t, map[string]string{
		"ec2.DescribeVolumes_1.json":     strings.Replace(string(vol), `"Encrypted": false`, `"Encrypted": true`, 1),
		"s3.ListBuckets_1.json":          string(b),
		"rds.DescribeDBInstances_1.json": `{"status_code": 403, "data": {"Error": {"Code": "AccessDenied", "Message": "no"}}}`,
	})
	d, err := inventory(t, later).Sync(ctx, st, acme)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Changed, []string{"arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a"}) || len(d.Added) != 0 {
		t.Errorf("changed %v added %v", d.Changed, d.Added)
	}
	if !slices.Equal(d.Removed, []string{"arn:aws:s3:::acme-secure-data"}) {
		t.Errorf("removed %v, want the bucket only (RDS could not be read)", d.Removed)
	}
	if len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "AccessDenied") {
		t.Errorf("errors %v", d.Errors)
	}
	if _, err := st.GetResource(ctx, "t1", "arn:aws:rds:eu-west-1:123456789012:db:legacy-db"); err != nil {
		t.Errorf("a database of the unreadable type was deleted: %v", err)
	}
	got, _ = st.GetAWSAccount(ctx, "t1", acme.ID)
	if !strings.Contains(got.Inventory.Error, "AccessDenied") || got.Inventory.Resources != 30 {
		t.Errorf("status %+v", got.Inventory)
	}
}
