package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestAgentCommands drives the agent management commands against a real
// API: a token, an enrollment with it, list, show, exec and revoke.
func TestAgentCommands(t *testing.T) {
	ctx := context.Background()
	srv, admin := agentTestAPI(t)
	run := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := Execute(ctx, append([]string{"--server", srv.URL, "--token", admin}, args...),
			Env{Stdout: &out, Stderr: &errb, Lookup: func(string) (string, bool) { return "", false }})
		return out.String() + errb.String(), code
	}

	if out, code := run("agent", "token", "create", "--tags", "nope"); code != 2 || !strings.Contains(out, "KEY=VALUE") {
		t.Errorf("bad tags: %d %s", code, out)
	}
	out, code := run("agent", "token", "create", "--expires-in", "1h", "--tags", "env=prod,role=web", "--json")
	var tok api.CreatedEnrollToken
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || !strings.HasPrefix(tok.Token, wire.EnrollTokenPrefix) || tok.Tags["role"] != "web" {
		t.Fatalf("token create: %d %s", code, out)
	}
	if out, _ := run("agent", "token", "create"); !strings.Contains(out, "flywheel agent run --server "+srv.URL+" --enroll-token fwe_") {
		t.Errorf("token create does not say how to enroll: %s", out)
	}
	if out, _ := run("agent", "token", "list"); !strings.Contains(out, tok.ID) || strings.Contains(out, tok.Token) {
		t.Errorf("token list: %s", out)
	}

	// Enroll as an agent would, then manage it.
	var er wire.EnrollResponse
	if err := postJSON(srv.URL+wire.PathEnroll, wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: "web-7", Version: "v1"}}, &er); err != nil {
		t.Fatal(err)
	}
	if out, _ := run("agent", "list"); !strings.Contains(out, er.AgentID) || !strings.Contains(out, "web-7") || !strings.Contains(out, "pending") ||
		!strings.Contains(out, "env=prod,role=web") {
		t.Errorf("agent list: %s", out)
	}
	if out, _ := run("--json", "agent", "show", er.AgentID); !strings.Contains(out, `"hostname": "web-7"`) {
		t.Errorf("agent show --json: %s", out)
	}
	if out, _ := run("agent", "show", er.AgentID); !strings.Contains(out, "Host:") || !strings.Contains(out, "web-7") || !strings.Contains(out, "State:") || strings.Contains(out, `"hostname"`) {
		t.Errorf("agent show (human): %s", out)
	}
	if out, code := run("agent", "exec", er.AgentID, "--", "uptime"); code != 0 || !strings.HasPrefix(out, "cmd_") {
		t.Errorf("agent exec: %d %s", code, out)
	}
	if out, code := run("agent", "revoke", er.AgentID); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("agent revoke: %d %s", code, out)
	}
	if out, code := run("agent", "exec", er.AgentID, "--", "uptime"); code == 0 || !strings.Contains(out, "revoked") {
		t.Errorf("exec on a revoked agent: %d %s", code, out)
	}
	// The agent itself: a spent token is refused with the exit code the
	// systemd unit does not restart on.
	if out, code := run("agent", "run", "--enroll-token", tok.Token, "--state", t.TempDir(), "--hostname", "web-8"); code != ExitCredentialRejected {
		t.Errorf("agent run with a spent token: %d %s", code, out)
	}
}

// agentTestAPI serves the API over a fresh SQLite store with tenant acme
// and returns an admin token of it.
func agentTestAPI(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	st, admin := tenantStore(t, store.RoleAdmin)
	srv := httptest.NewServer(api.New(api.Options{Store: st}))
	t.Cleanup(srv.Close)
	return srv, admin
}

func postJSON(url string, in, out any) error {
	b, _ := json.Marshal(in)
	resp, err := httpPost(url, b)
	if err != nil {
		return err
	}
	return json.Unmarshal(resp, out)
}

func httpPost(url string, body []byte) ([]byte, error) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
