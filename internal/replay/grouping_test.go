package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/replay"
)

// pairScore compares a replay's OpsItems with the true incidents (each
// alert fingerprint's incident; "" for alerts that should open nothing)
// over pairs of alerts: precision is the share of pairs put together
// that belong together, recall the share of pairs that belong together
// that were put together. stray lists fingerprints in an OpsItem that
// should be in none.
func pairScore(truth map[string]string, rep replay.Report) (f1, precision, recall float64, stray []string) {
	put := map[[2]string]bool{}
	for _, o := range rep.OpsItems {
		for i, a := range o.Fingerprints {
			if truth[a] == "" {
				stray = append(stray, a)
			}
			for _, b := range o.Fingerprints[i+1:] {
				put[[2]string{a, b}] = true
			}
		}
	}
	var fps []string
	for f, inc := range truth {
		if inc != "" {
			fps = append(fps, f)
		}
	}
	sortStrings(fps)
	belong := map[[2]string]bool{}
	for i, a := range fps {
		for _, b := range fps[i+1:] {
			if truth[a] == truth[b] {
				belong[[2]string{a, b}] = true
			}
		}
	}
	both := 0
	for p := range put {
		if belong[p] {
			both++
		}
	}
	precision, recall = 1, 1
	if len(put) > 0 {
		precision = float64(both) / float64(len(put))
	}
	if len(belong) > 0 {
		recall = float64(both) / float64(len(belong))
	}
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return f1, precision, recall, stray
}

// replayWith replays data with the built-in content plus the files given
// (name -> path of a file to copy), and nothing else.
func replayWith(t *testing.T, data []byte, files map[string]string) replay.Report {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts, err := app.ReplayOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Input = bytes.NewReader(data)
	rep, err := replay.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestStormBuiltinCorrelation replays the storm with the built-in content
// and the planned maintenance window only — without the hand-written
// inhibit rule: the database outage's 16 symptoms, other alert names on
// other hosts, are members of its OpsItem, and it names the database as
// the root cause.
func TestStormBuiltinCorrelation(t *testing.T) {
	t.Parallel()
	lines, err := stormLines()
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Join(lines, []byte("\n")), '\n')
	rep := replayWith(t, data, map[string]string{"maintenance.yaml": filepath.Join("testdata", "storm-content", "maintenance.yaml")})
	out, _ := json.MarshalIndent(rep, "", "  ")

	truth := map[string]string{}
	for _, in := range stormIncidents() {
		l := in.labels
		switch {
		case l["service"] == "orders":
			truth[fp(l)] = "orders outage"
		case l["alertname"] == "NodeNetworkInterfaceFlapping":
			truth[fp(l)] = "flapping link"
		case l["alertname"] == "KubePodCrashLooping":
			truth[fp(l)] = "crash loop " + l["cluster"]
		default:
			truth[fp(l)] = "" // planned reboots and transient blips
		}
	}
	f1, p, r, stray := pairScore(truth, rep)
	t.Logf("built-in content only: %d OpsItems, pair-F1 %.3f (precision %.3f, recall %.3f)", len(rep.OpsItems), f1, p, r)
	if f1 != 1 || len(stray) > 0 || len(rep.OpsItems) != 4 {
		t.Errorf("pair-F1 %.3f, stray %v, %d OpsItems; want the 4 ideal OpsItems:\n%s", f1, stray, len(rep.OpsItems), out)
	}
	if got := rep.Suppressed["inhibited"]; got != 0 {
		t.Errorf("inhibited = %d; without the inhibit rule nothing should be", got)
	}
	var db *replay.OpsItem
	for i := range rep.OpsItems {
		if strings.HasPrefix(rep.OpsItems[i].Title, "PostgresDown in eu-1") {
			db = &rep.OpsItems[i]
		}
	}
	if db == nil {
		t.Fatalf("no OpsItem for the database outage:\n%s", out)
	}
	if len(db.Fingerprints) != 17 {
		t.Errorf("database OpsItem has %d members, want 17 (the database and its 16 symptoms)", len(db.Fingerprints))
	}
	if db.RootCause == nil || db.RootCause.Title != "PostgresDown on db-orders-01:9187" {
		t.Errorf("root cause %+v, want PostgresDown on db-orders-01:9187", db.RootCause)
	}
	if len(db.Joins) != 16 {
		t.Errorf("%d joins recorded, want 16", len(db.Joins))
	}
	for _, j := range db.Joins {
		if !strings.HasPrefix(j.Reason, "same orders / eu-1, ") || !strings.Contains(j.Reason, " after PostgresDown in eu-1") {
			t.Errorf("join of %s: reason %q, want it to say same orders / eu-1, … after PostgresDown in eu-1", j.Title, j.Reason)
		}
	}
	if rep.NoiseReduction < 0.95 {
		t.Errorf("noise reduction %.3f, want ≥ 0.95", rep.NoiseReduction)
	}
}
