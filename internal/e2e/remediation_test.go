package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// diskRules is the Prometheus rule file: node_exporter's standard
// filesystem alerts at 80% used, NodeFilesystemAlmostFull on volume A and
// NodeFilesystemSpaceFillingUp on volume B (two alert names, so that the
// library's correlation, one OpsItem per alert name and job, keeps them
// apart).
const diskRules = `groups:
  - name: disk
    rules:
      - alert: NodeFilesystemAlmostFull
        expr: 100 - 100 * node_filesystem_avail_bytes{mountpoint="VOLA"} / node_filesystem_size_bytes{mountpoint="VOLA"} > 80
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: Filesystem has less than 20% space left.
      - alert: NodeFilesystemSpaceFillingUp
        expr: 100 - 100 * node_filesystem_avail_bytes{mountpoint="VOLB"} / node_filesystem_size_bytes{mountpoint="VOLB"} > 80
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: Filesystem is filling up.
`

const agentHostname = "disk-e2e-host"

// TestRemediationProvesItsEffect is the acceptance test of remediation
// with the real monitoring stack: real node_exporter, Prometheus and
// Alertmanager, a real agent process, only the documented setup (the
// library's disk-cleanup rule and runbook; the agent enrolled with the
// cleanup_log_dirs tag naming the application's log directory). Two small
// volumes of its own fill up:
//
//	(d) first, three disk alerts for hosts without an agent: no execution,
//	    no breaker, the OpsItems say why;
//	(a) volume A fills with old rotated logs: the alert Prometheus raises
//	    for 127.0.0.1:<port> (c: its default label for a target on its own
//	    machine) resolves to the agent; cleaned, verified, the OpsItem is
//	    resolved by automation;
//	(b) volume B fills with one large non-log file: the run is ineffective,
//	    the OpsItem escalated with the file among the top consumers; a
//	    person removes it, the OpsItem resolves, not credited to automation;
//	(c) the same host named by its IP and by an FQDN resolves to the agent;
//	    stats count the verified and ineffective runs.
//
// The breaker's reset through the CLI and the API is
// internal/app.TestRuleBreakerThroughExecutor.
func TestRemediationProvesItsEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node_exporter, Prometheus, Alertmanager and an agent")
	}
	promBin := lookPath(t, "prometheus", "prometheus")
	amBin := lookPath(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	nodeBin := lookPath(t, "prometheus-node-exporter", "prometheus-node-exporter", "node_exporter")
	volA, volB := testenv.Volume(t, 32), testenv.Volume(t, 32)
	bin := buildFlywheel(t)
	deadline := time.Now().Add(4 * time.Minute)
	ctx := context.Background()

	fw := startFlywheel(t)
	c := fw.admin
	nodeAddr := freeAddr(t)
	node := startProc(t, "node_exporter", nodeAddr, nodeBin, "--web.listen-address="+nodeAddr, "--collector.disable-defaults",
		"--collector.filesystem", "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run)($|/)")
	waitReady(t, node, "/metrics", deadline)

	// The agent, enrolled as the docs say, told where the app logs live.
	var tok api.CreatedEnrollToken
	if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	agentLog := &logBuffer{}
	agent := exec.Command(bin, "agent", "run", "--server", "http://"+fw.addr, "--enroll-token", tok.Token, "--state", t.TempDir(),
		"--hostname", agentHostname, "--heartbeat", "500ms", "--poll-wait", "5s", "--tags", "cleanup_log_dirs="+filepath.Join(volA, "log"))
	agent.Env = append(os.Environ(), "FLYWHEEL_TOKEN=", "FLYWHEEL_SERVER=")
	agent.Stdout, agent.Stderr = agentLog, agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	agentPeer := &proc{name: "agent", out: agentLog}
	var hostRes store.Resource
	poll(t, deadline, "the agent reporting its inventory", func() (bool, string) {
		var l api.List[api.AgentView]
		if err := c.Do(ctx, "GET", "/api/v1/agents", nil, &l); err != nil {
			return false, err.Error()
		}
		for _, a := range l.Items {
			if a.Hostname == agentHostname && a.ResourceID != "" && c.Do(ctx, "GET", "/api/v1/resources/"+a.ResourceID, nil, &hostRes) == nil {
				return strings.Contains(string(hostRes.Config), `"listening"`), string(hostRes.Config)
			}
		}
		return false, fmt.Sprintf("%+v", l.Items)
	}, agentPeer)
	var inv struct {
		Network struct {
			IPs []string `json:"ips"`
		} `json:"network"`
	}
	_ = json.Unmarshal(hostRes.Config, &inv)

	// Alertmanager sends to Flywheel's webhook; Prometheus scrapes
	// node_exporter as 127.0.0.1:<port> and alerts through it.
	tokenFile := fw.intakeTokenFile(t, "alertmanager")
	am := startAlertmanager(t, amBin, map[string]any{
		"global": map[string]any{"resolve_timeout": "5m"},
		"route": map[string]any{"receiver": "flywheel", "group_by": []string{"alertname", "instance", "mountpoint"},
			"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
		"receivers": []any{map[string]any{"name": "flywheel", "webhook_configs": []any{map[string]any{
			"url": "http://" + fw.addr + "/api/v1/intake/alertmanager", "send_resolved": true,
			"http_config": map[string]any{"authorization": map[string]any{"credentials_file": tokenFile}}}}}},
	}, deadline)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, []byte(strings.NewReplacer("VOLA", volA, "VOLB", volB).Replace(diskRules)), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	writeYAML(t, filepath.Join(dir, "prometheus.yml"), map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"rule_files":     []string{rulesPath},
		"scrape_configs": []any{map[string]any{"job_name": "node", "static_configs": []any{map[string]any{"targets": []string{nodeAddr}}}}},
		"alerting": map[string]any{"alertmanagers": []any{map[string]any{"api_version": "v2",
			"static_configs": []any{map[string]any{"targets": []string{am.addr}}}}}},
	})
	prom := startProc(t, "prometheus", promAddr, promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	waitReady(t, prom, "/-/ready", deadline)
	peers := []*proc{prom, am, node, agentPeer, {name: "flywheel", out: fw.log}}

	// (d) Three disk alerts for hosts without an agent, through Alertmanager
	// (one OpsItem: the library correlates an alert name per job).
	ghostHosts := []string{"ghost-1", "10.99.0.1", "ghost-2.example.com"}
	for _, h := range ghostHosts {
		postAMAlert(t, am.addr, map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": h + ":9100", "job": "node-ghosts", "mountpoint": "/", "severity": "critical"})
	}
	var ghosts []store.OpsItem
	poll(t, deadline, "the OpsItems for the unmanaged hosts", func() (bool, string) {
		ghosts = itemsNaming(t, fw, ghostHosts...)
		named := map[string]bool{}
		for _, o := range ghosts {
			for _, r := range related(t, fw, o.ID).Resources {
				named[r.ID] = true
			}
		}
		return named[ghostHosts[0]] && named[ghostHosts[1]] && named[ghostHosts[2]], fmt.Sprint(named)
	}, peers...)
	for _, o := range ghosts {
		poll(t, deadline, "why the rule did not run on "+o.ID, func() (bool, string) {
			tl := timeline(t, fw, o.ID)
			return slices.ContainsFunc(tl, func(l string) bool {
				return strings.Contains(l, "did not run runbook disk-cleanup") && strings.Contains(l, "no agent runs on it")
			}), strings.Join(tl, "\n")
		}, peers...)
		if exs := executionsOf(t, fw, o.ID); len(exs) != 0 {
			t.Errorf("an unmanaged host's OpsItem %s has executions: %+v", o.ID, exs)
		}
	}
	wantNoBreaker(t, fw)

	// (a) Volume A fills with old rotated logs; a live log stays.
	old := time.Now().Add(-30 * 24 * time.Hour)
	logDir := filepath.Join(volA, "log")
	var rotated []string
	for i := range 26 {
		p := filepath.Join(logDir, fmt.Sprintf("app.log.%d.gz", i+1))
		writeFile(t, p, 1<<20, old)
		rotated = append(rotated, p)
	}
	live := filepath.Join(logDir, "app.log")
	writeFile(t, live, 64<<10, old)
	itemA := waitItem(t, fw, deadline, volA, peers)
	exA := waitExecution(t, fw, itemA.ID, deadline, peers)
	if exA.Status != "succeeded" || exA.Rule != "disk-cleanup" {
		t.Fatalf("cleanup of volume A: %s (%s)\nsteps: %+v", exA.Status, exA.Error, exA.Steps)
	}
	wantTargets(t, exA, hostRes.ID, "127.0.0.1:<port>")
	for _, p := range rotated {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed", p)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live log: %v", err)
	}
	poll(t, deadline, "volume A's OpsItem resolving", func() (bool, string) {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+itemA.ID, nil, &itemA); err != nil {
			return false, err.Error()
		}
		return itemA.Status == "resolved", itemA.Status
	}, peers...)
	if itemA.ResolvedBy != "automation:rule:disk-cleanup" {
		t.Errorf("volume A resolved by %q, want automation:rule:disk-cleanup", itemA.ResolvedBy)
	}

	// (b) Volume B fills with one large file that is no log.
	big := filepath.Join(volB, "data", "dump.bin")
	writeFile(t, big, 28<<20, time.Now())
	itemB := waitItem(t, fw, deadline, volB, peers)
	exB := waitExecution(t, fw, itemB.ID, deadline, peers)
	if exB.Status != "ineffective" || !strings.Contains(exB.Error, "not verified") {
		t.Fatalf("cleanup of volume B: %s (%s)", exB.Status, exB.Error)
	}
	poll(t, deadline, "volume B's OpsItem escalated with the top consumers", func() (bool, string) {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+itemB.ID, nil, &itemB); err != nil {
			return false, err.Error()
		}
		d := string(itemB.OperationalData)
		return strings.Contains(d, `"needs_human"`) && strings.Contains(d, `"reason":"ineffective"`) && strings.Contains(d, "disk_diagnostics") &&
			strings.Contains(d, big), d
	}, peers...)
	if tl := timeline(t, fw, itemB.ID); !slices.ContainsFunc(tl, func(l string) bool { return strings.HasPrefix(l, "escalated: needs a person") }) {
		t.Errorf("volume B's timeline lacks the escalation:\n%s", strings.Join(tl, "\n"))
	}
	// A person frees the space by hand.
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	poll(t, deadline, "volume B's OpsItem resolving", func() (bool, string) {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+itemB.ID, nil, &itemB); err != nil {
			return false, err.Error()
		}
		return itemB.Status == "resolved", itemB.Status
	}, peers...)
	if strings.HasPrefix(itemB.ResolvedBy, "automation:") {
		t.Errorf("volume B, freed by a person after an ineffective run, resolved by %q", itemB.ResolvedBy)
	}

	// (c) The same host by its IP and by an FQDN.
	if len(inv.Network.IPs) == 0 {
		t.Fatalf("the agent reports no IP: %s", hostRes.Config)
	}
	for _, inst := range []string{inv.Network.IPs[0] + ":9100", agentHostname + ".example.internal:9100"} {
		postAMAlert(t, am.addr, map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": inst, "job": "node-" + inst, "mountpoint": volA, "severity": "critical"})
		host, _, _ := strings.Cut(inst, ":9100")
		var items []store.OpsItem
		poll(t, deadline, "an OpsItem naming "+host, func() (bool, string) {
			items = itemsNaming(t, fw, host)
			return len(items) == 1, fmt.Sprint(len(items))
		}, peers...)
		ex := waitExecution(t, fw, items[0].ID, deadline, peers)
		if ex.Status != "succeeded" {
			t.Errorf("run for %s: %s (%s)", inst, ex.Status, ex.Error)
		}
		wantTargets(t, ex, hostRes.ID, inst)
	}

	// The figures: verified runs, the ineffective one, credit only for A.
	var st api.FlywheelStats
	if err := c.Do(ctx, "GET", "/api/v1/stats/flywheel?period=1d", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.VerifiedRuns != 3 || st.IneffectiveRuns != 1 || st.ResolvedByAutomation != 1 || st.CreditWithheld != 0 || st.FailedRuns != 0 {
		t.Errorf("stats: verified %d, ineffective %d, failed %d, by automation %d, withheld %d; want 3, 1, 0, 1, 0",
			st.VerifiedRuns, st.IneffectiveRuns, st.FailedRuns, st.ResolvedByAutomation, st.CreditWithheld)
	}
	wantNoBreaker(t, fw)
}

// buildFlywheel builds the flywheel binary (the agent runs it).
func buildFlywheel(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flywheel")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/flywheel")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build flywheel: %v\n%s", err, out)
	}
	return bin
}

