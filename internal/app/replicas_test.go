package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
)

// startReplicas starts n servers on one PostgreSQL database, each with a
// data directory of its own, as `flywheel serve --db URL` on n machines.
// It returns a client per replica, all with the first replica's admin
// token.
func startReplicas(t *testing.T, n int) []*client.Client {
	t.Helper()
	return startReplicasWith(t, n, config.Config{})
}

// startReplicasWith is startReplicas with base's settings (its data
// directory, database and address are the harness's).
func startReplicasWith(t *testing.T, n int, base config.Config) []*client.Client {
	t.Helper()
	db := appDB(t, "postgres")
	var clients []*client.Client
	var token string
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		logs := &syncBuffer{}
		cfg := base
		cfg.DataDir, cfg.DB, cfg.Addr = dir, db, "127.0.0.1:0"
		a, err := New(context.Background(), Options{Config: cfg, Out: &bytes.Buffer{},
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a.Stop(context.Background())
			if t.Failed() {
				t.Logf("replica %d's warnings and errors:\n%s", i, logs.String())
			}
		})
		if i == 0 {
			b, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
			if err != nil {
				t.Fatal(err)
			}
			token = strings.TrimSpace(string(b))
		}
		c := client.New("http://"+a.Addr(), token)
		// One request first, so the replica knows the token: the tests
		// then send in bursts, and a burst of requests whose token a
		// server has not yet checked is throttled per address (429).
		if err := c.Do(context.Background(), "GET", "/api/v1/tenants", nil, nil); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	return clients
}

// amAlert is an Alertmanager v4 webhook body with one firing alert.
func amAlert(alertname, cluster, instance string) map[string]any {
	labels := map[string]string{"alertname": alertname, "cluster": cluster, "instance": instance, "severity": "critical"}
	return map[string]any{"version": "4", "receiver": "flywheel", "status": "firing",
		"groupKey": `{}:{alertname="` + alertname + `"}`, "groupLabels": map[string]string{"alertname": alertname},
		"commonLabels": labels, "commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093",
		"alerts": []any{map[string]any{"status": "firing", "labels": labels, "annotations": map[string]string{},
			"startsAt": "2026-03-10T14:02:17Z", "endsAt": "0001-01-01T00:00:00Z"}}}
}

// TestReplicasCorrelateAsOne: 40 alerts of one group (one alertname in
// one cluster, 40 instances), sent alternately to two replicas on one
// PostgreSQL database, open one OpsItem, as one replica alone does.
func TestReplicasCorrelateAsOne(t *testing.T) {
	cs := startReplicas(t, 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := amAlert("KubePodCrashLooping", "prod-eu", fmt.Sprintf("node-%02d:9100", i))
			errs <- cs[i%2].Do(ctx, "POST", "/api/v1/intake/alertmanager", body, nil)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("intake: %v", err)
		}
	}
	waitEvents(t, cs[0], "alertmanager", 40)
	var page struct{ Items []struct{ ID, Title string } }
	if err := cs[1].Do(ctx, "GET", "/api/v1/opsitems?limit=500&category=monitoring", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d OpsItems for one group sent to two replicas, want 1: %+v", len(page.Items), page.Items)
	}
}

// TestReplicasSameBodyConcurrently: the same delivery posted at once to
// both replicas is answered 2xx by both and stored as one alert.
func TestReplicasSameBodyConcurrently(t *testing.T) {
	cs := startReplicas(t, 2)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		postToAll(t, cs, "/api/v1/intake/alertmanager", amAlert("DiskFull", "prod-eu", fmt.Sprintf("db-%02d:9100", round)))
	}
	waitEvents(t, cs[0], "alertmanager", 20)
	var page struct{ Items []struct{ ID, Title string } }
	if err := cs[0].Do(ctx, "GET", "/api/v1/opsitems?limit=500&category=monitoring", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d OpsItems, want 1: %+v", len(page.Items), page.Items)
	}
}

// waitEvents waits until the server lists at least n processed events
// from source.
func waitEvents(t *testing.T, c *client.Client, source string, n int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d events from %s processed", n, source), func() bool {
		var page struct{ Items []map[string]any }
		if err := c.Do(context.Background(), "GET", "/api/v1/events?limit=500&source="+source, nil, &page); err != nil {
			t.Fatal(err)
		}
		return len(page.Items) >= n
	})
}

