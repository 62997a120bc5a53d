package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

var hostT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// hostPack evaluates the built-in linux-host-baseline pack over hosts and
// returns each rule's status per host id.
func hostPack(t *testing.T, hosts ...store.Resource) (map[string]map[string]compliance.Finding, *compliance.Library) {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	var packs []*compliance.Pack
	for _, p := range lib.Packs("") {
		if p.Name == "linux-host-baseline" {
			packs = append(packs, p)
		}
	}
	if len(packs) != 1 {
		t.Fatal("no linux-host-baseline pack")
	}
	var subjects []compliance.Subject
	for _, h := range hosts {
		s, err := compliance.Prepare(h)
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, s)
	}
	out := map[string]map[string]compliance.Finding{}
	for _, f := range compliance.NewPlan(packs).Evaluate(subjects).Findings(nil, hostT0) {
		if out[f.Rule.Name] == nil {
			out[f.Rule.Name] = map[string]compliance.Finding{}
		}
		out[f.Rule.Name][f.Resource.ID] = f
	}
	return out, lib
}

// TestLinuxHostRules: every rule of the host pack over three recorded
// hosts and a host with none of the sections (testdata/linux-hosts: README.md says where each came from and
// what CIS asks of each setting), with the status each must get.
func TestLinuxHostRules(t *testing.T) {
	t.Parallel()
	var hosts []store.Resource
	names := []string{"hardened", "debian-12-container", "weak", "bare"}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata/linux-hosts", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, store.Resource{ID: name, Type: "host", Name: name, Config: b, AgentID: "ag_" + name})
	}
	got, _ := hostPack(t, hosts...)
	const C, NC, NA = compliance.Compliant, compliance.NonCompliant, compliance.NotApplicable
	want := map[string][4]compliance.Status{ // hardened, debian-12-container, weak, bare
		"linux-sshd-root-login-disabled":      {C, NC, C, NA},
		"linux-sshd-max-auth-tries":           {C, NC, C, NA},
		"linux-sshd-empty-passwords-disabled": {C, C, NC, NA},
		"linux-sshd-x11-forwarding-disabled":  {C, NC, C, NA},
		"linux-sshd-config-permissions":       {C, NC, C, NA},
		"linux-shadow-permissions":            {C, C, NC, NA},
		"linux-passwd-permissions":            {C, C, NC, NA},
		"linux-single-uid0":                   {C, C, NC, NA},
		"linux-auditd-active":                 {C, NA, NC, NA},
		"linux-unattended-upgrades":           {C, NC, NC, NA},
		"linux-time-sync":                     {C, NA, NC, NA},
		"linux-ip-forwarding-disabled":        {C, C, NC, NA},
		"linux-icmp-redirects-ignored":        {C, NC, NC, NA},
		"linux-tcp-syncookies":                {C, C, NC, NA},
		"linux-aslr-enabled":                  {C, C, NC, NA},
		"linux-suid-dumpable-off":             {C, C, NC, NA},
	}
	if len(got) != len(want) {
		t.Errorf("the pack has %d rules, the table %d", len(got), len(want))
	}
	for rule, statuses := range want {
		for i, host := range names {
			f := got[rule][host]
			if f.Status != statuses[i] {
				t.Errorf("%s on %s: %s (%s), want %s", rule, host, f.Status, f.Annotation, statuses[i])
			}
			if f.Status == NC && (f.Annotation == "" || strings.HasPrefix(f.Annotation, "annotation:")) {
				t.Errorf("%s on %s: annotation %q", rule, host, f.Annotation)
			}
		}
	}
}

