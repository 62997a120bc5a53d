package content_test

import (
	osexec "os/exec"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
)

// collect-host-diagnostics only reads, so it runs for real here: on this
// machine (the exec action's local target), through the executor, and its
// report lands on the OpsItem with every section, whatever tools this
// machine lacks.
func TestCollectHostDiagnosticsRuns(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, exec.Options{AllowLocal: true})
	e, o := h.run(t, "collect-host-diagnostics", map[string]any{"top": 5, "since_minutes": 15}, "local")
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	if got := jsonOf(decode(t, e.Outputs)); got != `{"hosts":1,"reported":1}` {
		t.Errorf("outputs = %s", got)
	}
	reports := decode(t, o.OperationalData)["host_diagnostics"].([]any)
	if len(reports) != 1 {
		t.Fatalf("host_diagnostics = %s", jsonOf(reports))
	}
	r := reports[0].(map[string]any)
	report, _ := r["report"].(string)
	if r["host"] != "local" || r["status"] != runbook.StatusSucceeded {
		t.Errorf("report entry %s", jsonOf(r))
	}
	for _, section := range []string{"== host ==", "== uptime and load ==", "== memory (MiB) ==", "== disk space ==", "== inodes ==",
		"== top 5 processes by CPU ==", "== top 5 processes by memory ==", "== failed units ==", "== journal errors, last 15 minutes (newest 50) =="} {
		if !strings.Contains(report, section) {
			t.Errorf("report lacks %q:\n%s", section, report)
		}
	}
	// Five processes and the header under each top list.
	cpu := strings.SplitN(strings.SplitN(report, "== top 5 processes by CPU ==\n", 2)[1], "\n==", 2)[0]
	if lines := strings.Split(strings.TrimSpace(cpu), "\n"); len(lines) != 6 || !strings.Contains(lines[0], "PID") {
		t.Errorf("top by CPU:\n%s", cpu)
	}
}

// Every library script parses as a POSIX shell script (sh -n), so a
// syntax error is caught here, not on a host during an incident.
func TestLibraryScriptsParse(t *testing.T) {
	t.Parallel()
	_, lib := loadLibrary(t)
	n := 0
	for _, rb := range lib.List("") {
		for _, st := range rb.Steps {
			script, ok := st.Source.With["script"].(string)
			if st.Action != "exec" || !ok {
				continue
			}
			if strings.Contains(script, "${{") {
				t.Logf("%s/%s: the script embeds expressions; not checked", rb.Name, st.Name)
				continue
			}
			cmd := osexec.Command("/bin/sh", "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("runbook %s, step %s: %v\n%s", rb.Name, st.Name, err, out)
			}
			n++
		}
	}
	if n < 3 {
		t.Errorf("checked %d scripts; the library has more", n)
	}
}
