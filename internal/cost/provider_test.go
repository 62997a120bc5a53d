package cost_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Waste over an inventory the AWS provider read: the acme recording with
// the waste overlay (testdata/aws-waste/README.md) replayed through the
// real SDK and synced into the store, then checked at the recording's
// time. Savings are the eu-west-1 prices: gp3 $0.088 and gp2 $0.11 a
// GB-month, snapshots $0.05.
func TestWasteFromRecordedAccount(t *testing.T) {
	t.Parallel()
	const acmeDir = "../../testdata/aws/acme"
	f := newFixture(t, officeHours)
	ctx := context.Background()
	at, err := placebo.RecordedAt(acmeDir)
	if err != nil {
		t.Fatal(err)
	}
	acct := store.AWSAccount{TenantID: tenant, ID: "123456789012", Name: "acme-prod", Regions: []string{"eu-west-1"}}
	if err := f.st.InTx(ctx, func(tx store.Tx) error { return tx.PutAWSAccount(ctx, acct) }); err != nil {
		t.Fatal(err)
	}
	pill := placebo.Replay(acmeDir, "testdata/aws-waste")
	inv := provider.NewInventory(provider.NewFactory(provider.FactoryOptions{LoadBase: placebo.LoadBase, APIOptions: pill.APIOptions(), MaxBackoff: time.Millisecond}),
		provider.InventoryOptions{Now: func() time.Time { return at }})
	if _, err := inv.Sync(ctx, f.st, acct); err != nil {
		t.Fatal(err)
	}
	fs, err := f.r.Waste(ctx, tenant, at, cost.WasteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"unattached-volume/arn:aws:ec2:eu-west-1:123456789012:volume/vol-0c":                       100 * 0.088,
		"old-snapshot/arn:aws:ec2:eu-west-1:123456789012:snapshot/snap-0old":                       200 * 0.05,
		"stopped-instance-volumes/arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60009": 50 * 0.11,
	}
	got := map[string]float64{}
	for _, x := range fs {
		got[x.Key] = x.MonthlySavings
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-math.Round(v*100)/100) > 1e-9 {
			t.Errorf("%s: %v (present %v), want %.2f", k, g, ok, v)
		}
	}
}
