package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// seedHandFixes stores three nginx OpsItems of acme resolved by hand after
// people ran restart-service on them, and returns them.
func seedHandFixes(t *testing.T, h *harness) []store.OpsItem {
	t.Helper()
	ctx, now := context.Background(), h.clock.Now()
	var out []store.OpsItem
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		for i := range 3 {
			created := now.Add(-time.Duration(10-i) * time.Hour)
			resolved := created.Add(time.Hour)
			o := store.OpsItem{ID: store.NewID("oi", created), TenantID: acme, Title: "nginx down on web-0" + string(rune('1'+i)), Category: "service",
				Severity: "high", Status: "resolved", Source: "api", CreatedAt: created, UpdatedAt: resolved, ResolvedAt: &resolved,
				ResolvedBy: "token:" + h.cred(acme+"/operator").ID, HumanSeconds: int64(600 * (i + 1))}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			x := store.Execution{ID: store.NewID("ex", created), TenantID: acme, Runbook: "restart-service", Status: "succeeded", OpsItemID: o.ID,
				StartedBy: "token:" + h.cred(acme+"/operator").ID, Parameters: []byte(`{"unit":"nginx"}`), CreatedAt: created, UpdatedAt: created}
			if err := tx.CreateExecution(ctx, x); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAutomationCandidates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	items := seedHandFixes(t, h)
	viewer := h.secret(acme + "/viewer")

	var l api.List[stats.Candidate]
	h.call("GET", "/api/v1/automation/candidates", viewer, nil).ok(t, 200, &l)
	if len(l.Items) != 1 {
		t.Fatalf("candidates: %+v", l.Items)
	}
	c := l.Items[0]
	if c.TitlePattern != "nginx down on web-*" || c.Count != 3 || c.HumanMinutes != 60 || strings.Join(c.Runbooks, ",") != "restart-service" {
		t.Errorf("candidate: %+v", c)
	}
	h.call("GET", "/api/v1/automation/candidates", h.secret(globex+"/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 0 {
		t.Errorf("globex sees candidates: %+v", l.Items)
	}

	r := h.call("GET", "/api/v1/automation/candidates/"+c.ID+"/rule?download=true", viewer, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/yaml; charset=utf-8" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="auto-nginx-down-on-web.yaml"` {
		t.Fatalf("draft: %v %v", r, r.Header)
	}
	for _, want := range []string{"name: auto-nginx-down-on-web", "runbook: restart-service", "mode: suggest", `unit: '"nginx"'`, "title: nginx down on web-03"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("draft lacks %q:\n%s", want, r.Body)
		}
	}
	// From one OpsItem; another runbook; bad requests name the problem.
	r = h.call("GET", "/api/v1/opsitems/"+items[0].ID+"/rule?runbook=notify-escalate", viewer, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "runbook: notify-escalate") || strings.Contains(string(r.Body), "unit:") {
		t.Errorf("opsitem draft with notify-escalate: %v", r)
	}
	h.call("GET", "/api/v1/opsitems/"+items[0].ID+"/rule?runbook=no-such-runbook", viewer, nil).fail(t, 400, "bad_request", "no-such-runbook")
	manual := h.createOpsItem(h.secret(acme+"/operator"), api.OpsItemInput{Title: "Something odd", Severity: "low"})
	h.call("GET", "/api/v1/opsitems/"+manual.ID+"/rule", viewer, nil).fail(t, 400, "bad_request", "no runbook was run by hand")
	h.call("GET", "/api/v1/automation/candidates/cand_nope/rule", viewer, nil).fail(t, 404, "not_found")

	// Saving needs an admin and a content directory.
	admin := h.secret(acme + "/admin")
	h.call("POST", "/api/v1/automation/rules", h.secret(acme+"/operator"), api.DraftRuleInput{Candidate: c.ID}).fail(t, 403, "forbidden")
	h.call("POST", "/api/v1/automation/rules", admin, api.DraftRuleInput{Candidate: c.ID}).fail(t, 409, "", "no content directory")
	h.call("POST", "/api/v1/automation/rules", admin, api.DraftRuleInput{}).fail(t, 400, "bad_request", "one of candidate and opsitem")

	dir := t.TempDir()
	srv := api.New(api.Options{Store: h.st, Clock: h.clock.Now, ContentDir: dir})
	postAs := func(secret, query string, in api.DraftRuleInput) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/automation/rules"+query, strings.NewReader(mustJSON(t, in)))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	// Only a platform admin saves a rule for every tenant.
	if rec := postAs(admin, "", api.DraftRuleInput{Candidate: c.ID, AllTenants: true}); rec.Code != http.StatusForbidden ||
		!strings.Contains(rec.Body.String(), "only a platform admin may save a rule for every tenant") {
		t.Errorf("tenant admin saving for every tenant: %d %s", rec.Code, rec.Body)
	}
	post := func(in api.DraftRuleInput) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/automation/rules", strings.NewReader(mustJSON(t, in)))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	rec := post(api.DraftRuleInput{Candidate: c.ID})
	if rec.Code != http.StatusCreated {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	path := filepath.Join(dir, "rules", "auto-nginx-down-on-web.yaml")
	saved, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(saved), "runbook: restart-service") || !strings.Contains(string(saved), "\n  tenant: acme\n") {
		t.Fatalf("saved file (want the runbook and metadata.tenant acme): %v\n%s", err, saved)
	}
	if recs := h.auditOf(acme); recs[len(recs)-1].Action != "automation.rule.save" || recs[len(recs)-1].Target != "rule/auto-nginx-down-on-web" {
		t.Errorf("last audit record: %+v", recs[len(recs)-1])
	}
	if rec := post(api.DraftRuleInput{OpsItem: items[1].ID}); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already has this rule") {
		t.Errorf("second save: %d %s", rec.Code, rec.Body)
	}
	if again, _ := os.ReadFile(path); string(again) != string(saved) {
		t.Error("the second save changed the file")
	}
	// A platform admin may save one for every tenant: no metadata.tenant.
	os.Remove(path)
	if rec := postAs(h.secret(platform), "?tenant=acme", api.DraftRuleInput{Candidate: c.ID, AllTenants: true}); rec.Code != http.StatusCreated {
		t.Fatalf("platform admin saving for every tenant: %d %s", rec.Code, rec.Body)
	}
	if all, err := os.ReadFile(path); err != nil || strings.Contains(string(all), "tenant:") || !strings.Contains(string(all), "runbook: restart-service") {
		t.Errorf("rule for every tenant: %v\n%s", err, all)
	}
}
