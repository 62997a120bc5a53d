package replay_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/correlate/learn"
	"github.com/flywheel-ops/flywheel/internal/replay"
)

// TestLearnFromHistory: two weeks in which KafkaConsumerLag and
// OrderQueueDepthHigh (no service label, so the built-in content keeps
// them apart) always fire within a minute of each other, among alerts
// that fire independently. Learning proposes exactly that pair; accepting
// the drafted rule merges each co-occurrence's two OpsItems into one, as
// the candidate predicts, and changes nothing else.
func TestLearnFromHistory(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 19))
	var incs []incident
	add := func(l map[string]string, at time.Time, d time.Duration) {
		incs = append(incs, incident{labels: l, start: at, end: at.Add(d), resendEv: 5 * time.Minute})
	}
	const together = 10
	for i := range together {
		at := start.Add(time.Duration(i)*33*time.Hour + time.Duration(r.IntN(3600))*time.Second)
		add(lbl("alertname", "KafkaConsumerLag", "cluster", "eu-1", "job", "kafka", "topic", "orders", "severity", "critical", "n", fmt.Sprint(i)), at, 20*time.Minute)
		add(lbl("alertname", "OrderQueueDepthHigh", "cluster", "eu-1", "job", "queue-exporter", "severity", "critical", "n", fmt.Sprint(i)),
			at.Add(time.Duration(10+r.IntN(50))*time.Second), 20*time.Minute)
	}
	for i := range 12 { // independent of each other and of the pair
		add(lbl("alertname", "NodeFilesystemAlmostFull", "cluster", "eu-1", "instance", fmt.Sprintf("host-%d:9100", i), "job", "node", "severity", "critical"),
			start.Add(time.Duration(r.IntN(14*24))*time.Hour+time.Duration(r.IntN(3600))*time.Second), 30*time.Minute)
		add(lbl("alertname", "CertificateExpiringSoon", "cluster", "eu-1", "instance", fmt.Sprintf("lb-%d:443", i), "job", "blackbox", "severity", "critical"),
			start.Add(time.Duration(r.IntN(14*24))*time.Hour+time.Duration(r.IntN(3600))*time.Second), 10*time.Minute)
	}
	lines, err := renderLines(incs, start.Add(15*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Join(lines, []byte("\n")), '\n')
	opts, err := app.ReplayOptions("")
	if err != nil {
		t.Fatal(err)
	}
	opts.Input = bytes.NewReader(data)
	history, err := replay.Events(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cs := learn.Candidates(history, nil, learn.Options{}, nil)
	if len(cs) != 1 || cs[0].A != "KafkaConsumerLag" || cs[0].B != "OrderQueueDepthHigh" {
		t.Fatalf("candidates %+v; want KafkaConsumerLag/OrderQueueDepthHigh only", cs)
	}
	c := cs[0]
	t.Logf("candidate %s: %s", c.RuleName, c.Why())
	if c.CoOccurred != together {
		t.Errorf("co-occurred %d, want %d", c.CoOccurred, together)
	}

	before := replayWith(t, data, nil)
	rule := filepath.Join(t.TempDir(), c.RuleName+".yaml")
	if err := os.WriteFile(rule, []byte(c.Rule), 0o644); err != nil {
		t.Fatal(err)
	}
	after := replayWith(t, data, map[string]string{c.RuleName + ".yaml": rule})
	t.Logf("OpsItems before %d, after %d", len(before.OpsItems), len(after.OpsItems))
	if want := len(before.OpsItems) - c.CoOccurred; len(after.OpsItems) != want {
		t.Errorf("after accepting: %d OpsItems, want %d (each co-occurrence's two OpsItems as one)", len(after.OpsItems), want)
	}
	for _, o := range after.OpsItems {
		if o.Rule == c.RuleName && len(o.Fingerprints) != 2 {
			t.Errorf("learned OpsItem %q has %d members, want the pair", o.Title, len(o.Fingerprints))
		}
	}
}
