package cost_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (f *fixture) samples(res, metric string, from time.Time, n int, value func(i int) float64) {
	f.t.Helper()
	var ss []store.MetricSample
	for i := 0; i < n; i++ {
		ss = append(ss, store.MetricSample{TenantID: tenant, ResourceID: res, Metric: metric, At: from.Add(time.Duration(i) * time.Hour), Value: value(i)})
	}
	if err := f.st.InTx(context.Background(), func(tx store.Tx) error { return tx.AddMetricSamples(context.Background(), ss) }); err != nil {
		f.t.Fatal(err)
	}
}

// Resources shaped as the EC2 API describes them (DescribeVolumes,
// DescribeSnapshots, DescribeInstances); the expected savings are the
// price table's figures times the sizes, worked out here by hand.
func TestWasteFindings(t *testing.T) {
	t.Parallel()
	f := newFixture(t, officeHours)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f.clk.set(now)
	f.resource("res_vol_free", "ebs-volume", nil, `{"VolumeId": "vol-free", "Size": 100, "VolumeType": "gp3", "State": "available", "AvailabilityZone": "us-east-1b", "Attachments": []}`)
	f.resource("res_vol_used", "ebs-volume", nil, `{"VolumeId": "vol-used", "Size": 50, "VolumeType": "gp2", "State": "in-use", "AvailabilityZone": "us-east-1b",
		"Attachments": [{"InstanceId": "i-0stopped0000000a", "State": "attached"}]}`)
	f.resource("res_snap_old", "ebs-snapshot", nil, `{"SnapshotId": "snap-old", "VolumeSize": 200, "StartTime": "2026-06-01T00:00:00Z", "region": "us-east-1"}`)
	f.resource("res_snap_new", "ebs-snapshot", nil, `{"SnapshotId": "snap-new", "VolumeSize": 200, "StartTime": "2026-11-20T00:00:00Z", "region": "us-east-1"}`)
	f.resource("res_stopped", "ec2-instance", nil, `{"InstanceId": "i-0stopped0000000a", "InstanceType": "m5.large", "State": {"Name": "stopped"},
		"Placement": {"AvailabilityZone": "us-east-1b"}, "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-used"}}]}`)
	// Stopped too, but by the office-hours schedule: not waste.
	f.resource("res_scheduled", "ec2-instance", map[string]string{"env": "dev"}, `{"InstanceId": "i-0sched000000000a", "State": {"Name": "stopped"},
		"BlockDeviceMappings": [{"Ebs": {"VolumeId": "vol-x"}}]}`)
	cfg := `{"InstanceId": "%s", "InstanceType": "m5.xlarge", "State": {"Name": "running"}, "Placement": {"AvailabilityZone": "us-east-1a"}}`
	f.resource("res_idle", "ec2-instance", nil, fmt.Sprintf(cfg, "i-0idle0000000000a"))
	f.resource("res_big", "ec2-instance", nil, fmt.Sprintf(cfg, "i-0big00000000000a"))
	f.resource("res_busy", "ec2-instance", nil, fmt.Sprintf(cfg, "i-0busy0000000000a"))
	from := now.Add(-13 * 24 * time.Hour)
	// Idle: CPU 1-3 %; one spike in 13 days does not make it busy (p95).
	f.samples("res_idle", cost.MetricCPU, from, 300, func(i int) float64 { return map[bool]float64{true: 90, false: 1 + float64(i%3)}[i == 100] })
	f.samples("res_big", cost.MetricCPU, from, 300, func(i int) float64 { return 8 + float64(i%5) })
	f.samples("res_big", cost.MetricMemory, from, 300, func(i int) float64 { return 20 })
	f.samples("res_busy", cost.MetricCPU, from, 300, func(i int) float64 { return 40 + float64(i%20) })
	f.samples("res_busy", cost.MetricMemory, from, 300, func(i int) float64 { return 20 })

	fs, err := f.r.Waste(context.Background(), tenant, now, cost.WasteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"unattached-volume/res_vol_free":       100 * 0.08,            // gp3 $0.08/GB-month
		"old-snapshot/res_snap_old":            200 * 0.05,            // $0.05/GB-month
		"stopped-instance-volumes/res_stopped": 50 * 0.10,             // its gp2 volume
		"idle-instance/res_idle":               0.192 * 730,           // m5.xlarge a month
		"oversized-instance/res_big":           (0.192 - 0.096) * 730, // to m5.large
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
	// Opened as OpsItems in category finance, once.
	n, err := f.r.Findings(context.Background(), tenant, now, cost.WasteOptions{})
	if err != nil || n != 5 {
		t.Fatalf("opened %d, %v", n, err)
	}
	if n, _ := f.r.Findings(context.Background(), tenant, now.Add(time.Hour), cost.WasteOptions{}); n != 0 {
		t.Errorf("opened %d more on the next check", n)
	}
	items, _, err := f.st.ListOpsItems(context.Background(), tenant, store.OpsItemFilter{}, store.Page{Limit: 50})
	if err != nil || len(items) != 5 {
		t.Fatalf("%d OpsItems, %v", len(items), err)
	}
	for _, o := range items {
		if o.Category != "finance" || o.Status != "open" {
			t.Errorf("%s: category %s, status %s", o.Title, o.Category, o.Status)
		}
	}
}
