package uidata_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/uidata"
)

// TestBuild fills a whole server of its own and checks, through the API,
// that the dataset has what the UI's detail pages show: an enrolled agent
// that reports with an inventory, its host's patch scan done by a
// maintenance window's run, and an automation candidate of two hand fixes
// with the runbook people ran.
func TestBuild(t *testing.T) {
	content, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "ui-dataset.yaml"), []byte(uidata.Content), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: config.Config{DataDir: dir, ContentDir: content, Addr: "127.0.0.1:0",
		MaintenanceTick: 250 * time.Millisecond}, Out: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(dir, app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := client.New("http://"+a.Addr(), strings.TrimSpace(string(tok)))
	d, err := uidata.Build(ctx, c, uidata.Options{Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	var ag apiv1.AgentView
	if err := c.Do(ctx, "GET", "/api/v1/agents/"+d.Agent, nil, &ag); err != nil {
		t.Fatal(err)
	}
	if ag.Hostname != "web-01" || ag.State != "reporting" || ag.ResourceID != d.Host {
		t.Errorf("agent: %+v", ag)
	}
	var res struct {
		Name   string         `json:"name"`
		Config map[string]any `json:"config"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/resources/"+d.Host, nil, &res); err != nil {
		t.Fatal(err)
	}
	if res.Name != "web-01" || res.Config["cpu"] == nil || res.Config["disks"] == nil {
		t.Errorf("host resource: %+v", res)
	}

	var run apiv1.WindowRunDetail
	if err := c.Do(ctx, "GET", "/api/v1/window-runs/"+d.WindowRun, nil, &run); err != nil {
		t.Fatal(err)
	}
	if run.Status != "succeeded" || run.Trigger != "schedule" || len(run.Targets) != 1 || run.Targets[0].TargetID != d.Host || run.Targets[0].ExecutionID == "" {
		t.Errorf("window run: %+v", run)
	}
	var h apiv1.HostCompliance
	if err := c.Do(ctx, "GET", "/api/v1/patch/hosts/"+d.Host, nil, &h); err != nil {
		t.Fatal(err)
	}
	// debian-default approves security updates at once (critical); the
	// kernel asks for a reboot.
	if h.Compliant || h.Baseline != "debian-default" || h.MissingByLevel["critical"] != 2 || !h.PendingReboot || h.Installed != 612 {
		t.Errorf("patch host: %+v", h)
	}

	var cs apiv1.List[apiv1.Candidate]
	if err := c.Do(ctx, "GET", "/api/v1/automation/candidates", nil, &cs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cd := range cs.Items {
		if cd.ID == d.Candidate {
			found = true
			if cd.Count != 2 || len(cd.Runbooks) != 1 || cd.Runbooks[0] != "disk-usage-report" || !strings.Contains(cd.TitlePattern, "/var/log on web-*") {
				t.Errorf("candidate: %+v", cd)
			}
		}
	}
	if !found {
		t.Errorf("candidate %q is not listed: %+v", d.Candidate, cs.Items)
	}
}
