package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// TestDiskCleanupOnRealAgent is the acceptance test of automation rules on
// the host agent: an Alertmanager NodeFilesystemAlmostFull alert for an
// agent's host opens an OpsItem; the built-in disk-cleanup rule runs the
// disk-cleanup runbook on that host, through the real agent process, in
// the same transaction that opened the OpsItem; the runbook's before/after
// figures and the files it removed land on the OpsItem; the volume ends
// below its target (verified), and when the alert resolves, the OpsItem is
// resolved by automation.
//
// Nothing overrides the library: the volume is a small one of the test's
// own, and the agent is enrolled with the cleanup_log_dirs tag naming the
// log directory on it, as docs/agent.md shows. (With real node_exporter,
// Prometheus and Alertmanager: internal/e2e.TestRemediationProvesItsEffect.)
func TestDiskCleanupOnRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an agent process")
	}
	testDiskCleanup(t, "")
}

// TestDiskCleanupOnRealAgentPostgres runs the same on PostgreSQL (the
// server's store and job queue in a schema of the test's own).
func TestDiskCleanupOnRealAgentPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an agent process")
	}
	schema := postgres.OpenTest(t).Schema()
	db := postgres.TestURL()
	if strings.Contains(db, "?") {
		db += "&search_path=" + schema
	} else {
		db += "?search_path=" + schema
	}
	testDiskCleanup(t, db)
}

