package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// installedBinary is where the units expect the flywheel binary.
const installedBinary = "/usr/local/bin/flywheel"

// TestSystemdUnits runs `systemd-analyze verify` (Debian package systemd)
// on the server's and the agent's units; any message — an unknown key, a
// bad value — fails. verify also checks that ExecStart's program exists,
// so the units are verified as copies whose binary path points at an
// executable that exists here (this test's own binary: verify only checks
// that it can be executed); nothing else is changed.
func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	analyze := testenv.Program(t, "systemd", "systemd-analyze")
	root := moduleRoot(t)
	dir := t.TempDir()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	units, _ := filepath.Glob(filepath.Join(root, "packaging", "*.service"))
	names := make([]string, 0, len(units))
	for _, u := range units {
		names = append(names, filepath.Base(u))
	}
	for _, want := range []string{"flywheel.service", "flywheel-agent.service"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("packaging/%s is missing", want)
		}
	}
	for _, u := range units {
		text, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "ExecStart="+installedBinary+" ") {
			t.Errorf("%s: ExecStart does not run %s", filepath.Base(u), installedBinary)
		}
		copyPath := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(text), installedBinary, bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(u), err, out)
		}
	}
}

// TestServerUnitHardening keeps the server unit's sandbox: a user of its
// own, no privileges, a read-only system but for its state directory.
func TestServerUnitHardening(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(filepath.Join(moduleRoot(t), "packaging", "flywheel.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DynamicUser=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "ProtectSystem=strict",
		"ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "StateDirectory=flywheel",
		"RestrictAddressFamilies=", "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("flywheel.service lacks %q", strings.TrimSpace(want))
		}
	}
}
