package replay_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/replay"
)

// The topology storm is generated, from a seed, in a shape the first
// storm does not have: applications (testdata/topology-content) whose
// dependencies cross clusters, a shared dependency failing, and unrelated
// incidents overlapping in time, some in the same cluster.
//
//   - accounts: the accounts database (cluster db-1) fails. auth and
//     profile (cluster k8s-east) depend on it, checkout (k8s-west) on
//     auth. A checkout alert fires 20 s BEFORE the database's, then auth
//     errors, an auth probe, profile latency and checkout latency follow.
//   - search: a search index host fills its disk (a node alert, only its
//     id ties it to the application); search latency in k8s-west follows.
//   - billing: a service with no Application, in k8s-west, overlapping
//     both: its queue backlog and worker errors.
//   - reporting: reports go stale a minute before the warehouse load that
//     explains them fails.
//   - noise: CPU throttling blips that clear within 40 s.
//
// No rule is written for it: only the Applications.
var topologyStart = time.Date(2026, 4, 14, 9, 0, 0, 0, time.UTC)

// topologyIncidents returns the storm's alerts and each one's true
// incident by fingerprint ("" for noise).
func topologyIncidents(seed uint64) ([]incident, map[string]string) {
	r := rand.New(rand.NewPCG(seed, 19))
	at := func(sec int) time.Time { return topologyStart.Add(time.Duration(sec) * time.Second) }
	jitter := func(lo, hi int) int { return lo + r.IntN(hi-lo+1) }
	var out []incident
	truth := map[string]string{}
	add := func(inc string, l map[string]string, start, end time.Time) {
		out = append(out, incident{labels: l, start: start, end: end, resendEv: 5 * time.Minute})
		truth[fp(l)] = inc
	}
	// accounts, from 09:10.
	t0 := 600 + jitter(0, 120)
	add("accounts", lbl("alertname", "CheckoutErrorBudgetBurn", "cluster", "k8s-west", "service", "checkout", "job", "checkout", "severity", "critical"),
		at(t0-20), at(t0+1500))
	add("accounts", lbl("alertname", "PostgresDown", "cluster", "db-1", "instance", "db-accounts-01:9187", "job", "postgres", "service", "accounts-db", "severity", "critical"),
		at(t0), at(t0+1500))
	for i := 1; i <= jitter(3, 8); i++ {
		add("accounts", lbl("alertname", "AuthLoginErrors", "cluster", "k8s-east", "namespace", "identity", "pod", fmt.Sprintf("auth-%d", i), "app.kubernetes.io/name", "auth", "job", "auth", "severity", "warning"),
			at(t0+jitter(30, 90)), at(t0+1510))
	}
	add("accounts", lbl("alertname", "ProbeFailed", "instance", "https://auth.example.net/health", "app.kubernetes.io/name", "auth", "job", "blackbox", "severity", "critical"),
		at(t0+jitter(40, 60)), at(t0+1505))
	for i := 1; i <= jitter(2, 5); i++ {
		add("accounts", lbl("alertname", "ProfileLatencyHigh", "cluster", "k8s-east", "namespace", "identity", "instance", fmt.Sprintf("profile-%d:8080", i), "job", "profile-api", "severity", "warning"),
			at(t0+jitter(60, 150)), at(t0+1520))
	}
	for i := 1; i <= jitter(2, 4); i++ {
		add("accounts", lbl("alertname", "CheckoutLatencyHigh", "cluster", "k8s-west", "instance", fmt.Sprintf("checkout-%d:8080", i), "service", "checkout", "job", "checkout", "severity", "warning"),
			at(t0+jitter(60, 120)), at(t0+1530))
	}
	// search, overlapping: from a minute later, in k8s-west too.
	s0 := t0 + 60
	add("search", lbl("alertname", "NodeFilesystemAlmostFull", "cluster", "k8s-west", "instance", fmt.Sprintf("idx-%02d:9100", jitter(1, 3)), "job", "node", "mountpoint", "/var/lib/index", "severity", "warning"),
		at(s0), at(s0+1800))
	for i := 1; i <= jitter(2, 4); i++ {
		add("search", lbl("alertname", "SearchLatencyHigh", "cluster", "k8s-west", "instance", fmt.Sprintf("search-%d:8080", i), "service", "search", "job", "search", "severity", "warning"),
			at(s0+jitter(45, 100)), at(s0+1700))
	}
	// billing: no Application, the service label only; overlapping both.
	b0 := t0 + 150
	add("billing", lbl("alertname", "BillingQueueBacklog", "cluster", "k8s-west", "service", "billing", "job", "billing", "severity", "warning"),
		at(b0), at(b0+1200))
	add("billing", lbl("alertname", "BillingWorkerErrors", "cluster", "k8s-west", "instance", "billing-worker-1:8080", "service", "billing", "job", "billing", "severity", "critical"),
		at(b0+jitter(20, 60)), at(b0+1200))
	// reporting, later: the symptom first.
	w0 := 2400 + jitter(0, 300)
	add("reporting", lbl("alertname", "ReportsStale", "cluster", "analytics", "service", "reporting", "job", "reporting", "severity", "warning"),
		at(w0), at(w0+1200))
	add("reporting", lbl("alertname", "WarehouseLoadFailed", "cluster", "analytics", "instance", "loader-1:9102", "service", "warehouse", "job", "warehouse", "severity", "critical"),
		at(w0+jitter(40, 80)), at(w0+1100))
	// noise: transient throttling blips, 4 minutes apart.
	for i := 1; i <= 10; i++ {
		add("", lbl("alertname", "CPUThrottlingHigh", "cluster", "k8s-east", "instance", fmt.Sprintf("worker-%02d:9100", i), "job", "kubelet", "severity", "warning"),
			at(240*i), at(240*i+40))
	}
	return out, truth
}

