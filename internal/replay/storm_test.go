package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/replay"
)

// The storm: a realistic hour-and-a-half of alerts, built so the right
// grouping is known. Times are what Alertmanager would notify.
//
//   - Cascading failure in cluster eu-1: the orders database goes down;
//     12 web hosts and 4 API hosts fire symptom alerts a minute later.
//   - A flapping link on edge-01 toggles every 2 minutes for half an hour.
//   - 20 transient CPU-throttling blips, each resolved within 40 seconds.
//   - 10 hosts reboot inside the nightly maintenance window.
//   - KubePodCrashLooping fires in two clusters at once (same alertname).
//   - Every firing alert is re-notified every 5 minutes while it lasts.
//
// An on-call engineer wants 4 OpsItems from it: the database outage (its
// symptoms inhibited), the flapping link (one, marked flapping), and one
// crash-loop per cluster; nothing for the blips or the planned reboots.

var stormStart = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

type amAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
}

type line struct {
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       json.RawMessage `json:"body"`
}

type incident struct {
	labels   map[string]string
	start    time.Time
	end      time.Time // zero: still firing at the end
	resendEv time.Duration
}

func fp(labels map[string]string) string {
	return fmt.Sprintf("%016x", fnv(labels))
}

func fnv(labels map[string]string) uint64 {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sortStrings(keys)
	h := uint64(14695981039346656037)
	for _, k := range keys {
		for _, b := range []byte(k + "\xff" + labels[k] + "\xff") {
			h ^= uint64(b)
			h *= 1099511628211
		}
	}
	return h
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// stormIncidents lists every alert occurrence of the storm.
func stormIncidents() []incident {
	at := func(min, sec int) time.Time {
		return stormStart.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	var out []incident
	add := func(l map[string]string, start, end time.Time) {
		out = append(out, incident{labels: l, start: start, end: end, resendEv: 5 * time.Minute})
	}
	// Maintenance reboots 02:05-02:20 (window 02:00-03:00, job=node, reboot=planned hosts).
	for i := 1; i <= 10; i++ {
		h := fmt.Sprintf("batch-%02d", i)
		add(lbl("alertname", "NodeDown", "cluster", "eu-1", "instance", h+":9100", "job", "node", "severity", "critical"),
			at(5+i, 0), at(7+i, 30))
	}
	// Cascade at 03:10: the database, then its dependants.
	add(lbl("alertname", "PostgresDown", "cluster", "eu-1", "instance", "db-orders-01:9187", "job", "postgres", "service", "orders", "severity", "critical"),
		at(70, 0), at(95, 0))
	for i := 1; i <= 12; i++ {
		add(lbl("alertname", "HTTPErrorRateHigh", "cluster", "eu-1", "instance", fmt.Sprintf("web-%02d:8080", i), "job", "web", "service", "orders", "severity", "warning"),
			at(71, i*3), at(96, i))
	}
	for i := 1; i <= 4; i++ {
		add(lbl("alertname", "APILatencyHigh", "cluster", "eu-1", "instance", fmt.Sprintf("api-%02d:8080", i), "job", "api", "service", "orders", "severity", "warning"),
			at(71, 30+i), at(96, 30))
	}
	// Flapping link 03:00-03:30: up/down every 2 minutes.
	link := lbl("alertname", "NodeNetworkInterfaceFlapping", "cluster", "eu-1", "instance", "edge-01:9100", "device", "eth1", "job", "node", "severity", "warning")
	for k := 0; k < 8; k++ {
		add(link, at(60+4*k, 0), at(62+4*k, 0))
	}
	// Transient blips across the hour.
	for i := 1; i <= 20; i++ {
		add(lbl("alertname", "CPUThrottlingHigh", "cluster", "us-1", "instance", fmt.Sprintf("worker-%02d:9100", i), "job", "kubelet", "severity", "warning"),
			at(30+i*2, 0), at(30+i*2, 40))
	}
	// Same alertname, two clusters.
	for _, c := range []string{"us-1", "eu-2"} {
		add(lbl("alertname", "KubePodCrashLooping", "cluster", c, "namespace", "payments", "pod", "payments-api-7d9f", "job", "kube-state-metrics", "severity", "warning"),
			at(80, 0), at(110, 0))
	}
	return out
}

// stormLines renders the incidents as Alertmanager webhook notifications:
// one at start, re-notifications every resend interval, one at resolution.
func stormLines() ([][]byte, error) {
	return renderLines(stormIncidents(), stormStart.Add(2*time.Hour))
}

// renderLines renders incidents as Alertmanager webhook notifications;
// alerts still firing are re-notified until horizon.
func renderLines(incidents []incident, horizon time.Time) ([][]byte, error) {
	type note struct {
		at time.Time
		a  amAlert
	}
	var notes []note
	for _, in := range incidents {
		a := amAlert{Status: "firing", Labels: in.labels, Annotations: map[string]string{"summary": in.labels["alertname"] + " on " + in.labels["instance"]},
			StartsAt: in.start, EndsAt: time.Time{}, Fingerprint: fp(in.labels)}
		notes = append(notes, note{in.start, a})
		for t := in.start.Add(in.resendEv); in.end.IsZero() || t.Before(in.end); t = t.Add(in.resendEv) {
			notes = append(notes, note{t, a})
			if in.end.IsZero() && t.After(horizon) {
				break
			}
		}
		if !in.end.IsZero() {
			r := a
			r.Status, r.EndsAt = "resolved", in.end
			notes = append(notes, note{in.end, r})
		}
	}
	// Stable order by time, then fingerprint.
	for i := 1; i < len(notes); i++ {
		for j := i; j > 0 && (notes[j].at.Before(notes[j-1].at) || (notes[j].at.Equal(notes[j-1].at) && notes[j].a.Fingerprint < notes[j-1].a.Fingerprint)); j-- {
			notes[j], notes[j-1] = notes[j-1], notes[j]
		}
	}
	var out [][]byte
	for _, n := range notes {
		body := map[string]any{
			"version": "4", "groupKey": "{}:{alertname=\"" + n.a.Labels["alertname"] + "\"}", "truncatedAlerts": 0,
			"status": n.a.Status, "receiver": "flywheel", "groupLabels": map[string]string{"alertname": n.a.Labels["alertname"]},
			"commonLabels": n.a.Labels, "commonAnnotations": n.a.Annotations, "externalURL": "http://alertmanager.example.net:9093",
			"alerts": []amAlert{n.a},
		}
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		l, err := json.Marshal(line{Source: "alertmanager", ReceivedAt: n.at, Body: b})
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

var update = flag.Bool("update", false, "rewrite testdata/storm.ndjson")

// TestStorm replays the storm with the built-in content plus
// testdata/storm-content and checks the pipeline groups it the way an
// on-call engineer would.
func TestStorm(t *testing.T) {
	lines, err := stormLines()
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Join(lines, []byte("\n")), '\n')
	path := filepath.Join("testdata", "storm.ndjson")
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	onDisk, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("testdata/storm.ndjson is stale (go test ./internal/replay -run TestStorm -update): %v", err)
	}
	opts, err := app.ReplayOptions(filepath.Join("testdata", "storm-content"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Input = bytes.NewReader(data)
	rep, err := replay.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("report:\n%s", out)

	titles := map[string]replay.OpsItem{}
	for _, o := range rep.OpsItems {
		title, _, _ := strings.Cut(o.Title, " (") // "… in us-1 (payments)": the namespace
		titles[title] = o
	}
	want := []string{"PostgresDown in eu-1", "NodeNetworkInterfaceFlapping in eu-1", "KubePodCrashLooping in us-1", "KubePodCrashLooping in eu-2"}
	if len(rep.OpsItems) != len(want) {
		t.Errorf("%d OpsItems, want %d: %s", len(rep.OpsItems), len(want), out)
	}
	for _, w := range want {
		if _, ok := titles[w]; !ok {
			t.Errorf("no OpsItem %q", w)
		}
	}
	if o := titles["NodeNetworkInterfaceFlapping in eu-1"]; !o.Flapping && rep.Suppressed["flapping"] == 0 {
		t.Errorf("the flapping link was not treated as flapping: %+v", o)
	}
	if got := rep.Suppressed["maintenance"]; got != 10 {
		t.Errorf("maintenance suppressions = %d, want 10 (the planned reboots)", got)
	}
	if got := rep.Suppressed["transient"]; got != 20 {
		t.Errorf("transient = %d, want 20 (the CPU blips)", got)
	}
	if got := rep.Suppressed["inhibited"]; got != 16 {
		t.Errorf("inhibited = %d, want 16 (12 web + 4 API symptoms of the database outage)", got)
	}
	var received int64
	for _, l := range lines {
		var ln line
		json.Unmarshal(l, &ln)
		received++
	}
	if rep.Received != received {
		t.Errorf("received %d, want %d (one alert per notification)", rep.Received, received)
	}
	if rep.NoiseReduction < 0.95 {
		t.Errorf("noise reduction %.3f, want ≥ 0.95", rep.NoiseReduction)
	}
}
