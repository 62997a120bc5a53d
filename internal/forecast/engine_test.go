package forecast

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// A replay of the recorded filling disk: the host web-03 reports the
// recording's used percentage for / (as its agent's inventory would) and
// the leader's tick runs every recorded hour with the clock at that
// sample. The OpsItem opens while the disk is still below 90 %, days
// ahead, and only once.
func TestReplayOpensOpsItemBeforeThreshold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	rec := loadRecording(t)
	var now time.Time
	e, err := NewEngine(EngineOptions{Store: st, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: rec[0].At})
	}); err != nil {
		t.Fatal(err)
	}
	report := func(v float64) {
		cfg, _ := json.Marshal(map[string]any{"disks": []map[string]any{{"mount": "/", "fstype": "ext4", "used_percent": v}},
			"memory": map[string]any{"total_bytes": 8 << 30, "available_bytes": 6 << 30}})
		if err := st.InTx(ctx, func(tx store.Tx) error {
			return tx.PutResource(ctx, store.Resource{ID: "res_web03", TenantID: "acme", Type: "host", Name: "web-03", Config: cfg, CreatedAt: rec[0].At, UpdatedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
	}
	var opened *store.OpsItem
	var openedAt Sample
	for i, s := range rec {
		if i%4 != 0 { // the recording has a sample every 15 recorded minutes; tick hourly
			continue
		}
		now = s.At
		report(s.Value)
		if err := e.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		items, _, err := st.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 1 {
			t.Fatalf("%d OpsItems at %s", len(items), now)
		}
		if len(items) == 1 && opened == nil {
			opened, openedAt = &items[0], s
		}
	}
	if opened == nil {
		t.Fatal("no OpsItem opened")
	}
	actual := crossed(t, rec, 90)
	lead := actual.Sub(openedAt.At)
	t.Logf("opened at %s (disk %.1f %%): %q; the disk reached 90 %% at %s, %.0f h later", openedAt.At.Format(time.DateTime), openedAt.Value,
		opened.Title, actual.Format(time.DateTime), lead.Hours())
	if openedAt.Value >= 90 || lead < 24*time.Hour {
		t.Errorf("opened at %.1f %%, %s before the crossing: not before the threshold with time to act", openedAt.Value, lead)
	}
	if opened.Category != "finance" || !strings.HasPrefix(opened.Title, "disk / on web-03 90 % full in ~") || !strings.Contains(opened.Description, "disk-cleanup") {
		t.Errorf("OpsItem %+v", opened)
	}
}

func TestHostSamplesAndAbout(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	res := store.Resource{ID: "h", TenantID: "acme", Config: json.RawMessage(`{"disks": [{"mount": "/", "used_percent": 41.5}, {"mount": "/data"}],
		"memory": {"total_bytes": 1000, "available_bytes": 250}, "load": {"load1": 3, "cpus": 4}}`)}
	var got []string
	for _, s := range HostSamples(res, at) {
		got = append(got, fmt.Sprintf("%s=%v", s.Metric, s.Value))
	}
	if strings.Join(got, " ") != "disk_used_percent:/=41.5 memory_used_percent=75 cpu_percent=75" {
		t.Errorf("samples %v", got)
	}
	for d, want := range map[time.Duration]string{72 * time.Hour: "3 days", 36 * time.Hour: "2 days", 5 * time.Hour: "5 hours", 20 * time.Minute: "20 minutes"} {
		if got := About(d); got != want {
			t.Errorf("About(%s) = %s, want %s", d, got, want)
		}
	}
}