// postAMAlert posts one firing alert to Alertmanager's API, as another
// Prometheus would.
func postAMAlert(t *testing.T, amAddr string, labels map[string]string) {
	t.Helper()
	body, _ := json.Marshal([]any{map[string]any{"labels": labels, "annotations": map[string]string{"summary": "disk"},
		"startsAt": time.Now().UTC().Format(time.RFC3339)}})
	resp, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post to Alertmanager: %s", resp.Status)
	}
}

func writeFile(t *testing.T, p string, size int, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// itemsNaming lists the NodeFilesystemAlmostFull OpsItems whose related
// host resources name one of hosts.
func itemsNaming(t *testing.T, fw *flywheel, hosts ...string) []store.OpsItem {
	t.Helper()
	var l api.List[store.OpsItem]
	if err := fw.admin.Do(context.Background(), "GET", "/api/v1/opsitems?limit=500", nil, &l); err != nil {
		t.Fatal(err)
	}
	var out []store.OpsItem
	for _, o := range l.Items {
		if !strings.HasPrefix(o.Title, "NodeFilesystem") {
			continue
		}
		if slices.ContainsFunc(related(t, fw, o.ID).Resources, func(r store.OpsItemResource) bool { return r.Type == "host" && slices.Contains(hosts, r.ID) }) {
			out = append(out, o)
		}
	}
	return out
}

// waitItem waits for the open OpsItem of a volume's alert.
func waitItem(t *testing.T, fw *flywheel, deadline time.Time, mount string, peers []*proc) store.OpsItem {
	t.Helper()
	var item store.OpsItem
	poll(t, deadline, "an OpsItem for "+mount, func() (bool, string) {
		var evs api.List[store.Event]
		if err := fw.admin.Do(context.Background(), "GET", "/api/v1/events?limit=500", nil, &evs); err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Labels["mountpoint"] == mount && e.Status == "firing" && e.OpsItemID != "" {
				return fw.admin.Do(context.Background(), "GET", "/api/v1/opsitems/"+e.OpsItemID, nil, &item) == nil, ""
			}
		}
		return false, fmt.Sprint(len(evs.Items), " events")
	}, peers...)
	return item
}