// TestLinuxHostRemediation is the host pack on a real host: this
// machine's sshd (sshd -T) reads a configuration under a temporary root
// where a violation is introduced; the inventory collector finds it, the
// rule's own remediation runbook runs through the executor on this
// machine, and the re-collected inventory is compliant.
func TestLinuxHostRemediation(t *testing.T) {
	testenv.Program(t, "openssh-server", "sshd")
	// sshd -t and -T refuse to run without the privilege separation
	// directory sshd's service creates at start.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		testenv.Absent(t, "cannot create /run/sshd: %v", err)
	}
	ctx := context.Background()
	root := t.TempDir()
	for name, body := range map[string]string{
		"etc/ssh/sshd_config": "# the violations: root logins allowed, a world-readable file\nPermitRootLogin yes\nX11Forwarding no\n",
		"etc/passwd":          "root:x:0:0:root:/root:/bin/bash\n",
		"etc/shadow":          "root:*:20000:0:99999:7:::\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "etc/shadow"), 0o640); err != nil {
		t.Fatal(err)
	}
	host := func() store.Resource {
		cfg, err := json.Marshal(agent.CollectSecurity(ctx, root))
		if err != nil {
			t.Fatal(err)
		}
		return store.Resource{ID: "local", Type: "host", Name: "local", Config: cfg, AgentID: "ag_local"}
	}
	before, lib := hostPack(t, host())
	for _, rule := range []string{"linux-sshd-root-login-disabled", "linux-sshd-config-permissions"} {
		if f := before[rule]["local"]; f.Status != compliance.NonCompliant {
			t.Fatalf("%s before: %s (%s), want NON_COMPLIANT", rule, f.Status, f.Annotation)
		}
	}
	if f := before["linux-shadow-permissions"]["local"]; f.Status != compliance.Compliant {
		t.Errorf("shadow 0640: %s (%s)", f.Status, f.Annotation)
	}

	h := newHarnessWith(t, nil, exec.Options{AllowLocal: true})
	for _, rule := range []string{"linux-sshd-root-login-disabled", "linux-sshd-config-permissions"} {
		f := before[rule]["local"]
		r, _ := lib.Rule(rule)
		params, err := r.RemediationParams(f.Resource, f.Params)
		if err != nil {
			t.Fatal(err)
		}
		if params["root"] != root {
			t.Fatalf("%s remediation parameters %v: the root is the inventory's", rule, params)
		}
		e, _ := h.run(t, r.Remediation.Runbook, params, "local")
		if e.Status != runbook.StatusSucceeded {
			t.Fatalf("%s: %s %s: %s\nsteps: %v", rule, r.Remediation.Runbook, e.Status, e.Error, h.steps(t, e))
		}
	}

	after, _ := hostPack(t, host())
	for _, rule := range []string{"linux-sshd-root-login-disabled", "linux-sshd-config-permissions", "linux-sshd-x11-forwarding-disabled", "linux-shadow-permissions"} {
		if f := after[rule]["local"]; f.Status != compliance.Compliant {
			t.Errorf("%s after remediation: %s (%s)", rule, f.Status, f.Annotation)
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "etc/ssh/sshd_config"))
	if !strings.HasPrefix(string(b), "# set by Flywheel (host-sshd-setting)\nPermitRootLogin no\n") || !strings.Contains(string(b), "PermitRootLogin yes") {
		t.Errorf("sshd_config after: %q (the setting first, the old lines kept)", b)
	}
}

// TestSSHDSettingConcurrentRuns: several host-sshd-setting runs on one
// host at once (a scan finds several sshd violations and remediates them
// together) each keep their setting. The runbook's own script runs with
// the machine's real sshd, six copies at once, over one configuration.
func TestSSHDSettingConcurrentRuns(t *testing.T) {
	testenv.Program(t, "openssh-server", "sshd")
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		testenv.Absent(t, "cannot create /run/sshd: %v", err)
	}
	raw, err := builtin.FS.ReadFile("runbooks/host-sshd-setting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Steps []struct {
				With struct {
					Script string `yaml:"script"`
				} `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Spec.Steps) == 0 || doc.Spec.Steps[0].With.Script == "" {
		t.Fatalf("host-sshd-setting: no script in its first step (%v)", err)
	}
	script := doc.Spec.Steps[0].With.Script
	root := t.TempDir()
	cfg := filepath.Join(root, "etc/ssh/sshd_config")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("PermitRootLogin yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Settings and values from sshd_config(5).
	settings := [][2]string{{"PermitRootLogin", "no"}, {"MaxAuthTries", "4"}, {"X11Forwarding", "no"},
		{"PermitEmptyPasswords", "no"}, {"LoginGraceTime", "60"}, {"MaxSessions", "5"}}
	errs := make(chan error, len(settings))
	for _, s := range settings {
		go func() {
			cmd := osexec.Command("/bin/sh", "-c", script)
			cmd.Env = append(os.Environ(), "SETTING="+s[0], "VALUE="+s[1], "ROOT="+root)
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%s %s: %v: %s", s[0], s[1], err, out)
			}
			errs <- err
		}()
	}
	for range settings {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	out, err := osexec.Command("sshd", "-T", "-f", cfg).Output()
	if err != nil {
		t.Fatalf("sshd -T: %v", err)
	}
	effective := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			effective[k] = v
		}
	}
	for _, s := range settings {
		if got := effective[strings.ToLower(s[0])]; got != s[1] {
			t.Errorf("%s is %q after the runs, want %q", s[0], got, s[1])
		}
	}
	left, _ := filepath.Glob(cfg + ".flywheel-*")
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
