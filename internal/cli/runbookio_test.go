package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

const ioRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: report}
spec:
  targets: {resources: [local]}
  steps:
    - {name: look, action: exec, with: {script: "echo 'Filesystem 91% /var'; echo 'du: cannot read /var/lib/secret' >&2"}}
    - {name: pause, action: sleep, with: {duration: 300ms}}
    - {name: verify, action: assert, with: {that: "true"}}
`

// TestRunbookCommandOutput: runbook logs prints what a command printed
// (not only "stdout 20 B"); run --wait shows each step's progress as it
// goes; a dry run is marked as one in runbook executions.
func TestRunbookCommandOutput(t *testing.T) {
	t.Parallel()
	actions := registry.New(registry.Options{Exec: exec.Options{AllowLocal: true}}).Get
	run := runbookServerWith(t, ioRunbooks, actions)

	out, progress, err := run("runbook", "run", "report", "--wait")
	if err != nil || !strings.Contains(out, "succeeded") {
		t.Fatalf("run --wait: %v\n%s\n%s", err, out, progress)
	}
	for _, want := range []string{"[1/3] look: succeeded", "[2/3] pause: ", "[3/3] verify: succeeded"} {
		if !strings.Contains(progress, want) {
			t.Errorf("--wait progress lacks %q:\n%s", want, progress)
		}
	}
	id := strings.Fields(out)[1]
	id = strings.TrimSuffix(id, ":")
	logs, _, err := run("runbook", "logs", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"==> look [local]: succeeded", "stdout 20 B", "--- stdout\nFilesystem 91% /var\n", "--- stderr\ndu: cannot read /var/lib/secret\n"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	if _, _, err := run("runbook", "dry-run", "report"); err != nil {
		t.Fatal(err)
	}
	var list string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		list, _, _ = run("runbook", "executions")
		if strings.Count(list, "report") == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "(dry run)") || strings.Contains(lines[2], "(dry run)") {
		t.Errorf("executions: want the dry run marked and the real run not:\n%s", list)
	}
}
