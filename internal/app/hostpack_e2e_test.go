package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// TestHostPackOnRealAgent is the Linux host pack end to end through an
// enrolled agent process: the agent reads its security inventory under a
// temporary root (--security-root) whose sshd_config allows root logins;
// the server's compliance evaluation finds linux-sshd-root-login-disabled
// NON_COMPLIANT on the agent's host and starts the rule's remediation
// runbook (host-sshd-setting, mode auto), which runs on the agent; the
// agent's next inventory is evaluated COMPLIANT and the file has changed.
func TestHostPackOnRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an agent process")
	}
	testenv.Program(t, "openssh-server", "sshd")
	// sshd -T refuses to run without the privilege separation directory
	// sshd's service creates at start.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		testenv.Absent(t, "cannot create /run/sshd: %v", err)
	}
	const rule = "linux-sshd-root-login-disabled"
	bin := flywheelBinary(t)
	ctx := context.Background()

	root := t.TempDir()
	cfgPath := filepath.Join(root, "etc/ssh/sshd_config")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o755); err != nil {
		t.Fatal(err)
	}
	// One violation only: the pack's other sshd rules hold, so that one
	// remediation edits the file (remediations of one file started
	// together race on it).
	before := "# the violation: root logins allowed\nPermitRootLogin yes\nX11Forwarding no\nMaxAuthTries 3\nPermitEmptyPasswords no\n"
	if err := os.WriteFile(cfgPath, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	a := startApp(t, config.Config{DataDir: dataDir}, &bytes.Buffer{})
	server := "http://" + a.Addr()
	admin := readAdminToken(t, dataDir)
	c := client.New(server, admin)
	start := time.Now()
	hosts := enrollAgentsWith(t, bin, server, admin, "hostpack", 1, func(int) []string {
		return []string{"--inventory-interval", "1s", "--security-root", root, "--self-update=false"}
	})

	// The agent's host resource carries the sshd settings read under root.
	var res store.Resource
	waitFor(t, 60*time.Second, "agent's host inventory with sshd", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/resources/"+hosts["1"], nil, &res); err != nil {
			t.Fatal(err)
		}
		var inv struct {
			Root string         `json:"security_root"`
			SSHD map[string]any `json:"sshd"`
		}
		_ = json.Unmarshal(res.Config, &inv)
		return inv.Root == root && inv.SSHD["permitrootlogin"] == "yes"
	})
	t.Logf("inventory after %s", time.Since(start).Round(time.Millisecond))

	result := func() store.ComplianceResult {
		var l api.List[store.ComplianceResult]
		if err := c.Do(ctx, "GET", "/api/v1/compliance/results?rule="+rule+"&resource="+res.ID, nil, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 1 {
			return store.ComplianceResult{}
		}
		return l.Items[0]
	}

	// The evaluation finds the violation and starts the remediation.
	run, err := a.compliance.Evaluate(ctx, res.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	r := result()
	if r.Status != "NON_COMPLIANT" || r.Annotation != "PermitRootLogin is yes" || r.RemediationAttempts != 1 || r.ExecutionID == "" ||
		len(run.Remediations) != 1 || run.Remediations[0] != r.ExecutionID {
		t.Fatalf("before: %+v (evaluation started %v)", r, run.Remediations)
	}
	t.Logf("NON_COMPLIANT after %s", time.Since(start).Round(time.Millisecond))

	// The runbook ran on the agent's host, and succeeded.
	var ex api.ExecutionView
	waitFor(t, 90*time.Second, "remediation ended", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+r.ExecutionID, nil, &ex); err != nil {
			t.Fatal(err)
		}
		return ex.Status != "pending" && ex.Status != "running"
	})
	if ex.Status != "succeeded" || ex.Runbook != "host-sshd-setting" || ex.StartedBy != "compliance:"+rule {
		t.Fatalf("execution %s: %s %s by %s: %s\nsteps: %+v", ex.ID, ex.Runbook, ex.Status, ex.StartedBy, ex.Error, ex.Steps)
	}
	var targets []struct{ ID string }
	_ = json.Unmarshal(ex.Targets, &targets)
	if len(targets) != 1 || targets[0].ID != res.ID {
		t.Errorf("targets %s, want the agent's host %s", ex.Targets, res.ID)
	}
	var ran bool
	var cmds api.List[api.CommandView]
	if err := c.Do(ctx, "GET", "/api/v1/commands?limit=500", nil, &cmds); err != nil {
		t.Fatal(err)
	}
	for _, cv := range cmds.Items {
		ran = ran || (cv.AgentID == res.AgentID && cv.Status == "succeeded" && strings.Contains(cv.Spec.Script, "sshd"))
	}
	if !ran {
		t.Errorf("no succeeded sshd command on agent %s: %+v", res.AgentID, cmds.Items)
	}
	t.Logf("remediated after %s", time.Since(start).Round(time.Millisecond))

	// The agent's next inventory is evaluated compliant.
	waitFor(t, 60*time.Second, "COMPLIANT after the next inventory", func() bool {
		if _, err := a.compliance.Evaluate(ctx, res.TenantID); err != nil {
			t.Fatal(err)
		}
		return result().Status == "COMPLIANT"
	})
	t.Logf("COMPLIANT after %s", time.Since(start).Round(time.Millisecond))
	b, _ := os.ReadFile(cfgPath)
	if !strings.HasPrefix(string(b), "# set by Flywheel (host-sshd-setting)\nPermitRootLogin no\n") || !strings.Contains(string(b), "PermitRootLogin yes") {
		t.Errorf("sshd_config after: %q (the setting first, the old lines kept)", b)
	}
}