var topologySeeds = []uint64{1, 2, 3, 4, 5}

// TestTopologyStorm replays the generated storm, for several seeds, with
// the built-in content and the storm's Applications only: pair-F1 ≥ 0.95,
// the four incidents apart, each OpsItem's root cause the upstream.
// testdata/topology-storm.ndjson is the first seed's stream, for
// `flywheel replay --content testdata/topology-content`.
func TestTopologyStorm(t *testing.T) {
	t.Parallel()
	for _, seed := range topologySeeds {
		incs, truth := topologyIncidents(seed)
		lines, err := renderLines(incs, topologyStart.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		data := append(bytes.Join(lines, []byte("\n")), '\n')
		if seed == topologySeeds[0] {
			// For the docs: the same stream without the Applications.
			base := replayWith(t, data, nil)
			bf, bp, br, _ := pairScore(truth, base)
			t.Logf("seed %d without Applications: %d OpsItems, pair-F1 %.3f (precision %.3f, recall %.3f)", seed, len(base.OpsItems), bf, bp, br)
			path := filepath.Join("testdata", "topology-storm.ndjson")
			if *update {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if onDisk, err := os.ReadFile(path); err != nil || !bytes.Equal(onDisk, data) {
				t.Fatalf("testdata/topology-storm.ndjson is stale (go test ./internal/replay -run TestTopologyStorm -update): %v", err)
			}
		}
		rep := replayWith(t, data, map[string]string{"applications.yaml": filepath.Join("testdata", "topology-content", "applications.yaml")})
		out, _ := json.MarshalIndent(rep, "", "  ")
		f1, p, r, stray := pairScore(truth, rep)
		t.Logf("seed %d: %d alerts, %d notifications, %d OpsItems, pair-F1 %.3f (precision %.3f, recall %.3f)",
			seed, len(truth), rep.Received, len(rep.OpsItems), f1, p, r)
		if f1 < 0.95 || len(stray) > 0 {
			t.Errorf("seed %d: pair-F1 %.3f (want ≥ 0.95), stray %v:\n%s", seed, f1, stray, out)
		}
		if p != 1 {
			t.Errorf("seed %d: precision %.3f: unrelated incidents were joined:\n%s", seed, p, out)
		}
		roots := map[string]string{}
		for _, o := range rep.OpsItems {
			if o.RootCause != nil {
				roots[truth[o.RootCause.Fingerprint]] = strings.Fields(o.RootCause.Title)[0]
			}
		}
		for inc, want := range map[string]string{"accounts": "PostgresDown", "search": "NodeFilesystemAlmostFull",
			"billing": "BillingWorkerErrors", "reporting": "WarehouseLoadFailed"} {
			if roots[inc] != want {
				t.Errorf("seed %d: %s root cause %q, want %s", seed, inc, roots[inc], want)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestTopologyJoinReasons: every join in the accounts outage says which
// dependency links it to the database.
func TestTopologyJoinReasons(t *testing.T) {
	t.Parallel()
	incs, truth := topologyIncidents(topologySeeds[0])
	lines, err := renderLines(incs, topologyStart.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rep := replayWith(t, append(bytes.Join(lines, []byte("\n")), '\n'),
		map[string]string{"applications.yaml": filepath.Join("testdata", "topology-content", "applications.yaml")})
	var acc *replay.OpsItem
	for i, o := range rep.OpsItems {
		if len(o.Fingerprints) > 0 && truth[o.Fingerprints[0]] == "accounts" {
			acc = &rep.OpsItems[i]
		}
	}
	if acc == nil {
		t.Fatal("no accounts OpsItem")
	}
	if acc.Title != "PostgresDown in db-1" {
		t.Errorf("accounts OpsItem title %q, want its root cause's (PostgresDown in db-1), though a checkout alert opened it", acc.Title)
	}
	want := map[string]string{
		// The checkout alert fired first; the database joined its
		// OpsItem, became its root cause and gave it its key.
		"PostgresDown":        "application checkout depends on accounts-db (through 2 dependencies)",
		"AuthLoginErrors":     "application auth depends on accounts-db",
		"ProbeFailed":         "application auth depends on accounts-db",
		"ProfileLatencyHigh":  "application profile depends on accounts-db",
		"CheckoutLatencyHigh": "application checkout depends on accounts-db (through 2 dependencies)",
	}
	seen := map[string]bool{}
	for _, j := range acc.Joins {
		t.Logf("%s %s: %s", j.At.Format(time.TimeOnly), j.Title, j.Reason)
		w, ok := want[j.Title]
		if !ok {
			t.Errorf("unexpected join %s: %s", j.Title, j.Reason)
			continue
		}
		seen[j.Title] = true
		if !strings.Contains(j.Reason, w+", ") {
			t.Errorf("join of %s: reason %q, want it to say %q", j.Title, j.Reason, w)
		}
	}
	for title := range want {
		if !seen[title] {
			t.Errorf("no join recorded for %s: %+v", title, acc.Joins)
		}
	}
}
