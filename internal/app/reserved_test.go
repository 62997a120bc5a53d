package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestIntakeReservedSources posts, with an intake token, events that only
// Flywheel may raise — source fleet, fingerprints in its own namespaces —
// to the real server: each delivery is a 400 naming the problem and
// nothing is stored; an ordinary event from the same token is accepted.
func TestIntakeReservedSources(t *testing.T) {
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken}, &bytes.Buffer{})
	base := "http://" + a.Addr()
	admin := client.New(base, testAdminToken)
	var tok api.CreatedToken
	if err := admin.Do(context.Background(), "POST", "/api/v1/tokens", api.TokenInput{Name: "sender", Role: store.RoleIntake}, &tok); err != nil {
		t.Fatal(err)
	}
	send := func(source, body string) (int, string) {
		return rawCall(t, "POST", base+"/api/v1/intake/"+source, "Bearer "+tok.Secret, "application/json", strings.NewReader(body))
	}
	for _, c := range []struct{ source, body, want string }{
		{"generic", `{"source":"fleet","title":"Agent not reporting: web-01","status":"resolved"}`, `source \"generic:fleet\" is reserved`},
		{"generic", `[{"title":"ok"},{"title":"x","fingerprint":"agent-not-reporting:ag_1","status":"resolved"}]`, `event 1: fingerprint \"agent-not-reporting:ag_1\" is in Flywheel's own namespace`},
		{"generic", `{"title":"x","fingerprint":"Host-Without-Agent:web-09"}`, `own namespace \"host-without-agent:\"`},
		{"generic", `{"title":"x","fingerprint":"service-stopped:ag_1:nginx.service"}`, `own namespace \"service-stopped:\"`},
	} {
		if code, body := send(c.source, c.body); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %s", c.source, c.body, code, body, c.want)
		}
	}
	if n, _ := a.Store().CountUnprocessedIntake(context.Background()); n != 0 {
		t.Errorf("refused deliveries were stored: %d", n)
	}
	// The sender's own flywheel_sender label is replaced by its token.
	if code, body := send("generic", `{"source":"nagios","title":"disk full on web-01","labels":{"flywheel_sender":"token:tok_someone_else"}}`); code != 200 {
		t.Fatalf("an ordinary event: %d %s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var l struct{ Items []store.Event }
		if err := admin.Do(context.Background(), "GET", "/api/v1/events?source=generic:nagios", nil, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) > 0 {
			if got := l.Items[0].Labels[event.SenderLabel]; got != "token:"+tok.ID {
				t.Errorf("stored event's %s = %q, want token:%s", event.SenderLabel, got, tok.ID)
			}
			// Its fingerprint is in its source's namespace.
			if fp := l.Items[0].Fingerprint; !strings.HasPrefix(fp, "generic:nagios/") || len(fp) <= len("generic:nagios/") {
				t.Errorf("stored event's fingerprint %q is not in its source's namespace", fp)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ordinary event was not stored within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostCommandRunbooks runs built-in runbooks by hand on the real
// server: one with exec steps (restart-service) needs the host-commands
// permission unless it is a dry run; one without (collect-diagnostics-
// and-escalate, which nests a notifying runbook) does not.
func TestHostCommandRunbooks(t *testing.T) {
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken}, &bytes.Buffer{})
	base := "http://" + a.Addr()
	admin := client.New(base, testAdminToken)
	ctx := context.Background()
	var plain, granted api.CreatedToken
	if err := admin.Do(ctx, "POST", "/api/v1/tokens", api.TokenInput{Name: "on-call", Role: store.RoleOperator}, &plain); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "POST", "/api/v1/tokens", api.TokenInput{Name: "runner", Role: store.RoleOperator,
		Allow: []store.Permission{store.PermHostCommands}}, &granted); err != nil {
		t.Fatal(err)
	}
	restart := api.RunInput{Parameters: map[string]any{"unit": "nginx"}, Targets: []string{"web-01"}}
	err := client.New(base, plain.Secret).Do(ctx, "POST", "/api/v1/runbooks/restart-service/executions", restart, nil)
	if err == nil || !strings.Contains(err.Error(), "runbook restart-service runs commands on hosts") || !strings.Contains(err.Error(), "403") {
		t.Errorf("operator without host-commands: %v", err)
	}
	dry := restart
	dry.DryRun = true
	if err := client.New(base, plain.Secret).Do(ctx, "POST", "/api/v1/runbooks/restart-service/executions", dry, nil); err != nil && strings.Contains(err.Error(), "403") {
		t.Errorf("a dry run: %v", err)
	}
	for _, c := range []struct {
		secret, runbook string
		in              api.RunInput
	}{
		{granted.Secret, "restart-service", restart},
		{testAdminToken, "restart-service", restart},
		{plain.Secret, "collect-diagnostics-and-escalate", api.RunInput{Parameters: map[string]any{"reason": "x"}}},
	} {
		if err := client.New(base, c.secret).Do(ctx, "POST", "/api/v1/runbooks/"+c.runbook+"/executions", c.in, nil); err != nil && strings.Contains(err.Error(), "403") {
			t.Errorf("%s: %v", c.runbook, err)
		}
	}
}

// rawCall sends a request with the Authorization header authz (none when
// empty) and returns the status and body.
func rawCall(t *testing.T, method, url, authz, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Content-Type", contentType)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
