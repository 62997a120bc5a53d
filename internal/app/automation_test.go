package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// TestOpsItemHosts: an OpsItem's host references resolve to agents' hosts
// (fleet.ResolveHost); unknown names of hosts are dropped, each with the
// reason; a host resource no agent runs on does not resolve; without any
// change, the executor's own targeting stays (nil).
func TestOpsItemHosts(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			st := sqlitetest.Open(t)
			return st
		},
		"postgres": func(t *testing.T) store.Store { return postgres.OpenTest(t) },
	} {
		t.Run(name, func(t *testing.T) { testOpsItemHosts(t, open(t)) })
	}
}

func testOpsItemHosts(t *testing.T, st store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	item := func(tx store.Tx, id string, refs ...store.OpsItemResource) error {
		if err := tx.CreateOpsItem(ctx, store.OpsItem{ID: id, TenantID: "acme", Title: id, Category: "monitoring", Severity: "high",
			Status: "open", Source: "alertmanager", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		for _, r := range refs {
			if err := tx.AddOpsItemResource(ctx, "acme", id, r); err != nil {
				return err
			}
		}
		return nil
	}
	host := func(name string) store.OpsItemResource { return store.OpsItemResource{Type: "host", ID: name} }
	err := st.InTx(ctx, func(tx store.Tx) error {
		for _, tn := range []string{"acme", "globex"} {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: tn, Name: tn, CreatedAt: now}); err != nil {
				return err
			}
		}
		for _, r := range []store.Resource{
			{ID: "res_web1", TenantID: "acme", Type: "host", Name: "web-1", AgentID: "agt_web1"},
			{ID: "res_twin_a", TenantID: "acme", Type: "host", Name: "twin", AgentID: "agt_twin_a"},
			{ID: "res_twin_b", TenantID: "acme", Type: "host", Name: "twin", AgentID: "agt_twin_b"},
			{ID: "res_noagent", TenantID: "acme", Type: "host", Name: "db-9"},
			{ID: "res_other", TenantID: "globex", Type: "host", Name: "db-1", AgentID: "agt_other"},
			{ID: "i-0123456789abcdef0", TenantID: "acme", Type: "ec2-instance", Name: "web-2"},
		} {
			r.CreatedAt, r.UpdatedAt = now, now
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return firstErr(
			// nodename and instance name the same host; the IP is unknown.
			item(tx, "oi_named", host("web-1"), host("10.0.3.41")),
			item(tx, "oi_ids", store.OpsItemResource{Type: "ec2-instance", ID: "i-0123456789abcdef0"}, host("web-1")),
			item(tx, "oi_unknown", host("web-9"), host("10.0.3.42")),
			item(tx, "oi_twins", host("twin")),
			item(tx, "oi_tenant", host("db-1")),
			item(tx, "oi_noagent", host("res_noagent")),
			item(tx, "oi_resolved", host("res_web1")),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want []string
		why  string
	}{
		{"oi_named", []string{"res_web1"}, `"10.0.3.41" is not the hostname`},
		// An EC2 instance no agent reports as its own is no host to run on.
		{"oi_ids", []string{"res_web1"}, `"i-0123456789abcdef0" is not the hostname`},
		{"oi_unknown", []string{}, `"web-9" is not the hostname`},
		{"oi_twins", []string{}, `"twin" matches 2 agents' hosts`}, // no guess
		{"oi_tenant", []string{}, `"db-1" is not`},                 // another tenant's host is not found
		{"oi_noagent", []string{}, `"res_noagent" is not`},
		{"oi_resolved", nil, ""}, // nothing to change
	} {
		var got, why []string
		err := st.InTx(ctx, func(tx store.Tx) error {
			refs, err := tx.ListOpsItemResources(ctx, "acme", tc.id)
			if err != nil {
				return err
			}
			got, why, err = hostRunbooks{}.resolveTargets(ctx, tx, "acme", refs, false)
			return err
		})
		slices.Sort(got)
		if err != nil || !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) || !strings.Contains(strings.Join(why, "\n"), tc.why) || (tc.why == "" && len(why) > 0) {
			t.Errorf("%s: %q %q, %v; want %q and a reason %q", tc.id, got, why, err, tc.want, tc.why)
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestRuleBreakerThroughExecutor: the server's executor reports how the
// runs a rule started end to the rule engine — a failed run opens the
// rule's breaker for its target group (an OpsItem says so), and the rule
// still runs for other groups. Posted alerts go the whole way: intake,
// pipeline, rule, execution on the job queue, result.
func TestRuleBreakerThroughExecutor(t *testing.T) {
	contentDir := t.TempDir()
	for name, doc := range breakerContent {
		p := filepath.Join(contentDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken, ContentDir: contentDir}, &bytes.Buffer{})
	base := "http://" + a.Addr()
	c := client.New(base, testAdminToken)
	ctx := context.Background()
	fire := func(ns string) string {
		t.Helper()
		body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},
			"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"AlwaysBroken","namespace":%q,"severity":"critical"},
			"annotations":{},"startsAt":"2026-03-10T14:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"%016x"}]}`, ns, len(ns))
		if code, out := post(t, base+"/api/v1/intake/alertmanager", "application/json", strings.NewReader(body)); code != 200 {
			t.Fatalf("webhook: %d %s", code, out)
		}
		var id string
		waitFor(t, 30*time.Second, "OpsItem for "+ns, func() bool {
			var l api.List[store.OpsItem]
			if err := c.Do(ctx, "GET", "/api/v1/opsitems?limit=500", nil, &l); err != nil {
				t.Fatal(err)
			}
			for _, o := range l.Items {
				if o.Title == "AlwaysBroken ("+ns+")" {
					id = o.ID
				}
			}
			return id != ""
		})
		return id
	}
	executions := func(opsItem string) []store.Execution {
		var l api.List[store.Execution]
		if err := c.Do(ctx, "GET", "/api/v1/executions?opsitem="+opsItem, nil, &l); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	// The first failure on ns-a opens the breaker for ns-a only
	// (failures: 1)...
	idA := fire("ns-a")
	waitFor(t, 60*time.Second, "the rule's run on ns-a failed", func() bool {
		exs := executions(idA)
		return len(exs) == 1 && exs[0].Status == "failed" && exs[0].Rule == "always-broken"
	})
	var breaker store.OpsItem
	waitFor(t, 30*time.Second, "breaker OpsItem", func() bool {
		var l api.List[store.OpsItem]
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?category=operations&limit=500", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Items {
			if o.Title == "Automation rule always-broken disabled for ns-a after 1 failures" {
				breaker = o
			}
		}
		return breaker.ID != ""
	})
	// ... so the same rule still runs for another target group.
	idB := fire("ns-bb")
	waitFor(t, 60*time.Second, "the rule's run on ns-bb", func() bool {
		exs := executions(idB)
		return len(exs) == 1 && exs[0].Rule == "always-broken"
	})
	var rel api.Related
	if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+idB+"/related", nil, &rel); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rel.Timeline, func(e store.TimelineEntry) bool { return strings.Contains(e.Message, "breaker-open") }) {
		t.Errorf("ns-a's breaker held the rule back on ns-bb: %+v", rel.Timeline)
	}
	var breakers api.List[api.BreakerView]
	waitFor(t, 30*time.Second, "both groups' breakers open", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/rules/breakers", nil, &breakers); err != nil {
			t.Fatal(err)
		}
		return len(breakers.Items) == 2 && breakers.Items[0].Open && breakers.Items[1].Open
	})

	// The CLI lists them; the API resets ns-a's; the CLI resets the rest.
	bin := flywheelBinary(t)
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--server", base, "--token", testAdminToken)...).CombinedOutput()
		if err != nil {
			t.Fatalf("flywheel %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := cli("rule", "breaker", "list"); !regexp.MustCompile(`always-broken\s+ns-a\s+open since `).MatchString(out) ||
		!regexp.MustCompile(`always-broken\s+ns-bb\s+open since `).MatchString(out) {
		t.Errorf("rule breaker list:\n%s", out)
	}
	var res api.BreakerResetResult
	if err := c.Do(ctx, "POST", "/api/v1/rules/always-broken/breaker/reset", api.BreakerReset{Group: "ns-a"}, &res); err != nil || res.Closed != 1 {
		t.Fatalf("API reset of ns-a: %+v, %v", res, err)
	}
	if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+breaker.ID, nil, &breaker); err != nil || breaker.Status != "resolved" || breaker.ResolvedBy == "" ||
		strings.HasPrefix(breaker.ResolvedBy, "automation:") {
		t.Errorf("ns-a's breaker OpsItem after the reset: %s by %q (%v)", breaker.Status, breaker.ResolvedBy, err)
	}
	if out := cli("rule", "breaker", "reset", "always-broken"); !strings.Contains(out, "rule always-broken: 1 breaker(s) reset") {
		t.Errorf("rule breaker reset:\n%s", out)
	}
	if out := cli("rule", "breaker", "list"); !strings.Contains(out, "no breaker is open") {
		t.Errorf("after the resets:\n%s", out)
	}
	if err := c.Do(ctx, "POST", "/api/v1/rules/no-such-rule/breaker/reset", nil, nil); err == nil || !strings.Contains(err.Error(), `rule "no-such-rule" not found`) {
		t.Errorf("reset of an unknown rule: %v", err)
	}
	var audit api.List[store.AuditRecord]
	if err := c.Do(ctx, "GET", "/api/v1/audit?action=rule.breaker&limit=50", nil, &audit); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range audit.Items {
		actions = append(actions, r.Actor+" "+r.Action)
	}
	for _, want := range []string{"rule.breaker.reset", "rule.breaker.close"} {
		n := 0
		for _, a := range actions {
			if strings.HasSuffix(a, want) && !strings.HasPrefix(a, "rule:") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d %s records by a person, want 2: %q", n, want, actions)
		}
	}
}

// breakerContent is a runbook that always fails and a rule that runs it.
var breakerContent = map[string]string{
	"runbooks/always-fails.yaml": `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: always-fails, description: Fails at its only step}
spec:
  steps:
    - name: check
      action: assert
      with: {that: "false", message: "broken on purpose"}
`,
	"rules/always-broken.yaml": `apiVersion: flywheel/v1
kind: Rule
metadata: {name: always-broken}
spec:
  when: event.labels[?"alertname"].orValue("") == "AlwaysBroken"
  then: {runbook: always-fails, mode: auto}
  circuit_breaker: {failures: 1}
`,
}
