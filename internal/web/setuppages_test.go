package web

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// setupEnv is newEnv's data plus a rule engine with two rules (one with
// an open breaker in acme), a configured channel with deliveries, and an
// acme admin token.
type setupEnv struct {
	*env
	acmeAdmin string
	engine    *rule.Engine
	revoked   atomic.Int32 // calls of Options.TokenRevoked
}

const setupRules = `
- name: restart-web
  spec:
    when: event.labels[?"alertname"].orValue("") == "WebDown"
    then: {runbook: restart-service, mode: auto}
    rate_limit: {max: 5, per: 30m}
- name: page-web
  spec:
    when: event.labels[?"alertname"].orValue("") == "WebDown"
    then: {notify: {channel: ops-slack}}
`

func newSetupEnv(t *testing.T) *setupEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	var docs []struct {
		Name string    `yaml:"name"`
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(setupRules), &docs); err != nil {
		t.Fatal(err)
	}
	var items []content.Item
	for _, d := range docs {
		spec := rule.Kind().New()
		if err := d.Spec.Decode(spec); err != nil {
			t.Fatal(err)
		}
		items = append(items, content.Item{Kind: rule.KindName, Name: d.Name, Spec: spec, Origin: content.Origin{Source: "ops", File: "rules.yaml"}})
	}
	rules, err := rule.Compile(items)
	if err != nil {
		t.Fatal(err)
	}
	s := &setupEnv{env: e, engine: &rule.Engine{Rules: rules, Now: func() time.Time { return e.now }}}
	err = e.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if _, s.acmeAdmin, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "acme admin", Role: store.RoleAdmin}, e.now); err != nil {
			return err
		}
		if err := tx.PutRuleState(ctx, store.RuleState{TenantID: "acme", Rule: "restart-web", Failures: 3,
			BreakerOpenedAt: e.now.Add(-time.Hour), UpdatedAt: e.now.Add(-time.Hour)}); err != nil {
			return err
		}
		if err := tx.AddNoise(ctx, store.NoiseBucket{TenantID: "acme", Minute: e.now.Add(-2 * time.Hour).Truncate(time.Minute), Received: 40, Opened: 2,
			Suppressed: map[string]int64{}}); err != nil {
			return err
		}
		if err := tx.AddRuleRun(ctx, store.RuleRun{TenantID: "acme", Rule: "page-web", OpsItemID: "oi_1", At: e.now.Add(-2 * time.Hour), Action: "notify"}); err != nil {
			return err
		}
		for i := range 3 {
			at := e.now.Add(-time.Duration(3-i) * time.Hour)
			x := store.Execution{ID: store.NewID("ex", at), TenantID: "acme", Runbook: "restart-service", Rule: "restart-web",
				StartedBy: "rule:restart-web", Status: "failed", CreatedAt: at, UpdatedAt: at}
			if err := tx.CreateExecution(ctx, x); err != nil {
				return err
			}
		}
		for _, d := range []struct{ action, result string }{{"notification.delivered", "ok"}, {"notification.failed", "failed: status 404"}} {
			if _, err := audit.Append(ctx, tx, "acme", e.now.Add(-time.Minute), audit.Entry{Actor: "system:notification", Action: d.action,
				Target: "opsitem/oi_1", Result: d.result, Detail: map[string]any{"channel": "ops-slack", "rule": "page-web"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.h, err = New(Options{Store: e.st, Clock: func() time.Time { return e.now }, Rules: s.engine, Breakers: s.engine,
		Channels: map[string]string{"ops-slack": "slack", "dba": "email"}, TokenRevoked: func() { s.revoked.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserSetupPages: in a real browser, a tenant admin sees the rules
// (mode, rate limit, the open breaker, last action, executions) and resets
// the breaker; sees the channels with their deliveries; creates a token,
// whose secret is shown once and works, and revokes it; is not offered
// the tenants page and is refused it. A platform admin sees the tenants
// and creates one.
func TestBrowserSetupPages(t *testing.T) {
	s := newSetupEnv(t)
	b := browsertest.New(t, s.h)
	ctx := context.Background()

	b.Do("login form", chromedp.Navigate(b.Base+"/rules"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(s.acmeAdmin, chromedp.WaitVisible(chromedp.ID("rules")))
	b.WantPath("/rules")
	row := b.Text(`#rules tr[data-rule="restart-web"]`)
	for _, want := range []string{"restart-service (auto)", "5 per 30m", "open", "3"} {
		if !strings.Contains(row, want) {
			t.Errorf("restart-web row %q lacks %q", row, want)
		}
	}
	if row := b.Text(`#rules tr[data-rule="page-web"]`); !strings.Contains(row, "notifies ops-slack") || !strings.Contains(row, "2026-05-04 07:30 UTC") {
		t.Errorf("page-web row %q", row)
	}
	nav := b.Text("nav")
	if !strings.Contains(nav, "Tokens") || strings.Contains(nav, "Tenants") {
		t.Errorf("a tenant admin's navigation: %q", nav)
	}
	b.Shot("20-rules")
	fits(t, b, "20-rules")

	// The rule's page; reset its breaker.
	b.Do("open the rule", chromedp.Click(chromedp.Search(`//a[text()="restart-web"]`)), chromedp.WaitVisible(chromedp.CSS("table.breakers")))
	b.WantPath("/rules/restart-web")
	b.Shot("21-rule-breaker-open")
	fits(t, b, "21-rule-breaker-open")
	b.Do("reset", chromedp.Click(chromedp.CSS(`table.breakers button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("no-breakers")))
	b.WantPath("/rules/restart-web#breakers")
	if st, err := s.st.GetRuleState(ctx, "acme", "restart-web"); err != nil || st.BreakerOpen() || st.Failures != 0 {
		t.Errorf("breaker after reset: %+v, %v", st, err)
	}
	recs, _, err := s.st.SearchAudit(ctx, "acme", store.AuditFilter{Action: "rule.breaker.reset"}, store.Page{Limit: 10})
	if err != nil || len(recs) != 1 || recs[0].Target != "rule/restart-web" || !strings.HasPrefix(recs[0].Actor, "token:") {
		t.Errorf("reset audit records %+v, %v", recs, err)
	}

	// Channels.
	b.Do("channels", chromedp.Navigate(b.Base+"/channels"), chromedp.WaitVisible(chromedp.ID("channels")))
	if row := b.Text(`#channels tr[data-channel="ops-slack"]`); !strings.Contains(row, "failing") || !strings.Contains(row, "status 404") {
		t.Errorf("ops-slack row %q", row)
	}
	if row := b.Text(`#channels tr[data-channel="dba"]`); !strings.Contains(row, "unused") || !strings.Contains(row, "never") {
		t.Errorf("dba row %q", row)
	}
	b.Shot("22-channels")
	fits(t, b, "22-channels")

	// Tokens: a bad one is refused with the service's text, a good one is
	// shown once and works.
	b.Do("tokens", chromedp.Navigate(b.Base+"/tokens"), chromedp.WaitVisible(chromedp.ID("tokens")))
	b.Do("bad token", chromedp.SendKeys(chromedp.ID("t-name"), "ci"), chromedp.SendKeys(chromedp.ID("t-expires"), "soon"),
		chromedp.Click(chromedp.CSS(`form.stack button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("token-problem")))
	if p := b.Text("#token-problem"); !strings.Contains(p, `expires_in "soon" is not a positive duration`) {
		t.Errorf("problem %q", p)
	}
	b.Do("good token", chromedp.SetValue(chromedp.ID("t-expires"), "720h"), chromedp.SetValue(chromedp.ID("t-role"), "intake"),
		chromedp.Click(chromedp.CSS(`form.stack button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("token-secret")))
	secret := b.Text("#token-secret")
	p, tok, err := auth.Authenticate(ctx, s.st, secret, s.now)
	if err != nil || p.TenantID != "acme" || p.Role != store.RoleIntake || tok.Name != "ci" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(s.now.Add(720*time.Hour)) {
		t.Fatalf("the shown secret authenticates as %+v (%+v), %v", p, tok, err)
	}
	b.Shot("23-token-created")
	fits(t, b, "23-token-created")
	b.Do("reload", chromedp.Navigate(b.Base+"/tokens"), chromedp.WaitVisible(chromedp.ID("tokens")))
	if strings.Contains(b.Eval(`document.body.innerText`), secret) {
		t.Error("the secret is shown again after a reload")
	}
	b.Do("revoke", chromedp.Click(chromedp.CSS(`tr[data-token="`+tok.ID+`"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-token="`+tok.ID+`"] button`)), chromedp.WaitVisible(chromedp.ID("tokens")))
	if row := b.Text(`tr[data-token="` + tok.ID + `"]`); !strings.Contains(row, "revoked") {
		t.Errorf("revoked token's row %q", row)
	}
	if _, _, err := auth.Authenticate(ctx, s.st, secret, s.now); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("revoked token authenticates: %v", err)
	}
	if n := s.revoked.Load(); n != 1 {
		t.Errorf("the API was told of %d revocations, want 1 (its remembered token checks must go)", n)
	}
	for _, action := range []string{"token.create", "token.revoke"} {
		if recs, _, err := s.st.SearchAudit(ctx, "acme", store.AuditFilter{Action: action, Target: "token/" + tok.ID}, store.Page{Limit: 10}); err != nil || len(recs) != 1 {
			t.Errorf("%s audit records %+v, %v", action, recs, err)
		}
	}

	// The dashboard's trend charts, with this env's one morning of data.
	b.Do("dashboard", chromedp.Navigate(b.Base+"/dashboard"), chromedp.WaitVisible(chromedp.ID("trend-events")))
	// Events and OpsItems but nothing resolved: events, noise reduction and
	// open OpsItems are drawn; automation share, hours saved and time to
	// resolve say why they are not.
	if n := b.Eval(`String(document.querySelectorAll(".trends figure svg").length)`); n != "3" {
		t.Errorf("%s charts drawn, want 3", n)
	}
	if got := b.Text("#trend-ttr .empty"); got != "No resolved OpsItems yet." {
		t.Errorf("time to resolve says %q", got)
	}
	b.Shot("25-dashboard-trends")
	fits(t, b, "25-dashboard-trends")

	// The tenants page is the platform admin's.
	b.Do("tenants refused", chromedp.Navigate(b.Base+"/tenants"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := b.Text("main h1"); h != "Forbidden" {
		t.Errorf("a tenant admin's /tenants shows %q", h)
	}
	b.Do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(s.admin, chromedp.WaitVisible(chromedp.ID("tenant-switch")))
	b.Do("tenants", chromedp.Navigate(b.Base+"/tenants"), chromedp.WaitVisible(chromedp.ID("tenants")))
	if nav := b.Text("nav"); !strings.Contains(nav, "Tenants") {
		t.Errorf("a platform admin's navigation: %q", nav)
	}
	if list := b.Text("#tenants"); !strings.Contains(list, "Acme Corp") || !strings.Contains(list, "Globex") {
		t.Errorf("tenants %q", list)
	}
	b.Do("create tenant", chromedp.SendKeys(chromedp.ID("tn-id"), "initech"), chromedp.SendKeys(chromedp.ID("tn-name"), "Initech"),
		chromedp.Click(chromedp.CSS(`form.stack button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("tenant-initech")))
	if tn, err := s.st.GetTenant(ctx, "initech"); err != nil || tn.Name != "Initech" {
		t.Errorf("created tenant %+v, %v", tn, err)
	}
	b.Shot("24-tenants")
	fits(t, b, "24-tenants")

	b.Check("status of 403", "status of 400") // the tenant admin's /tenants, the bad token form
}

// fits fails when a table on the page is wider than its box (at the
// browser's 1280 px).
func fits(t *testing.T, b *browsertest.Browser, page string) {
	t.Helper()
	wide := b.Eval(`[...document.querySelectorAll("main table")].filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => (t.id || t.className) + " " + t.scrollWidth + "/" + t.parentElement.clientWidth).join(", ")`)
	if wide != "" {
		t.Errorf("%s: tables overflow: %s", page, wide)
	}
}

// TestSetupPagesAccess: who may open the tokens and tenants pages, and
// the rules and channels pages render for a viewer.
func TestSetupPagesAccess(t *testing.T) {
	s := newSetupEnv(t)
	openSessions(t, s.st, s.now, s.acmeAdmin)
	for _, tc := range []struct {
		path, secret string
		status       int
	}{
		{"/rules", s.acme, 200}, {"/rules/restart-web", s.acme, 200}, {"/rules/nope", s.acme, 404}, {"/channels", s.acme, 200},
		{"/tokens", s.acme, 403}, {"/tokens", s.acmeAdmin, 200}, {"/tenants", s.acmeAdmin, 403}, {"/tenants", s.admin, 200},
	} {
		res := s.get(tc.path, tc.secret)
		if res.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d\n%s", tc.path, res.StatusCode, tc.status, res.body)
		}
	}
	if res := s.get("/rules/restart-web", s.acme); strings.Contains(res.body, "<form") && strings.Contains(res.body, "breaker/reset") {
		t.Error("a viewer is offered the Reset button")
	}
}
