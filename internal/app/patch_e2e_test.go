package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/patch/apt"
	"github.com/flywheel-ops/flywheel/internal/patch/apt/apttest"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// patchContent is the test's baseline and group: non-security updates of
// fw-tool and fw-telnet are approved at once (medium); security updates
// seven days after they first appear (critical); fw-telnet is rejected.
const patchContent = `apiVersion: flywheel/v1
kind: PatchBaseline
metadata: {name: e2e-debian, description: The e2e hosts' baseline}
spec:
  operating_system: debian
  approval_rules:
    - filters: {classification: [security]}
      approve_after_days: 7
      compliance_level: critical
    - filters: {name: [fw-tool, fw-telnet]}
      enable_non_security: true
      compliance_level: medium
  rejected_patches: [fw-telnet]
  rejected_patches_action: block
---
apiVersion: flywheel/v1
kind: PatchGroup
metadata: {name: e2e-hosts, description: The e2e hosts}
spec:
  baseline: e2e-debian
  targets: {tags: {fleet: patch}}
  reboot: no-reboot
`

// TestPatchingOnRealAptHosts is the acceptance test of patching: real
// .deb packages built here (v1 and v2 of three, one update in a security
// suite, one rejected), served as apt repositories, and three real agent
// processes, each patching an isolated root of its own (its own dpkg
// database; the machine's is untouched). It proves, from each root's own
// dpkg database:
//
//	scan → every host is missing fw-tool 2.0 (approved), fw-telnet 2.0 is
//	  rejected, fw-lib 1.1 (security) pending its seven days;
//	a window (max_concurrency 1, max_errors 0) whose first host fails (a
//	  maintainer script that breaks on that host) stops: the other two are
//	  not touched;
//	the window again, the host repaired: approved updates only are
//	  installed on every host; fw-telnet stays at 1.0, fw-lib at 1.0;
//	  compliance is 100 %;
//	the scans' new critical security update fw-lib 1.1 is expedited by
//	  itself, waits for approval, then installs 1.1 on every host outside
//	  any window, within its next-business-day deadline.
func TestPatchingOnRealAptHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages and the binary, runs agent processes")
	}
	apttest.Require(t)
	bin := flywheelBinary(t)
	ctx := context.Background()

	main := apttest.NewRepo(t, "Flywheel", "stable")
	sec := apttest.NewRepo(t, "Flywheel-Security", "stable-security")
	main.Add(t,
		apttest.Deb{Name: "fw-tool", Version: "1.0"},
		// Version 2.0's script fails on a host whose root holds "broken".
		apttest.Deb{Name: "fw-tool", Version: "2.0", Postinst: "#!/bin/sh\nif [ -e \"$DPKG_ROOT/broken\" ]; then echo 'fw-tool: this host is broken' >&2; exit 1; fi\n"},
		apttest.Deb{Name: "fw-telnet", Version: "1.0"}, apttest.Deb{Name: "fw-telnet", Version: "2.0"},
		apttest.Deb{Name: "fw-lib", Version: "1.0"})
	sec.Add(t, apttest.Deb{Name: "fw-lib", Version: "1.1", Section: "libs"})
	roots := map[string]string{}
	for i := 1; i <= 3; i++ {
		root := apttest.NewRoot(t, main.Source(), sec.Source())
		seed := wire.PatchRequest{Operation: wire.PatchInstall, Reboot: wire.NoReboot,
			Install: []wire.PackageVersion{{Name: "fw-tool", Version: "1.0"}, {Name: "fw-telnet", Version: "1.0"}, {Name: "fw-lib", Version: "1.0"}}}
		var log bytes.Buffer
		if rep, err := apt.New(apt.Options{Root: root}).Install(ctx, seed, &log); err != nil || len(rep.Updates) != 3 {
			t.Fatalf("seeding host %d: %v %+v\n%s", i, err, rep, log.String())
		}
		roots[fmt.Sprint(i)] = root
	}
	versions := func(pkg string) map[string]string {
		v := map[string]string{}
		for i, root := range roots {
			v[i] = apttest.Version(t, root, pkg)
		}
		return v
	}

	contentDir, dataDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(contentDir, "patch.yaml"), []byte(patchContent), 0o600); err != nil {
		t.Fatal(err)
	}
	server, admin := startWindowApp(t, dataDir, contentDir)
	c := client.New(server, admin)
	hosts := enrollAgentsWith(t, bin, server, admin, "patch", 3, func(i int) []string {
		return []string{"--apt-root", roots[fmt.Sprint(i)], "--reboot-command", "true"}
	})
	index := map[string]string{} // resource ID → host index
	ids := []string{}
	for i, id := range hosts {
		index[id] = i
		ids = append(ids, id)
	}
	slices.Sort(ids)

	// Scan: each host is missing the approved fw-tool 2.0 and nothing else.
	runAndWait(t, c, "patch-scan", api.RunInput{Targets: ids}, runbook.StatusSucceeded)
	var rep patch.Report
	if err := c.Do(ctx, "GET", "/api/v1/patch/compliance", nil, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Tenant.Hosts != 3 || rep.Tenant.Compliant != 0 || rep.MissingByLevel["medium"] != 3 || rep.MissingByLevel["critical"] != 0 ||
		len(rep.Groups) != 1 || rep.Groups[0].Name != "e2e-hosts" || rep.Groups[0].Percent != 0 {
		t.Errorf("after the scan: %+v", rep)
	}
	var host patch.HostCompliance
	if err := c.Do(ctx, "GET", "/api/v1/patch/hosts/"+ids[0], nil, &host); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, d := range host.Detail.Decisions {
		status[d.Name+" "+d.Candidate] = d.Status
	}
	if want := map[string]string{"fw-tool 2.0": patch.Approved, "fw-telnet 2.0": patch.Rejected, "fw-lib 1.1": patch.Pending}; !mapsEqual(status, want) {
		t.Errorf("decisions = %v, want %v", status, want)
	}
	if len(host.Detail.Why) != 1 || !strings.Contains(host.Detail.Why[0], "missing fw-tool 2.0") || !strings.Contains(host.Detail.Why[0], "approval_rules[1]") ||
		!strings.Contains(host.Detail.Why[0], "e2e-hosts") {
		t.Errorf("why = %q", host.Detail.Why)
	}

	// The first host in the window's order is broken: the window stops
	// there (max_errors 0) and touches no other host.
	broken := index[ids[0]]
	if err := os.WriteFile(filepath.Join(roots[broken], "broken"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(24 * time.Hour)
	in := api.MaintenanceWindowInput{Name: "patch-e2e", Timezone: "Europe/Berlin", Schedule: store.MaintenanceSchedule{Expression: "rate(1 day)"},
		StartDate: &start, Duration: "1h", Cutoff: "10m", Targets: store.MaintenanceTargets{Tags: map[string]string{"fleet": "patch"}},
		Tasks: []store.MaintenanceTask{{Name: "patch", Runbook: "patch-install", Priority: 1, MaxConcurrency: "1", MaxErrors: "0"}}}
	var w api.MaintenanceWindow
	if err := c.Do(ctx, "POST", "/api/v1/maintenance-windows", in, &w); err != nil {
		t.Fatal(err)
	}
	run := runWindowNow(t, c, "patch-e2e")
	if run.Status != store.WindowRunFailed {
		t.Errorf("first run: %s, want failed", run.Status)
	}
	for _, r := range run.Targets {
		want := store.WindowRunSkipped
		if r.TargetID == ids[0] {
			want = store.WindowRunFailed
		}
		if r.Status != want {
			t.Errorf("first run on %s (host %s): %s (%s), want %s", r.TargetID, index[r.TargetID], r.Status, r.Error, want)
		}
	}
	for i, v := range versions("fw-tool") {
		want := "1.0"
		if i == broken {
			want = "" // half-configured: its script failed
		}
		if v != want {
			t.Errorf("after the stopped window: host %s fw-tool = %q, want %q", i, v, want)
		}
	}
	if err := c.Do(ctx, "GET", "/api/v1/patch/hosts/"+ids[0], nil, &host); err != nil || host.Compliant || host.Failed != 1 {
		t.Errorf("broken host: %v %+v", err, host)
	}

	// Repaired, the window runs again: approved updates only, everywhere.
	if err := os.Remove(filepath.Join(roots[broken], "broken")); err != nil {
		t.Fatal(err)
	}
	if run := runWindowNow(t, c, "patch-e2e"); run.Status != store.WindowRunSucceeded {
		t.Errorf("second run: %s %s", run.Status, run.Error)
	}
	for pkg, want := range map[string]string{"fw-tool": "2.0", "fw-telnet": "1.0", "fw-lib": "1.0"} {
		for i, v := range versions(pkg) {
			if v != want {
				t.Errorf("after the window: host %s %s = %q, want %q", i, pkg, v, want)
			}
		}
	}
	if err := c.Do(ctx, "GET", "/api/v1/patch/compliance", nil, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Tenant.Hosts != 3 || rep.Tenant.Compliant != 3 || rep.Tenant.Percent != 100 || rep.Failed != 0 || len(rep.Trend) == 0 || rep.Trend[len(rep.Trend)-1].Percent != 100 {
		t.Errorf("after the window: compliance %+v", rep)
	}
	out, err := exec.Command(bin, "patch", "compliance", "--server", server, "--token", admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "100.0%") || !strings.Contains(string(out), "e2e-hosts") {
		t.Errorf("patch compliance: %v\n%s", err, out)
	}

	// The scans saw fw-lib 1.1, new in the security suite and critical
	// for the baseline: the SLA tick expedited it on every host by itself
	// (in one or more expedites, as the scans and ticks interleaved).
	// Nothing happens before an admin approves; then it is installed on
	// every host, out of window.
	var exps []store.Expedite
	waitFor(t, 30*time.Second, "fw-lib 1.1 expedited on every host", func() bool {
		var l api.List[store.Expedite]
		if c.Do(ctx, "GET", "/api/v1/patch/expedites", nil, &l) != nil {
			return false
		}
		exps = l.Items
		var covered []string
		for _, e := range exps {
			if e.Package == "fw-lib" && e.Version == "1.1" && e.RequestedBy == patch.SystemActor {
				covered = append(covered, e.Targets...)
			}
		}
		slices.Sort(covered)
		return slices.Equal(covered, ids) && len(exps) <= 3
	})
	for _, exp := range exps {
		if !exp.DueAt.After(exp.RequestedAt) || exp.DueAt.Sub(exp.RequestedAt) > 4*24*time.Hour {
			t.Errorf("expedite due %s for %s", exp.DueAt, exp.RequestedAt)
		}
		waitFor(t, 30*time.Second, "the expedite waiting for approval", func() bool {
			var x api.ExecutionView
			return c.Do(ctx, "GET", "/api/v1/executions/"+exp.ExecutionID, nil, &x) == nil && x.Status == runbook.StatusWaitingApproval
		})
	}
	if v := versions("fw-lib"); v["1"] != "1.0" || v["2"] != "1.0" || v["3"] != "1.0" {
		t.Errorf("before approval: fw-lib %v", v)
	}
	// Four eyes: an admin approves what the system asked for.
	var approver api.CreatedToken
	if err := c.Do(ctx, "POST", "/api/v1/tokens", api.TokenInput{Name: "approver", Role: store.RoleAdmin}, &approver); err != nil {
		t.Fatal(err)
	}
	for _, exp := range exps {
		if err := client.New(server, approver.Secret).Do(ctx, "POST", "/api/v1/executions/"+exp.ExecutionID+"/approve", api.DecisionInput{Comment: "expedite"}, nil); err != nil {
			t.Fatal(err)
		}
		waitExecution(t, c, exp.ExecutionID, runbook.StatusSucceeded)
	}
	if v := versions("fw-lib"); v["1"] != "1.1" || v["2"] != "1.1" || v["3"] != "1.1" {
		t.Errorf("after approval: fw-lib %v", v)
	}
	if v := versions("fw-telnet"); v["1"] != "1.0" {
		t.Errorf("the expedite brought in fw-telnet: %v", v)
	}
	waitFor(t, 30*time.Second, "the expedites installed", func() bool {
		var l api.List[store.Expedite]
		if c.Do(ctx, "GET", "/api/v1/patch/expedites", nil, &l) != nil || len(l.Items) != len(exps) {
			return false
		}
		for _, e := range l.Items {
			if e.Status != store.ExpediteInstalled || e.InstalledAt == nil || e.InstalledAt.After(e.DueAt) || e.OpsItemID != "" {
				return false
			}
		}
		return true
	})
	var runs api.List[store.WindowRun]
	if err := c.Do(ctx, "GET", "/api/v1/maintenance-windows/patch-e2e/runs", nil, &runs); err != nil || len(runs.Items) != 2 {
		t.Errorf("window runs = %d, %v; the expedite ran out of window", len(runs.Items), err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// runAndWait starts a runbook and waits for its execution's final status.
func runAndWait(t *testing.T, c *client.Client, name string, in api.RunInput, want string) {
	t.Helper()
	var x api.ExecutionView
	if err := c.Do(context.Background(), "POST", "/api/v1/runbooks/"+name+"/executions", in, &x); err != nil {
		t.Fatal(err)
	}
	waitExecution(t, c, x.ID, want)
}

func waitExecution(t *testing.T, c *client.Client, id, want string) {
	t.Helper()
	var x api.ExecutionView
	waitFor(t, 3*time.Minute, "execution "+id+" ends", func() bool {
		return c.Do(context.Background(), "GET", "/api/v1/executions/"+id, nil, &x) == nil && runbook.IsTerminal(x.Status)
	})
	if x.Status != want {
		for _, s := range x.Steps {
			t.Logf("step %s on %s: %s %s\n%s", s.Name, s.TargetID, s.Status, s.Error, s.Log)
		}
		t.Fatalf("execution %s: %s (%s), want %s", id, x.Status, x.Error, want)
	}
}

// runWindowNow runs a window now and waits for the run to end.
func runWindowNow(t *testing.T, c *client.Client, window string) api.WindowRunDetail {
	t.Helper()
	var run store.WindowRun
	if err := c.Do(context.Background(), "POST", "/api/v1/maintenance-windows/"+window+"/runs", nil, &run); err != nil {
		t.Fatal(err)
	}
	var d api.WindowRunDetail
	waitFor(t, 4*time.Minute, "window run "+run.ID+" ends", func() bool {
		return c.Do(context.Background(), "GET", "/api/v1/window-runs/"+run.ID, nil, &d) == nil && d.EndedAt != nil
	})
	return d
}
