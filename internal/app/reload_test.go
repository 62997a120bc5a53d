package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// brokenRunbook names an action no server has: content that must not load.
const brokenRunbook = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: broken}
spec:
  steps:
    - name: x
      action: no-such-action
`

// health is what /healthz says of the content a replica runs.
type health struct {
	Status     string `json:"status"`
	Generation int64  `json:"content_generation,string"`
	Digest     string `json:"content_digest"`
}

func healthOf(t *testing.T, c *client.Client) health {
	t.Helper()
	var h health
	if err := c.Do(context.Background(), "GET", "/healthz", nil, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// runTriage runs the triage runbook on a new OpsItem through c and waits
// for the execution to succeed.
func runTriage(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	var item store.OpsItem
	if err := c.Do(ctx, "POST", "/api/v1/opsitems", map[string]any{"title": "disk full on web-1", "severity": "high"}, &item); err != nil {
		t.Fatalf("create OpsItem: %v", err)
	}
	var ex store.Execution
	if err := c.Do(ctx, "POST", "/api/v1/opsitems/"+item.ID+"/runbooks/triage", nil, &ex); err != nil {
		t.Fatalf("run triage: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ex.Status != "succeeded" {
		if time.Now().After(deadline) || ex.Status == "failed" {
			t.Fatalf("execution %s: %s %q", ex.ID, ex.Status, ex.Error)
		}
		time.Sleep(50 * time.Millisecond)
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+ex.ID, nil, &ex); err != nil {
			t.Fatal(err)
		}
	}
}

func adminClient(t *testing.T, a *App) *client.Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.Config().DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return client.New("http://"+a.Addr(), strings.TrimSpace(string(b)))
}

func writeContent(t *testing.T, dir, name, yaml string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

func notFound(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == 404
}

// TestContentReload: a runbook added to the content directory of a
// running server is unknown until the reload, then runs; the reload
// answers the new generation and digest, /healthz reports them, and
// content that does not load is refused with every problem named while
// the content in force keeps running. SIGHUP reloads as the API does.
func TestContentReload(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, config.Config{DataDir: t.TempDir(), ContentDir: dir}, &bytes.Buffer{})
	c := adminClient(t, a)
	ctx := context.Background()

	before := healthOf(t, c)
	if before.Generation != 0 || len(before.Digest) != 64 {
		t.Fatalf("health before any reload: %+v", before)
	}
	if err := c.Do(ctx, "GET", "/api/v1/runbooks/triage", nil, nil); !notFound(err) {
		t.Fatalf("triage before it is written: %v, want 404", err)
	}
	writeContent(t, dir, "triage.yaml", triage)
	if err := c.Do(ctx, "GET", "/api/v1/runbooks/triage", nil, nil); !notFound(err) {
		t.Fatalf("triage written but not reloaded: %v, want 404", err)
	}
	var st api.ContentStatus
	if err := c.Do(ctx, "POST", "/api/v1/content/reload", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.Generation != 1 || st.Digest == before.Digest || len(st.Digest) != 64 {
		t.Fatalf("reload answered %+v; before it %+v", st, before)
	}
	if h := healthOf(t, c); h.Generation != 1 || h.Digest != st.Digest {
		t.Errorf("health after the reload %+v, want generation 1 digest %s", h, st.Digest)
	}
	runTriage(t, c)

	// Invalid content: refused, named, and nothing changes.
	writeContent(t, dir, "broken.yaml", brokenRunbook)
	err := c.Do(ctx, "POST", "/api/v1/content/reload", nil, nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 422 || ce.Code != "invalid_content" || !strings.Contains(ce.Message, "broken.yaml") || !strings.Contains(ce.Message, "no-such-action") {
		t.Fatalf("reload of broken content: %v, want 422 invalid_content naming broken.yaml and the action", err)
	}
	if h := healthOf(t, c); h.Generation != 1 || h.Digest != st.Digest {
		t.Errorf("health after a refused reload %+v, want the old generation 1 digest %s", h, st.Digest)
	}
	if g, err := a.Store().GetContentGeneration(ctx); err != nil || g.Generation != 1 {
		t.Errorf("database generation after a refused reload: %+v, %v; want 1", g, err)
	}
	runTriage(t, c)

	// SIGHUP, once the directory is fixed: the reload happens and is
	// published as the API's is.
	if err := os.Remove(filepath.Join(dir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	writeContent(t, dir, "notes.yaml", strings.Replace(triage, "name: triage", "name: notes", 1))
	stop := a.reloadOnHangup(ctx)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for healthOf(t, c).Generation != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reload 10s after SIGHUP: %+v", healthOf(t, c))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Do(ctx, "GET", "/api/v1/runbooks/notes", nil, nil); err != nil {
		t.Errorf("runbook notes after SIGHUP: %v", err)
	}
}

// TestReplicasReloadContent: two replicas on one PostgreSQL database read
// one content directory; a reload on replica A reaches replica B within
// its poll interval, without a restart: B reports A's generation and
// digest, and runs the runbook the reload added.
func TestReplicasReloadContent(t *testing.T) {
	dir := t.TempDir()
	const poll = 200 * time.Millisecond
	cs := startReplicasWith(t, 2, config.Config{ContentDir: dir, ContentPoll: poll})
	ctx := context.Background()
	if a, b := healthOf(t, cs[0]), healthOf(t, cs[1]); a.Digest != b.Digest {
		t.Fatalf("replicas start with different content: %+v %+v", a, b)
	}
	writeContent(t, dir, "triage.yaml", triage)
	var st api.ContentStatus
	if err := cs[0].Do(ctx, "POST", "/api/v1/content/reload", nil, &st); err != nil {
		t.Fatal(err)
	}
	reloaded := time.Now()
	// A generous bound for a loaded CI machine; the figure is logged.
	deadline := reloaded.Add(20 * poll)
	for {
		h := healthOf(t, cs[1])
		if h.Generation == st.Generation && h.Digest == st.Digest {
			t.Logf("replica B converged %v after the reload on A (poll %v)", time.Since(reloaded).Round(time.Millisecond), poll)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B after %v: %+v, want generation %d digest %s", 20*poll, h, st.Generation, st.Digest)
		}
		time.Sleep(20 * time.Millisecond)
	}
	runTriage(t, cs[1])
}

// TestContentReloadSwapsComplianceAndSchedules: config rules and resource
// schedules written after start are in force after a reload, as the
// runbooks are.
func TestContentReloadSwapsComplianceAndSchedules(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, config.Config{DataDir: t.TempDir(), ContentDir: dir}, &bytes.Buffer{})
	c := adminClient(t, a)
	if _, ok := a.complianceLib.Load().Rule("reload-probe"); ok {
		t.Fatal("the probe rule is in force before it is written")
	}
	if got := len(a.Costs().Schedules("default")); got != 0 {
		t.Fatalf("%d resource schedules before any is written", got)
	}
	writeContent(t, dir, "probe-rule.yaml", `apiVersion: flywheel/v1
kind: ConfigRule
metadata: {name: reload-probe}
spec:
  resource_type: AWS::S3::Bucket
  check: has(resource.config.Name)
  controls: ["TEST:1"]
  severity: low
`)
	writeContent(t, dir, "working-day.yaml", `apiVersion: flywheel/v1
kind: ResourceSchedule
metadata: {name: working-day}
spec:
  timezone: Europe/London
  periods:
    - {begin: "08:00", end: "16:00", weekdays: [mon-fri]}
  targets:
    schedule_tag: Schedule
`)
	if err := c.Do(context.Background(), "POST", "/api/v1/content/reload", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.complianceLib.Load().Rule("reload-probe"); !ok {
		t.Error("the config rule written before the reload is not in force after it")
	}
	if s := a.Costs().Schedules("default"); len(s) != 1 || s[0].Name != "working-day" {
		t.Errorf("resource schedules after the reload: %v, want working-day", s)
	}
}
