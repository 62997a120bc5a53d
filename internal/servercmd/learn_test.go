package servercmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplayLearn: replay --learn on a history where two alert names
// always fire together proposes that pair, writes a draft that loads, and
// shows the OpsItems it would save; the text report names root causes and
// joins.
func TestReplayLearn(t *testing.T) {
	t.Parallel()
	run, _ := appServer(t)
	dir := t.TempDir()
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	var lines []string
	alert := func(name, cluster, instance string, at time.Time, extra ...string) {
		labels := map[string]string{"alertname": name, "cluster": cluster, "instance": instance, "job": "x", "severity": "critical"}
		for i := 0; i+1 < len(extra); i += 2 {
			labels[extra[i]] = extra[i+1]
		}
		a := map[string]any{"status": "firing", "labels": labels, "startsAt": at, "endsAt": time.Time{}}
		b, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "r", "groupLabels": map[string]string{},
			"commonLabels": labels, "commonAnnotations": map[string]string{}, "externalURL": "http://am", "alerts": []any{a}})
		l, _ := json.Marshal(map[string]any{"source": "alertmanager", "received_at": at, "body": json.RawMessage(b)})
		lines = append(lines, string(l))
	}
	for i := range 6 {
		at := start.Add(time.Duration(i) * 29 * time.Hour)
		alert("KafkaConsumerLag", "eu-1", fmt.Sprintf("kafka-%d", i), at)
		alert("OrderQueueDepthHigh", "eu-1", fmt.Sprintf("queue-%d", i), at.Add(40*time.Second))
		alert("DiskFull", "eu-1", fmt.Sprintf("host-%d", i), at.Add(time.Duration(3+i)*time.Hour))
	}
	// A service's outage: two alert names joined by the services rule.
	alert("PostgresDown", "eu-1", "db-1:9187", start.Add(200*time.Hour), "service", "orders")
	alert("HTTPErrorRateHigh", "eu-1", "web-1:8080", start.Add(200*time.Hour+time.Minute), "service", "orders")
	input := filepath.Join(dir, "history.ndjson")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	drafts := filepath.Join(dir, "drafts")
	out, errOut, code := run("replay", "--input", input, "--learn", drafts)
	name := "learned-kafkaconsumerlag-orderqueuedepthhigh"
	if code != 0 || !strings.Contains(out, "candidate "+name+": KafkaConsumerLag and OrderQueueDepthHigh fired together 6 times") ||
		!strings.Contains(out, "OpsItems before 19, after 13") {
		t.Errorf("replay --learn: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "probable root cause: PostgresDown on db-1:9187 (critical)") ||
		!strings.Contains(out, "joined HTTPErrorRateHigh: same orders / eu-1, 1m0s after PostgresDown in eu-1 (rule services)") {
		t.Errorf("replay: no root cause or join reason\n%s", out)
	}
	draft := filepath.Join(drafts, name)
	if _, err := os.Stat(filepath.Join(draft, name+".yaml")); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run("content", "validate", draft); code != 0 {
		t.Errorf("the draft does not validate: exit %d\n%s%s", code, out, errOut)
	}
}