// waitExecution waits for the first execution on an OpsItem to end.
func waitExecution(t *testing.T, fw *flywheel, opsItem string, deadline time.Time, peers []*proc) api.ExecutionView {
	t.Helper()
	var ex api.ExecutionView
	poll(t, deadline, "the execution on "+opsItem+" to end", func() (bool, string) {
		exs := executionsOf(t, fw, opsItem)
		if len(exs) == 0 {
			return false, "none"
		}
		if err := fw.admin.Do(context.Background(), "GET", "/api/v1/executions/"+exs[len(exs)-1].ID, nil, &ex); err != nil {
			return false, err.Error()
		}
		return ex.Status != "pending" && ex.Status != "running", ex.Status
	}, peers...)
	return ex
}

func executionsOf(t *testing.T, fw *flywheel, opsItem string) []store.Execution {
	t.Helper()
	var l api.List[store.Execution]
	if err := fw.admin.Do(context.Background(), "GET", "/api/v1/executions?opsitem="+opsItem, nil, &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func related(t *testing.T, fw *flywheel, opsItem string) api.Related {
	t.Helper()
	var rel api.Related
	if err := fw.admin.Do(context.Background(), "GET", "/api/v1/opsitems/"+opsItem+"/related", nil, &rel); err != nil {
		t.Fatal(err)
	}
	return rel
}

func timeline(t *testing.T, fw *flywheel, opsItem string) []string {
	t.Helper()
	var out []string
	for _, e := range related(t, fw, opsItem).Timeline {
		out = append(out, e.Kind+": "+e.Message)
	}
	return out
}

func wantTargets(t *testing.T, ex api.ExecutionView, resourceID, named string) {
	t.Helper()
	var targets []struct{ ID string }
	_ = json.Unmarshal(ex.Targets, &targets)
	if len(targets) != 1 || targets[0].ID != resourceID {
		t.Errorf("the alert for %s ran on %s, want the agent's host %s", named, ex.Targets, resourceID)
	}
}

func wantNoBreaker(t *testing.T, fw *flywheel) {
	t.Helper()
	var l api.List[api.BreakerView]
	if err := fw.admin.Do(context.Background(), "GET", "/api/v1/rules/breakers", nil, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 0 {
		t.Errorf("breakers counting: %+v", l.Items)
	}
}
