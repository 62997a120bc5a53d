package alertmanager

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestGolden parses each fixture and compares the events with
// testdata/golden/<fixture>.json. Raw is left out of the golden files (it
// is the payload itself); TestWebhookRaw and TestAPIv2Raw check it.
func TestGolden(t *testing.T) {
	webhook := NewWebhook(WithClock(testClock))
	v2 := NewAPIv2(WithClock(testClock))
	cases := []struct {
		fixture, golden string
		adapter         intake.Adapter
	}{
		{"alertmanager/webhook-v4-firing.json", "webhook-v4-firing.json", webhook},
		{"alertmanager/webhook-v4-resolved.json", "webhook-v4-resolved.json", webhook},
		{"alertmanager/v2-postable-alerts.json", "v2-postable-alerts.json", v2},
		// The webhook route accepts the v2 shape and must agree with it.
		{"alertmanager/v2-postable-alerts.json", "v2-postable-alerts.json", webhook},
	}
	for _, c := range cases {
		t.Run(c.adapter.Name()+"/"+c.golden, func(t *testing.T) {
			res, err := parse(t, c.adapter, fixture(t, c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			got := goldenJSON(t, res.Events)
			path := filepath.Join("testdata", "golden", c.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (go test -update rewrites it; review the diff):\n%s", path, got)
			}
		})
	}
}

func goldenJSON(tb testing.TB, events []event.Event) []byte {
	tb.Helper()
	trimmed := make([]event.Event, len(events))
	for i, ev := range events {
		ev.Raw = nil
		trimmed[i] = ev
	}
	b, err := json.MarshalIndent(trimmed, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}
