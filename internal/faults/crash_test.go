package faults

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
)

// contentDir is the tests' content: the append-steps runbook.
func contentDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("testdata/content")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startAppend starts append-steps with key on the agents tagged for it.
func startAppend(t testing.TB, c *client.Client, file, key, pause string) string {
	t.Helper()
	var e struct{ ID string }
	in := api.RunInput{Parameters: map[string]any{"file": file, "key": key, "pause": pause}}
	if err := c.Do(context.Background(), "POST", "/api/v1/runbooks/append-steps/executions", in, &e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// waitExecution waits until execution id is terminal and returns it.
func waitExecution(t testing.TB, c *client.Client, id string, within time.Duration) api.ExecutionView {
	t.Helper()
	var e api.ExecutionView
	poll(t, within, "execution "+id+" to end", func() bool {
		e = api.ExecutionView{}
		if err := c.Do(context.Background(), "GET", "/api/v1/executions/"+id, nil, &e); err != nil {
			return false
		}
		for _, s := range runbook.TerminalStatuses {
			if e.Status == s {
				return true
			}
		}
		return false
	})
	return e
}

// executionLease is the servers' execution lease in these tests: a killed
// server's run is taken up this long after its last renewal.
const executionLease = "2s"

// TestKillDuringExecution is the process-level crash of an execution on
// each driver: the real server, with a real agent, is killed with SIGKILL
// once between two steps (during a sleep) and once while a step that is
// not idempotent runs on the agent; restarted on the same data, each
// execution resumes and ends, and no step's line is in the file twice.
func TestKillDuringExecution(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			db := ""
			if driver == "postgres" {
				db = postgres.TestDatabase(t)
			}
			s := startServer(t, "server", t.TempDir(), db, contentDir(t), "FLYWHEEL_EXECUTION_LEASE="+executionLease)
			c := s.client()
			startAgent(t, c, "http://"+s.addr, "crash-host", map[string]string{"faults": "yes"})
			waitAgent(t, c, "crash-host", 60*time.Second)
			file := filepath.Join(t.TempDir(), "steps.log")

			// Between steps: the first step is done, the sleep runs.
			between := startAppend(t, c, file, "between", "5s")
			poll(t, 60*time.Second, "the first step's line", func() bool { return countLines(t, file)["between first"] == 1 })
			// The line is written on the agent before the server records the
			// step's end; kill only once the server has (on a loaded machine
			// the gap is long enough to kill in).
			poll(t, 60*time.Second, "the first step to be recorded as done", func() bool {
				var e api.ExecutionView
				if err := c.Do(context.Background(), "GET", "/api/v1/executions/"+between, nil, &e); err != nil {
					return false
				}
				for _, st := range e.Steps {
					if st.Name == "first" && st.TargetID == "" {
						return st.Status == runbook.StatusSucceeded
					}
				}
				return false
			})
			s.kill()
			s.restart(t)
			e := waitExecution(t, c, between, 90*time.Second)
			if e.Status != runbook.StatusSucceeded {
				t.Errorf("execution killed between steps: %s %q\n%+v", e.Status, e.Error, e.Steps)
			}

			// During a step: the second step has started on the agent.
			during := startAppend(t, c, file, "during", "1s")
			poll(t, 60*time.Second, "the second step to start", func() bool { return countLines(t, file)["during second-start"] == 1 })
			s.kill()
			s.restart(t)
			e = waitExecution(t, c, during, 90*time.Second)
			steps := map[string]string{}
			for _, st := range e.Steps {
				steps[st.Name] = st.Status + " " + st.Error
			}
			if e.Status != runbook.StatusSucceeded || steps["second"] != "failed interrupted; not re-run because the step is not idempotent" {
				t.Errorf("execution killed during a step: %s %q, steps %q", e.Status, e.Error, steps)
			}

			lines := countLines(t, file)
			for _, k := range []string{"between", "during"} {
				for _, step := range []string{"first", "second-start", "third"} {
					if n := lines[k+" "+step]; n != 1 {
						t.Errorf("%s %s ran %d times, want once (file: %v)", k, step, n, lines)
					}
				}
			}
			if n := lines["between second-end"]; n != 1 {
				t.Errorf("between: the second step ended %d times, want once", n)
			}
			t.Logf("%s: lines %v", driver, lines)
		})
	}
}
