package packaging

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// tourBuild is the tour's build line; the test builds the binary the same
// way once, into the tour's working directory.
const tourBuild = "go build -o flywheel ./cmd/flywheel"

// tourAddr is the tour's listen address; the test substitutes a free port.
const tourAddr = "127.0.0.1:8080"

// tourScript returns the shell block of README.md's "A five-minute tour".
func tourScript(t *testing.T, readme string) string {
	t.Helper()
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(text), "\n## A five-minute tour\n")
	if !ok {
		t.Fatal(`README.md has no "## A five-minute tour" section`)
	}
	firstLine := strings.Count(string(text), "\n") - strings.Count(after, "\n") + 1
	for _, b := range mdtest.Blocks(t, readme) {
		if b.Lang == "sh" && b.Line > firstLine {
			return b.Text()
		}
	}
	t.Fatal("the tour has no sh block")
	return ""
}

// TestReadmeTour runs the README's tour as written, in bash with errexit
// and pipefail, against the real server it starts: in an empty directory
// holding the binary (built as the tour's first line says) and the
// repository's examples/ and internal/ (the files the tour reads), with a
// free port in place of 8080 and no FLYWHEEL_* variables of the caller's.
func TestReadmeTour(t *testing.T) {
	t.Parallel()
	testenv.Program(t, "curl", "curl")
	root := moduleRoot(t)
	script := tourScript(t, filepath.Join(root, "README.md"))
	for _, want := range []string{tourBuild, tourAddr, "kill $FLYWHEEL_PID", "--fail-with-body", "@examples/"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the tour no longer contains %q; update this test with it", want)
		}
	}

	work := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(work, "flywheel"), "./cmd/flywheel")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tourBuild, err, out)
	}
	for _, dir := range []string{"examples", "internal"} {
		if err := os.Symlink(filepath.Join(root, dir), filepath.Join(work, dir)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	script = strings.Replace(script, tourBuild, "# (built by the test) "+tourBuild, 1)
	script = strings.ReplaceAll(script, tourAddr, addr)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "LANG=C.UTF-8"}
	// The server runs in the script's process group: a failed step must
	// not leave it behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err = cmd.Wait()
	log, _ := os.ReadFile(filepath.Join(work, "flywheel.log"))
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s\n--- flywheel.log:\n%s", err, out.String(), log)
	}
	got := out.String()
	for _, want := range []string{
		"healthy: http://" + addr + "/healthz",
		"Acme Corp",
		"the secret is shown only now",
		"Disk almost full on web-03",
		`"accepted":2`,                          // step 5: both alerts stored
		"still firing after its hold",           // step 5: the pipeline's decision
		"NodeFilesystemAlmostFull in prod-use1", // step 5: their OpsItem
		", 0 failed",                            // step 7: content test
		"enrollment token",                      // step 8
		`"received":`,                           // step 9: acme's noise figures
		"tenant.create",                         // step 10: acme's audit records
		"tenant acme:",                          // step 10: its chain verified
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the tour's output lacks %q", want)
		}
	}
	// The tour's alerts name hosts no agent runs on (by name and by
	// address): one summary OpsItem lists them, not one OpsItem per host.
	// (The event list shows each host's own event; the OpsItem list only
	// the summary.)
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "Host without an agent:") && !strings.Contains(line, "generic:fleet") {
			t.Errorf("the tour opened a per-host OpsItem: %s", line)
		}
	}
	if !strings.Contains(got, "Hosts without an agent") {
		t.Errorf("the tour's OpsItems do not list the hosts without an agent")
	}
	if t.Failed() {
		t.Logf("tour output:\n%s\n--- flywheel.log:\n%s", got, log)
	}
	if _, err := os.Stat(filepath.Join(work, "flywheel-data", "admin-token")); err != nil {
		t.Errorf("no admin token in the tour's data directory: %v", err)
	}
}