func testDiskCleanup(t *testing.T, db string) {
	bin := flywheelBinary(t)
	ctx := context.Background()

	// A log directory as /var/log looks after a while: live logs, old
	// rotated ones, a recent rotated one; beside it, things that must
	// survive: an old archive on another volume, and a link to it from
	// inside.
	root := testenv.Volume(t, 16)
	logDir := filepath.Join(root, "log")
	outside := t.TempDir()
	old := time.Now().Add(-30 * 24 * time.Hour)
	files := map[string]bool{ // path under root → removed
		"log/syslog": false, "log/app/app.log": false, "log/syslog.3.gz": false, // live, and rotated but recent
		"log/syslog.1": true, "log/syslog.2.gz": true, "log/app/app.log.1": true, "log/auth.log-20260101": true,
		"log/nginx/access.log.4.xz": true,
	}
	for rel, removed := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("log line\n"), 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		if removed || rel == "log/syslog" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	archive := filepath.Join(outside, "archive.gz")
	if err := os.WriteFile(archive, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(archive, old, old); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(logDir, "archive.gz")
	if err := os.Symlink(archive, link); err != nil {
		t.Fatal(err)
	}
	mount := root

	dataDir := t.TempDir()
	a := startApp(t, config.Config{DataDir: dataDir, DB: db}, &bytes.Buffer{})
	server := "http://" + a.Addr()
	adminFile, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(adminFile))
	c := client.New(server, admin)
	t.Logf("store %s", a.Store().Driver())

	// One real agent, enrolled with a token from the real CLI.
	const hostname = "disk-e2e-host"
	tokOut, err := exec.Command(bin, "agent", "token", "create", "--server", server, "--token", admin, "--expires-in", "10m", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, tokOut)
	}
	var tok api.CreatedEnrollToken
	if err := json.Unmarshal(tokOut, &tok); err != nil {
		t.Fatalf("token create output %q: %v", tokOut, err)
	}
	startAgentProc(t, bin, "--server", server, "--enroll-token", tok.Token, "--state", t.TempDir(),
		"--hostname", hostname, "--heartbeat", "500ms", "--poll-wait", "5s", "--tags", "cleanup_log_dirs="+logDir)
	var agent api.AgentView
	waitFor(t, 60*time.Second, "agent reporting with its host resource", func() bool {
		for _, ag := range agentsOf(t, c) {
			if ag.Hostname == hostname && ag.State == "reporting" && ag.ResourceID != "" {
				agent = ag
			}
		}
		if agent.ID == "" {
			return false
		}
		var r store.Resource
		return c.Do(ctx, "GET", "/api/v1/resources/"+agent.ResourceID, nil, &r) == nil && r.Name == hostname
	})

	// The alert fires for the agent's host, named as Prometheus names it.
	postAlert(t, c, "firing", hostname+":9100", mount)
	var item store.OpsItem
	waitFor(t, 30*time.Second, "OpsItem opened", func() bool {
		var l api.List[store.OpsItem]
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?limit=500", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Items {
			if strings.HasPrefix(o.Title, "NodeFilesystemAlmostFull") {
				item = o
				return true
			}
		}
		return false
	})

	// The rule started the runbook on the agent's host, and it succeeded.
	var ex api.ExecutionView
	waitFor(t, 90*time.Second, "disk-cleanup execution ended", func() bool {
		var l api.List[store.Execution]
		if err := c.Do(ctx, "GET", "/api/v1/executions?opsitem="+item.ID, nil, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 0 {
			return false
		}
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+l.Items[0].ID, nil, &ex); err != nil {
			t.Fatal(err)
		}
		return ex.Status != "pending" && ex.Status != "running"
	})
	if ex.Status != "succeeded" || ex.Runbook != "disk-cleanup" || ex.Rule != "disk-cleanup" || ex.StartedBy != "rule:disk-cleanup" || ex.Mode != "auto" {
		t.Fatalf("execution %s: %s by %s (rule %q, mode %s): %s\nsteps: %+v", ex.ID, ex.Status, ex.StartedBy, ex.Rule, ex.Mode, ex.Error, ex.Steps)
	}
	var targets []struct{ ID string }
	_ = json.Unmarshal(ex.Targets, &targets)
	if len(targets) != 1 || targets[0].ID != agent.ResourceID {
		t.Errorf("targets %s, want the agent's host %s", ex.Targets, agent.ResourceID)
	}
	var params map[string]any
	_ = json.Unmarshal(ex.Parameters, &params)
	if params["mountpoint"] != mount || params["log_dir"] != "/var/log" || params["report_only"] != false {
		t.Errorf("parameters %s", ex.Parameters)
	}

	// It ran there: the agent's command records hold the runbook's steps,
	// with their output.
	var cmds api.List[api.CommandView]
	if err := c.Do(ctx, "GET", "/api/v1/commands?limit=500", nil, &cmds); err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, cv := range cmds.Items {
		if cv.AgentID != agent.ID || cv.Status != "succeeded" {
			continue
		}
		switch sc := cv.Spec.Script; {
		case strings.Contains(sc, "df -Pk \"$MOUNT\" | awk"):
			ran = append(ran, "measure")
		case strings.Contains(sc, "$TAG_DIRS"):
			ran = append(ran, "rotated_logs")
			if !strings.Contains(cv.Output, filepath.Join(logDir, "syslog.1")) {
				t.Errorf("the agent's rotated_logs output does not list syslog.1: %q", cv.Output)
			}
		case strings.Contains(sc, "journalctl"):
			ran = append(ran, "journal")
		case strings.Contains(sc, "apt-get"):
			ran = append(ran, "package_cache")
		case strings.Contains(sc, "/var/crash"):
			ran = append(ran, "core_dumps")
		case strings.Contains(sc, "largest files"):
			ran = append(ran, "diagnose")
		}
	}
	slices.Sort(ran)
	if want := []string{"core_dumps", "journal", "measure", "measure", "package_cache", "rotated_logs"}; !slices.Equal(ran, want) {
		t.Errorf("commands the agent ran for the runbook: %v, want %v (no diagnosis: the volume ends below its target)", ran, want)
	}

	// The old rotated logs are gone; the live logs, the recent rotated
	// one, the link and what it points to outside are still there.
	for rel, removed := range files {
		_, err := os.Lstat(filepath.Join(root, rel))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v (%v)", rel, gone, removed, err)
		}
	}
	for _, p := range []string{link, archive} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("the link inside the log dir, or what it points to: %v", err)
		}
	}

	// Before, after and what was removed are on the OpsItem.
	var o store.OpsItem
	if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID, nil, &o); err != nil {
		t.Fatal(err)
	}
	var data struct {
		DiskCleanup []struct {
			Host         string   `json:"host"`
			Mountpoint   string   `json:"mountpoint"`
			Before       string   `json:"before"`
			After        string   `json:"after"`
			Journal      string   `json:"journal"`
			RemovedFiles []string `json:"removed_files"`
		} `json:"disk_cleanup"`
	}
	if err := json.Unmarshal(o.OperationalData, &data); err != nil || len(data.DiskCleanup) != 1 {
		t.Fatalf("operational data %s: %v", o.OperationalData, err)
	}
	dc := data.DiskCleanup[0]
	wantRemoved := []string{}
	for rel, removed := range files {
		if removed {
			wantRemoved = append(wantRemoved, filepath.Join(root, rel))
		}
	}
	slices.Sort(wantRemoved)
	slices.Sort(dc.RemovedFiles)
	if dc.Host != agent.ResourceID || dc.Mountpoint != mount || !slices.Equal(dc.RemovedFiles, wantRemoved) || !strings.HasPrefix(dc.Journal, "skipped: ") {
		t.Errorf("disk_cleanup on the OpsItem: %+v\nwant removed %q", dc, wantRemoved)
	}
	t.Logf("on the OpsItem: before %q, after %q, removed %d files", dc.Before, dc.After, len(dc.RemovedFiles))
	for _, m := range []string{dc.Before, dc.After} {
		if f := strings.Fields(m); len(f) != 4 || f[3] != mount {
			t.Errorf("a measurement %q is not \"used_kb avail_kb percent mount\"", m)
		}
	}
	var rel api.Related
	if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID+"/related", nil, &rel); err != nil {
		t.Fatal(err)
	}
	var timeline []string
	for _, e := range rel.Timeline {
		timeline = append(timeline, e.Actor+": "+e.Message)
	}
	for _, want := range []string{"rule:disk-cleanup: Runbook disk-cleanup started", "Disk cleanup on 1 host(s): " + mount + " now at most"} {
		if !slices.ContainsFunc(timeline, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("timeline lacks %q:\n%s", want, strings.Join(timeline, "\n"))
		}
	}

	// The alert resolves: the OpsItem is resolved by automation.
	postAlert(t, c, "resolved", hostname+":9100", mount)
	waitFor(t, 30*time.Second, "OpsItem resolved", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID, nil, &o); err != nil {
			t.Fatal(err)
		}
		return o.Status == "resolved"
	})
	if o.ResolvedBy != "automation:rule:disk-cleanup" {
		t.Errorf("resolved by %q, want automation:rule:disk-cleanup", o.ResolvedBy)
	}

	// By hand, as docs/agent.md shows: report only, the host by its name,
	// no OpsItem; it lists what would go and removes nothing.
	keep := filepath.Join(logDir, "syslog.9.gz")
	if err := os.WriteFile(keep, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(keep, old, old); err != nil {
		t.Fatal(err)
	}
	// run returns stdout and stderr apart: --wait reports each step's
	// progress on stderr, and --json's document is stdout alone.
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, append(append([]string{"runbook", "run", "disk-cleanup"}, args...), "--server", server, "--token", admin)...)
		cmd.Env = append(os.Environ(), "FLYWHEEL_TOKEN=", "FLYWHEEL_SERVER=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, progress, err := run("--target", hostname, "-p", "report_only=true", "-p", "mountpoint="+mount, "--wait", "--json")
	if err != nil {
		t.Fatalf("runbook run by host name: %v\n%s%s", err, out, progress)
	}
	var byHand api.ExecutionView
	if err := json.Unmarshal([]byte(out), &byHand); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_ = json.Unmarshal(byHand.Targets, &targets)
	if byHand.Status != "succeeded" || len(targets) != 1 || targets[0].ID != agent.ResourceID || !strings.Contains(string(byHand.Outputs), keep) {
		t.Errorf("report only by host name: %s on %s, outputs %s", byHand.Status, byHand.Targets, byHand.Outputs)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("report only removed %s: %v", keep, err)
	}
	// A host no agent runs on is refused, saying why; nothing runs.
	out, progress, err = run("--target", "web-nowhere", "-p", "report_only=true", "--wait")
	out += progress
	if err == nil || !strings.Contains(out, `"web-nowhere" is not the hostname`) || strings.Contains(out, "succeeded") {
		t.Errorf("a host without an agent: %v\n%s", err, out)
	}
}

// postAlert posts an Alertmanager v4 webhook with one
// NodeFilesystemAlmostFull alert.
func postAlert(t *testing.T, c *client.Client, status, instance, mount string) {
	t.Helper()
	labels := map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": instance, "job": "node",
		"mountpoint": mount, "fstype": "ext4", "severity": "critical"}
	alert := map[string]any{"status": status, "labels": labels, "fingerprint": "d15c0e2e00000001",
		"annotations": map[string]string{"summary": "Filesystem has less than 10% space left."},
		"startsAt":    "2026-03-10T14:02:17Z", "endsAt": "0001-01-01T00:00:00Z"}
	if status == "resolved" {
		alert["endsAt"] = time.Now().UTC().Format(time.RFC3339)
	}
	body := map[string]any{"version": "4", "receiver": "flywheel", "status": status, "groupKey": `{}:{alertname="NodeFilesystemAlmostFull"}`,
		"groupLabels": map[string]string{"alertname": "NodeFilesystemAlmostFull"}, "commonLabels": labels,
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093", "alerts": []any{alert}}
	if err := c.Do(context.Background(), "POST", "/api/v1/intake/alertmanager", body, nil); err != nil {
		t.Fatalf("post %s alert: %v", status, err)
	}
}
