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
)

// TestDiskCleanupOnRealAgent is the acceptance test of automation rules on
// the host agent: an Alertmanager NodeFilesystemAlmostFull alert for an
// agent's host opens an OpsItem; the built-in disk-cleanup rule runs the
// disk-cleanup runbook on that host, through the real agent process, in
// the same transaction that opened the OpsItem; the runbook's before/after
// figures and the files it removed land on the OpsItem; when the alert
// resolves, the OpsItem is resolved by automation.
//
// The test's content directory overrides the library's rule (same name),
// with the rule docs/agent.md shows, only to point the runbook at a
// temporary log directory and to leave the machine's journal and package
// cache alone.
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
	// survive: an old archive outside the directory, and a link to it
	// from inside.
	root := t.TempDir()
	logDir := filepath.Join(root, "log")
	outside := filepath.Join(root, "elsewhere")
	old := time.Now().Add(-30 * 24 * time.Hour)
	files := map[string]bool{ // path under root → removed
		"log/syslog": false, "log/app/app.log": false, "log/syslog.3.gz": false, // live, and rotated but recent
		"log/syslog.1": true, "log/syslog.2.gz": true, "log/app/app.log.1": true, "log/auth.log-20260101": true,
		"log/nginx/access.log.4.xz": true,
		"elsewhere/archive.gz":      false,
	}
	for rel, removed := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("log line\n"), 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		if removed || strings.HasPrefix(rel, "elsewhere/") || rel == "log/syslog" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := filepath.Join(logDir, "archive.gz")
	if err := os.Symlink(filepath.Join(outside, "archive.gz"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(logDir, old, old); err != nil {
		t.Fatal(err)
	}
	// The alert is about the volume the log directory is on.
	out, err := exec.Command("df", "-P", logDir).Output()
	if err != nil {
		t.Fatalf("df: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	mount := fields[len(fields)-1]

	contentDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(contentDir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(contentDir, "rules", "disk-cleanup.yaml"), docsDiskRule(t, logDir), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	a := startApp(t, config.Config{DataDir: dataDir, ContentDir: contentDir, DB: db}, &bytes.Buffer{})
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
		"--hostname", hostname, "--heartbeat", "500ms", "--poll-wait", "5s")
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
	if params["mountpoint"] != mount || params["log_dir"] != logDir || params["journal"] != false || params["report_only"] != false {
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
		switch {
		case strings.Contains(cv.Spec.Script, "df -Pk"):
			ran = append(ran, "measure")
		case strings.Contains(cv.Spec.Script, "find \"$LOG_DIR\""):
			ran = append(ran, "rotated_logs")
			if !strings.Contains(cv.Output, filepath.Join(logDir, "syslog.1")) {
				t.Errorf("the agent's rotated_logs output does not list syslog.1: %q", cv.Output)
			}
		case strings.Contains(cv.Spec.Script, "apt-get"):
			ran = append(ran, "package_cache")
		}
	}
	slices.Sort(ran)
	if !slices.Equal(ran, []string{"measure", "measure", "rotated_logs"}) {
		t.Errorf("commands the agent ran for the runbook: %v, want two measures and the rotated logs (journal and package cache turned off)", ran)
	}

	// The old rotated logs are gone; the live logs, the recent rotated
	// one, the link and what it points to outside are still there.
	for rel, removed := range files {
		_, err := os.Lstat(filepath.Join(root, rel))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v (%v)", rel, gone, removed, err)
		}
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the link inside the log dir: %v", err)
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
	if dc.Host != agent.ResourceID || dc.Mountpoint != mount || !slices.Equal(dc.RemovedFiles, wantRemoved) || dc.Journal != "not run" {
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
}

// docsDiskRule returns the rule docs/agent.md shows for the end-to-end
// run, its log directory replaced by logDir.
func docsDiskRule(t *testing.T, logDir string) []byte {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "agent.md"))
	if err != nil {
		t.Fatal(err)
	}
	const head = "```yaml\n# ops/rules/disk-cleanup.yaml\n"
	i := strings.Index(string(page), head)
	if i < 0 {
		t.Fatal("docs/agent.md has no ops/rules/disk-cleanup.yaml example")
	}
	doc, _, ok := strings.Cut(string(page[i+len(head):]), "```")
	if !ok || !strings.Contains(doc, `'"/srv/app/logs"'`) {
		t.Fatalf("the docs' disk-cleanup rule does not set log_dir to /srv/app/logs:\n%s", doc)
	}
	return []byte(strings.Replace(doc, `'"/srv/app/logs"'`, `'"`+logDir+`"'`, 1))
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
