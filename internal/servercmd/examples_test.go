package servercmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// example is one line of a command's Example.
type example struct {
	cmd  string // the command's path, "flywheel runbook run"
	line string
}

// helpExamples collects every Example line of every command.
func helpExamples(root *cobra.Command) []example {
	var out []example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Example, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, example{c.CommandPath(), l})
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return out
}

// notRun are examples that start something this test must not: the agent
// itself, against servers or state directories that are not the test's.
// Their flags are still parsed. The agent does run here, from its own
// flags (see TestHelpExamples), and TestAgentCommands runs `agent run`.
var notRun = map[string]string{
	"flywheel agent run --server https://flywheel.example.com:8080 --enroll-token fwe_… --tags env=prod,role=web": "enrolls with a server on the internet",
	"flywheel agent run --state /var/lib/flywheel-agent":                                                          "runs an agent on the system state directory until stopped",
	"flywheel compliance scan --recorded testdata/aws/acme --json":                                                "reads the repository's recording (TestComplianceScan runs it)",
	"flywheel pack install mypack --dir ./mypack":                                                                 "needs a pack's folder (TestPackCommands installs docs/packs.md's example pack from one)",
	"flywheel compliance scan --recorded testdata/aws/acme --pack cis-aws-foundations-v3.0":                       "reads the repository's recording (TestComplianceScan runs it)",
	"flywheel aws inventory 123456789012":                                                                         "reads a real AWS account",
	"flywheel aws inventory --recorded testdata/aws/acme --json":                                                  "the recording is at the repository's root (TestAWSRecordedInventory runs it)",
}

// TestHelpExamples runs every `Example:` of every command against a whole
// server started in-process, with a real agent enrolled on this host: the
// placeholders (agt_…, oi_…, res_…, cand_…, fwe_…) become the IDs of
// objects the test made, `> FILE` writes stdout to FILE, and each must
// exit 0. An example naming a parameter a runbook does not have, a flag
// that does not exist or an ID form the server refuses fails here.
func TestHelpExamples(t *testing.T) {
	run, url := appServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(must("--json", "agent", "token", "create")), &tok); err != nil {
		t.Fatal(err)
	}
	must("tenant", "create", "acme")

	// A real agent on this host, run as `flywheel agent run` would.
	agentDone := make(chan int, 1)
	var agentLog syncBuffer
	go func() {
		agentDone <- Execute(ctx, []string{"agent", "run", "--server", url, "--enroll-token", tok.Token, "--state", t.TempDir(),
			"--hostname", "web-01", "--heartbeat", "1s", "--poll-wait", "1s", "--self-update=false"},
			Env{Stdout: &agentLog, Stderr: &agentLog, Lookup: func(string) (string, bool) { return "", false }})
	}()
	defer func() { cancel(); <-agentDone }()
	var agents []struct {
		ID         string `json:"id"`
		ResourceID string `json:"resource_id"`
		State      string `json:"state"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(agents) == 0 || agents[0].State != "reporting" {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not report: %+v\n%s", agents, agentLog.String())
		}
		time.Sleep(50 * time.Millisecond)
		_ = json.Unmarshal([]byte(must("--json", "agent", "list")), &agents)
	}

	// An OpsItem about the agent's host, from an event naming it.
	must("event", "send", "--title", "nginx down on web-01", "--severity", "high", "--resource", agents[0].ResourceID, "--source", "cron")
	var evs []struct {
		OpsItemID string `json:"opsitem_id"`
	}
	for len(evs) == 0 || evs[0].OpsItemID == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the event opened no OpsItem: %+v", evs)
		}
		time.Sleep(50 * time.Millisecond)
		_ = json.Unmarshal([]byte(must("--json", "event", "list", "--source", "generic:cron")), &evs)
	}
	o := struct{ ID string }{evs[0].OpsItemID}
	// A candidate: the same problem resolved by hand twice.
	for range 2 {
		var r struct{ ID string }
		json.Unmarshal([]byte(must("--json", "opsitem", "create", "--title", "nginx down on web-02")), &r)
		must("opsitem", "resolve", r.ID)
	}
	var cands []struct{ ID string }
	json.Unmarshal([]byte(must("--json", "automation", "candidates")), &cands)
	if len(cands) == 0 {
		t.Fatal("no automation candidate to draft from")
	}
	ids := map[string]string{"agt_…": agents[0].ID, "res_…": agents[0].ResourceID, "oi_…": o.ID, "cand_…": cands[0].ID, "fwe_…": tok.Token}

	dir := t.TempDir()
	exs := helpExamples(NewRoot(Env{}))
	if len(exs) < 20 {
		t.Fatalf("only %d examples found", len(exs))
	}
	for _, ex := range exs {
		words := shellWords(t, ex.line)
		if len(words) < 2 || words[0] != "flywheel" {
			t.Errorf("%s: example %q does not run flywheel", ex.cmd, ex.line)
			continue
		}
		// The example may name the command by an alias (flywheel window
		// is flywheel maintenance).
		if c, _, err := NewRoot(Env{}).Find(words[1:]); err != nil || c.CommandPath() != ex.cmd {
			t.Errorf("%s: example %q does not run %s", ex.cmd, ex.line, ex.cmd)
			continue
		}
		args, redirect := words[1:], ""
		if n := len(args); n >= 2 && args[n-2] == ">" {
			args, redirect = args[:n-2], filepath.Join(dir, args[n-1])
		}
		for i, w := range args {
			if id, ok := ids[w]; ok {
				args[i] = id
			} else if strings.Contains(w, "…") {
				t.Errorf("%s: placeholder %q has no value in this test", ex.line, w)
			} else if strings.HasPrefix(w, "ops/") { // --output paths
				args[i] = filepath.Join(dir, w)
			}
		}
		if why, skip := notRun[ex.line]; skip {
			c, rest, err := NewRoot(Env{}).Find(args)
			if err == nil {
				err = c.ParseFlags(rest)
			}
			if err != nil || c.CommandPath() != ex.cmd {
				t.Errorf("%s (not run: %s): %v", ex.line, why, err)
			}
			continue
		}
		if redirect != "" {
			os.MkdirAll(filepath.Dir(redirect), 0o755)
		}
		os.MkdirAll(filepath.Join(dir, "ops", "rules"), 0o755)
		out, errOut, code := run(args...)
		if code != 0 {
			t.Errorf("%s\n  exit %d\n%s%s", ex.line, code, out, errOut)
			continue
		}
		if redirect != "" {
			if err := os.WriteFile(redirect, []byte(out), 0o644); err != nil || !strings.Contains(out, "kind: Rule") {
				t.Errorf("%s: wrote %q: %v", ex.line, out, err)
			}
		}
	}
}