// TestReplicasFindingStartsOneExecution: a GuardDuty finding delivered to
// both replicas at once (EventBridge retries to another target, two
// rules, two regions) opens one OpsItem and starts its rule's runbook
// once.
func TestReplicasFindingStartsOneExecution(t *testing.T) {
	cs := startReplicas(t, 2)
	ctx := context.Background()
	var finding map[string]any
	if err := json.Unmarshal(fixture(t, "eventbridge/guardduty-ssh-bruteforce.json"), &finding); err != nil {
		t.Fatal(err)
	}
	postToAll(t, cs, "/api/v1/intake/eventbridge", finding)
	var execs struct {
		Items []struct{ ID, Runbook, Status string }
	}
	waitFor(t, 30*time.Second, "an execution", func() bool {
		if err := cs[1].Do(ctx, "GET", "/api/v1/executions?limit=500", nil, &execs); err != nil {
			t.Fatal(err)
		}
		return len(execs.Items) > 0
	})
	// Once both deliveries are processed every execution they could
	// start is stored: a rule's run is enqueued in the transaction that
	// processes its event. The second is a repeat of the first (one
	// event, the same finding), counted as received.
	waitFor(t, 30*time.Second, "both deliveries processed", func() bool {
		var noise struct{ Received int64 }
		if err := cs[0].Do(ctx, "GET", "/api/v1/stats/noise", nil, &noise); err != nil {
			t.Fatal(err)
		}
		return noise.Received >= 2
	})
	if err := cs[0].Do(ctx, "GET", "/api/v1/executions?limit=500", nil, &execs); err != nil {
		t.Fatal(err)
	}
	var page struct{ Items []struct{ ID, Title string } }
	if err := cs[0].Do(ctx, "GET", "/api/v1/opsitems?limit=500&category=security", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(execs.Items) != 1 || len(page.Items) != 1 {
		t.Fatalf("%d executions and %d OpsItems for one finding sent to two replicas, want 1 and 1: %+v %+v",
			len(execs.Items), len(page.Items), execs.Items, page.Items)
	}
}

// postToAll posts body to path on every replica at once and fails the
// test unless every one answers 2xx.
func postToAll(t *testing.T, cs []*client.Client, path string, body any) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i := range cs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = cs[i].Do(context.Background(), "POST", path, body, nil)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("POST %s to replica %d: %v", path, i, err)
		}
	}
}

// TestReplicasRepeatConcurrently: two deliveries of one alert that differ
// as deliveries (another receiver, as from two Alertmanagers of an HA
// pair) reach the two replicas at once: the alert is stored as one event,
// the other delivery counted as its repeat.
func TestReplicasRepeatConcurrently(t *testing.T) {
	cs := startReplicas(t, 2)
	ctx := context.Background()
	const rounds = 30
	for round := 0; round < rounds; round++ {
		a := amAlert("NodeDown", "prod-eu", fmt.Sprintf("web-%02d:9100", round))
		b := amAlert("NodeDown", "prod-eu", fmt.Sprintf("web-%02d:9100", round))
		b["receiver"] = "flywheel-ha-peer"
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, body := range []map[string]any{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = cs[i].Do(ctx, "POST", "/api/v1/intake/alertmanager", body, nil)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, replica %d: %v", round, i, err)
			}
		}
	}
	waitFor(t, 30*time.Second, "every delivery processed", func() bool {
		var noise struct{ Received int64 }
		if err := cs[0].Do(ctx, "GET", "/api/v1/stats/noise", nil, &noise); err != nil {
			t.Fatal(err)
		}
		return noise.Received >= 2*rounds
	})
	var page struct {
		Items []struct{ Labels map[string]string }
	}
	if err := cs[1].Do(ctx, "GET", "/api/v1/events?limit=500&source=alertmanager", nil, &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range page.Items {
		seen[e.Labels["instance"]]++
	}
	for inst, n := range seen {
		if n != 1 {
			t.Errorf("alert on %s stored %d times, want once", inst, n)
		}
	}
	if len(seen) != rounds {
		t.Errorf("%d alerts stored, want %d", len(seen), rounds)
	}
}
