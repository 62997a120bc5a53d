package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// seedHandFixes gives acme three nginx OpsItems resolved by hand after
// people ran restart-service on them.
func seedHandFixes(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for i := range 3 {
			created := e.now.Add(-time.Duration(30-i) * time.Hour)
			resolved := created.Add(time.Hour)
			o := store.OpsItem{ID: store.NewID("oi", created), TenantID: "acme", Title: "nginx down on web-0" + string(rune('1'+i)), Category: "service",
				Severity: "high", Status: "resolved", Source: "api", CreatedAt: created, UpdatedAt: resolved, ResolvedAt: &resolved,
				ResolvedBy: "token:tok_ana", HumanSeconds: int64(900 * (i + 1))}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			x := store.Execution{ID: store.NewID("ex", created), TenantID: "acme", Runbook: "restart-service", Status: "succeeded", OpsItemID: o.ID,
				StartedBy: "token:tok_ana", Parameters: []byte(`{"unit":"nginx"}`), CreatedAt: created, UpdatedAt: created}
			if err := tx.CreateExecution(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var candidateRE = regexp.MustCompile(`<tr data-candidate="(cand_[0-9a-f]+)">`)

func TestCandidatesPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedHandFixes(t, e)

	list := e.get("/candidates", e.acme)
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list, "<code>nginx down on web-*</code>", "1 h 30 min", `<a href="/runbooks/restart-service">restart-service</a>`, "nginx down on web-03")
	m := candidateRE.FindStringSubmatch(list.body)
	if m == nil {
		t.Fatalf("no candidate row:\n%s", excerpt(list.body))
	}
	id := m[1]
	wantContains(t, e.get("/candidates", e.globex), "No candidates")
	wantStatus(t, e.get("/candidates?period=1d", e.acme), http.StatusOK) // resolved more than a day ago: none
	wantContains(t, e.get("/candidates?period=1d", e.acme), "No candidates")

	draft := e.get("/candidates/"+id+"/rule?period=30d", e.acme)
	wantStatus(t, draft, http.StatusOK)
	wantContains(t, draft, "name: auto-nginx-down-on-web", "runbook: restart-service", "mode: suggest", "unit: &#39;&#34;nginx&#34;&#39;",
		`href="/candidates/`+id+`/rule.yaml?period=30d&amp;runbook=restart-service"`, "This server has no content directory")
	wantLacks(t, draft, "Save to the content directory")

	dl := e.get("/candidates/"+id+"/rule.yaml?period=30d", e.acme)
	wantStatus(t, dl, http.StatusOK)
	if dl.Header.Get("Content-Disposition") != `attachment; filename="auto-nginx-down-on-web.yaml"` || !strings.HasPrefix(dl.body, "# Drafted by Flywheel") {
		t.Errorf("download: %v\n%s", dl.Header, dl.body)
	}
	wantStatus(t, e.get("/candidates/cand_nope/rule", e.acme), http.StatusNotFound)
	wantStatus(t, e.get("/candidates/"+id+"/rule", e.globex), http.StatusNotFound)

	// From one OpsItem: nothing was run by hand on a fresh one, so the page
	// asks for a runbook; with one chosen it drafts.
	manual := e.items["Disk almost full on db-01"]
	// The OpsItem's page links its draft.
	wantContains(t, e.get("/opsitems/"+manual.ID, e.acme), `href="/opsitems/`+manual.ID+`/rule" id="draft-automation"`)
	wantContains(t, e.get("/opsitems/"+manual.ID+"/rule", e.acme), "no runbook was run by hand", `<option value="" selected>Choose a runbook</option>`)
	wantContains(t, e.get("/opsitems/"+manual.ID+"/rule?runbook=notify-escalate", e.acme), "runbook: notify-escalate", "Disk almost full on db-01")
	wantContains(t, e.get("/opsitems/"+manual.ID+"/rule?runbook=nope", e.acme), "nope")
	wantStatus(t, e.get("/opsitems/"+manual.ID+"/rule.yaml?runbook=nope", e.acme), http.StatusBadRequest)
	wantStatus(t, e.get("/opsitems/"+e.items["Globex secret outage"].ID+"/rule?runbook=notify-escalate", e.acme), http.StatusNotFound)

	// Saving: an admin, into the content directory, audited, never twice.
	dir := t.TempDir()
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, ContentDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	wantContains(t, e.get("/candidates/"+id+"/rule?tenant=acme", e.admin), "Save to the content directory")
	wantLacks(t, e.get("/candidates/"+id+"/rule", e.acme), "Save to the content directory") // a viewer
	save := url.Values{"candidate": {id}, "period": {"30d"}, csrfField: {csrfFor(e.admin)}}
	res := e.post("/automation/rules?tenant=acme", save, sessionCookieFor(e.admin))
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "saved=") {
		t.Fatalf("save: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), excerpt(res.body))
	}
	body, err := os.ReadFile(filepath.Join(dir, "rules", "auto-nginx-down-on-web.yaml"))
	if err != nil || !strings.Contains(string(body), "runbook: restart-service") {
		t.Fatalf("saved rule: %v\n%s", err, body)
	}
	recs, _, _ := e.st.ListAudit(context.Background(), "acme", store.Page{Limit: 1})
	if len(recs) != 1 || recs[0].Action != "automation.rule.save" || !strings.Contains(string(recs[0].Detail), "auto-nginx-down-on-web.yaml") {
		t.Errorf("audit: %+v", recs)
	}
	wantStatus(t, e.post("/automation/rules?tenant=acme", save, sessionCookieFor(e.admin)), http.StatusConflict)
	viewer := url.Values{"candidate": {id}, csrfField: {csrfFor(e.acme)}}
	wantStatus(t, e.post("/automation/rules", viewer, sessionCookieFor(e.acme)), http.StatusForbidden)
}
