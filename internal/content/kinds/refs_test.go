package kinds

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/content"
)

const refRule = `apiVersion: flywheel/v1
kind: Rule
metadata:
  name: %s
spec:
  when: event.kind == "alert"
  then:
    runbook: %s
    mode: suggest
`

const userRunbook = `apiVersion: flywheel/v1
kind: Runbook
metadata:
  name: drain-node
spec:
  steps:
    - name: note
      action: opsitem
      with: {note: drained}
`

// TestRuleRunbookRefs: a rule must name a runbook that exists in the
// library or in the user's content; one that exists nowhere fails
// validation (and so server start) with its file and line.
func TestRuleRunbookRefs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("library.yaml", fmt.Sprintf(refRule, "uses-library", "restart-service"))
	write("runbook.yaml", userRunbook)
	write("user.yaml", fmt.Sprintf(refRule, "uses-user", "drain-node"))
	if _, err := content.Validate(NewRegistry(), dir); err != nil {
		t.Fatalf("rules naming a library and a user runbook: %v", err)
	}

	write("typo.yaml", "# a comment first\n"+fmt.Sprintf(refRule, "typo", "restart-servce"))
	_, err := content.Validate(NewRegistry(), dir)
	want := []string{dir + `/typo.yaml:2: Rule "typo": spec.then.runbook: no Runbook named "restart-servce"`}
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
}
