package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/config"
)

// TestContentReloadCommand: `flywheel content reload` reloads a running
// server's content through the API (a runbook written after the start is
// then served) and prints the generation; content that does not load
// exits non-zero with the problem named.
func TestContentReloadCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run, _ := appServerWith(t, config.Config{ContentDir: dir})
	if _, _, code := run("runbook", "show", "hello"); code == 0 {
		t.Fatal("runbook hello shown before it was written")
	}
	write := func(name, yaml string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.yaml", `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: hello, description: Say hello}
spec:
  steps:
    - name: hi
      action: collect
      with: {name: greeting, value: "'hello'"}
`)
	out, errOut, code := run("content", "reload")
	if code != 0 || !strings.HasPrefix(out, "content generation 1: ") || !strings.Contains(out, "digest ") {
		t.Fatalf("content reload: exit %d, out %q, err %q", code, out, errOut)
	}
	if out, errOut, code := run("runbook", "show", "hello"); code != 0 || !strings.Contains(out, "hello") {
		t.Errorf("runbook show hello after the reload: exit %d, out %q, err %q", code, out, errOut)
	}
	write("broken.yaml", "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: broken}\nspec:\n  steps:\n    - {name: x, action: no-such-action}\n")
	if out, errOut, code := run("content", "reload"); code == 0 || !strings.Contains(errOut, "broken.yaml") {
		t.Errorf("reload of broken content: exit %d, out %q, err %q; want a failure naming broken.yaml", code, out, errOut)
	}
}
