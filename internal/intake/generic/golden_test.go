package generic

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestGolden parses each input and compares the events with
// testdata/golden/<name>.json (Raw left out: it is the input itself).
func TestGolden(t *testing.T) {
	a := newAdapter(t, grafanaMapping)
	cases := []struct {
		name string
		body []byte
	}{
		{"webhook.json", fixture(t, "generic/webhook.json")},
		{"grafana-webhook.json", readFile(t, "testdata/grafana-webhook.json")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := parse(a, c.body)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range res.Events {
				if !bytes.Equal(bytes.TrimSpace(ev.Raw), bytes.TrimSpace(c.body)) {
					t.Errorf("Raw is not the body:\n%s", ev.Raw)
				}
			}
			got := goldenJSON(t, res.Events)
			path := filepath.Join("testdata", "golden", c.name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, path); !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (go test -update rewrites it; review the diff):\n%s", path, got)
			}
		})
	}
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create golden files)", err)
	}
	return b
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

func eventJSON(ev event.Event) string {
	b, _ := json.Marshal(ev)
	return string(b)
}
