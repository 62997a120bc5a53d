package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// acceptanceRunbooks are the content the acceptance test runs from the UI.
const acceptanceRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: ui-disk-check, description: Check the disk figure and record it on the OpsItem}
spec:
  parameters:
    - {name: used, type: int, required: true, description: Percent of the volume in use}
    - {name: mode, type: string, allowed: [fast, safe], default: safe, description: How careful to be}
  steps:
    - {name: verify, action: assert, with: {that: "params.used < 90", message: "${{ params.used }}% used"}}
    - name: record
      action: collect
      with: {name: disk, value: "{'used': params.used, 'mode': params.mode}"}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: ui-gated-restart, description: Restart after a person agrees}
spec:
  steps:
    - {name: ask, action: approve, with: {message: "Restart checkout on shop-01?"}}
    - {name: verify, action: assert, with: {that: "true"}}
`

// acceptance is a whole Flywheel server (internal/app: intake, pipeline,
// job queue, executor, API and UI) and a browser logged out of it.
type acceptance struct {
	t     *testing.T
	b     *browsertest.Browser
	token string
}

func newAcceptance(t *testing.T) *acceptance {
	t.Helper()
	return newAcceptanceWith(t, acceptanceRunbooks)
}

// newAcceptanceWith is newAcceptance with other content (YAML documents).
func newAcceptanceWith(t *testing.T, yaml string) *acceptance {
	t.Helper()
	content, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "ui.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{DataDir: dir, ContentDir: content, Addr: "127.0.0.1:0"}
	a, err := app.New(context.Background(), app.Options{Config: cfg, Out: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(dir, app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return &acceptance{t: t, b: browsertest.New(t, a.Handler()), token: strings.TrimSpace(string(tok))}
}

// call is an API request with the admin token; out receives the JSON answer.
func (x *acceptance) call(method, path string, body, out any) {
	x.t.Helper()
	x.callAs(x.token, method, path, body, out)
}

// callAs is call with another token.
func (x *acceptance) callAs(token, method, path string, body, out any) {
	x.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, x.b.Base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		x.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		x.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			x.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// link finds an element by its exact text.
func link(text string) string { return `//a[normalize-space(text())="` + text + `"]` }

// TestAcceptance is the browser acceptance of issue 6: log in with a
// token; an OpsItem created through the intake API appears on the open
// list without a reload; acknowledge it, add a note from the keyboard, and
// run a runbook from it through
// the generated form (a wrong value first) and watch the execution
// complete; approve a pending execution from the approvals inbox; create
// a silence on the silences page and see a matching alert suppressed. Screenshots of each page go to the
// screenshot directory.
func TestAcceptance(t *testing.T) {
	x := newAcceptance(t)
	b := x.b

	// Log in with the token.
	b.Do("open the list", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(x.token, chromedp.WaitVisible(chromedp.ID("live-items")))
	b.WantPath("/opsitems")
	b.Shot("a01-opsitems-empty")

	// An alert through the intake API opens an OpsItem; the open list
	// shows it without reloading (the marker set on this page survives).
	b.Eval(`window.acceptanceMark = "same page"; "ok"`)
	title := "Checkout latency high on shop-01"
	x.call("POST", "/api/v1/intake/generic", map[string]any{"source": "shop", "title": title, "severity": "high",
		"resource": "shop-01", "labels": map[string]string{"service": "checkout"}}, nil)
	b.Do("the OpsItem appears live", chromedp.WaitVisible(chromedp.Search(link(title))))
	if mark := b.Eval(`String(window.acceptanceMark)`); mark != "same page" {
		t.Errorf("the list was reloaded (marker %q); want a live update", mark)
	}
	if st := b.Text("#live-status"); !strings.HasPrefix(st, "Updated") {
		t.Errorf("live status %q", st)
	}
	b.Shot("a02-opsitem-arrived-live")

	// The OpsItem page: acknowledge, then run a runbook with the form.
	b.Do("open the OpsItem", chromedp.Click(chromedp.Search(link(title))), chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.Do("acknowledge", chromedp.Click(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		chromedp.WaitVisible(chromedp.CSS("li.tl-acknowledge")))
	// The timeline entry can arrive by a live update on the page the click
	// left, before the page after the redirect shows the new fields.
	f := b.Text("dl.fields")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(f, "in progress") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		f = b.Text("dl.fields")
	}
	if !strings.Contains(f, "in progress") || !strings.Contains(f, "token:") {
		t.Errorf("after acknowledging, the fields show:\n%s", f)
	}
	b.Shot("a03-opsitem-acknowledged")
	// From the keyboard: write a note, Tab to its button, press Enter.
	b.Do("note by keyboard", chromedp.Focus(chromedp.ID("note-text")), chromedp.SendKeys(chromedp.ID("note-text"), "p99 at 2.1 s since the deploy"),
		chromedp.KeyEvent(kb.Tab))
	if got := b.Eval(`document.activeElement.textContent`); got != "Add note" {
		t.Errorf("Tab from the note goes to %q, want its button", got)
	}
	if o := b.Eval(`getComputedStyle(document.activeElement).outlineStyle`); o != "solid" {
		t.Errorf("focused button has outline %q", o)
	}
	b.Do("submit the note", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("li.tl-note")))
	if note := b.Text("li.tl-note"); !strings.Contains(note, "p99 at 2.1 s since the deploy") {
		t.Errorf("note on the timeline: %q", note)
	}
	b.Do("choose the runbook",
		chromedp.SetValue(chromedp.ID("run-runbook"), "ui-disk-check"),
		chromedp.Click(chromedp.CSS(`form[action$="/run"] button`)),
		chromedp.WaitVisible(chromedp.ID("p-used")))
	if h := b.Text("#run-h"); !strings.Contains(h, title) {
		t.Errorf("run form heading %q does not name the OpsItem", h)
	}
	b.Do("run without the required value", chromedp.Click(chromedp.CSS(`button[value="run"]`)), chromedp.WaitVisible(chromedp.ID("p-used-err")))
	if msg := b.Text("#p-used-err"); msg != `parameter "used" is required` {
		t.Errorf("field error %q", msg)
	}
	b.Shot("a04-run-form-invalid")
	b.Do("run",
		chromedp.SendKeys(chromedp.ID("p-used"), "42"),
		chromedp.SetValue(chromedp.ID("p-mode"), "fast"),
		chromedp.Click(chromedp.CSS(`button[value="run"]`)),
		chromedp.WaitVisible(chromedp.CSS(".badges .ex-succeeded")))
	if steps := b.Text("table.steps"); !strings.Contains(steps, "verify") || !strings.Contains(steps, "record") {
		t.Errorf("execution steps:\n%s", steps)
	}
	b.Shot("a05-execution-succeeded")
	b.Do("back to the OpsItem", chromedp.Click(chromedp.CSS(`dl.fields a[href^="/opsitems/"]`)), chromedp.WaitVisible(chromedp.CSS("article.exec")))
	if ex := b.Text("article.exec"); !strings.Contains(ex, "ui-disk-check") || !strings.Contains(ex, "succeeded") {
		t.Errorf("the OpsItem's executions:\n%s", ex)
	}
	if used, mode := b.Eval(docValueJS("div.opsdata", "used")), b.Eval(docValueJS("div.opsdata", "mode")); used != "42" || mode != "fast" {
		t.Errorf("operational data: used %q, mode %q; the section shows:\n%s", used, mode, b.Text("div.opsdata"))
	}
	b.Shot("a06-opsitem-after-run")
	opsItemPath := strings.TrimPrefix(b.Eval(`location.pathname`), b.Base)

	// The approvals inbox: a gated execution started through the API
	// appears on the open inbox, and is approved there.
	b.Do("open the inbox", chromedp.Navigate(b.Base+"/approvals"), chromedp.WaitVisible(chromedp.ID("live-inbox")))
	// Started by an on-call operator, approved in the browser by the admin:
	// four eyes.
	var oncall api.CreatedToken
	x.call("POST", "/api/v1/tokens", api.TokenInput{Name: "on-call", Role: store.RoleOperator}, &oncall)
	var ex api.ExecutionView
	x.callAs(oncall.Secret, "POST", "/api/v1/opsitems/"+strings.TrimPrefix(opsItemPath, "/opsitems/")+"/runbooks/ui-gated-restart", api.RunInput{}, &ex)
	b.Do("the pending approval appears", chromedp.WaitVisible(chromedp.ID("comment-"+ex.ID)))
	if msg := b.Text("#live-inbox"); !strings.Contains(msg, "Restart checkout on shop-01?") || !strings.Contains(msg, title) {
		t.Errorf("inbox shows:\n%s", msg)
	}
	b.Shot("a07-approvals-pending")
	b.Do("approve",
		chromedp.SendKeys(chromedp.ID("comment-"+ex.ID), "agreed on the bridge"),
		chromedp.Click(chromedp.CSS(`form.decide button.primary`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Nothing is waiting for approval.")]`)))
	b.Shot("a08-approvals-done")
	deadline := time.Now().Add(60 * time.Second)
	for ex.Status != "succeeded" {
		if time.Now().After(deadline) {
			t.Fatalf("approved execution is %s", ex.Status)
		}
		time.Sleep(50 * time.Millisecond)
		x.call("GET", "/api/v1/executions/"+ex.ID, nil, &ex)
	}
	if len(ex.Approvals) != 1 || ex.Approvals[0].Comment != "agreed on the bridge" {
		t.Errorf("approvals %+v", ex.Approvals)
	}

	// A silence suppresses a matching alert: it never reaches the list,
	// while an alert sent after it does.
	b.Do("create a silence",
		chromedp.Navigate(b.Base+"/silences"),
		chromedp.WaitVisible(chromedp.ID("sil-matchers")),
		chromedp.SendKeys(chromedp.ID("sil-matchers"), `service="payments"`),
		chromedp.SetValue(chromedp.ID("sil-duration"), "1h"),
		chromedp.SendKeys(chromedp.ID("sil-comment"), "payments deploy"),
		chromedp.Click(chromedp.Search(`//button[text()="Create silence"]`)),
		chromedp.WaitVisible(chromedp.CSS("tr[data-silence]")))
	if row := b.Text("tr[data-silence]"); !strings.Contains(row, `service="payments"`) || !strings.Contains(row, "payments deploy") {
		t.Errorf("silence row: %q", row)
	}
	b.Shot("a09-silence-created")
	b.Do("open the list again", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.Search(link(title))))
	silenced, after := "Payments queue backlog", "Search index lagging"
	x.call("POST", "/api/v1/intake/generic", map[string]any{"source": "shop", "title": silenced, "severity": "critical",
		"labels": map[string]string{"service": "payments"}}, nil)
	x.call("POST", "/api/v1/intake/generic", map[string]any{"source": "shop", "title": after, "severity": "low",
		"labels": map[string]string{"service": "search"}}, nil)
	b.Do("the later alert appears", chromedp.WaitVisible(chromedp.Search(link(after))))
	var events api.List[store.Event]
	for deadline := time.Now().Add(30 * time.Second); ; {
		x.call("GET", "/api/v1/events?"+url.Values{"source": {"generic:shop"}}.Encode(), nil, &events)
		if decided(events.Items, silenced) != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := decided(events.Items, silenced); d != "suppressed" {
		t.Errorf("the silenced alert's decision is %q, want suppressed", d)
	}
	if list := b.Text("#live-items"); strings.Contains(list, silenced) {
		t.Errorf("the silenced alert is on the list:\n%s", list)
	}
	b.Shot("a10-opsitems-silenced")

	// Dark mode of the pages this test visited.
	b.ColorScheme("dark")
	b.Do("dark OpsItem", chromedp.Navigate(b.Base+opsItemPath), chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.Shot("a11-opsitem-dark")
	b.Do("dark execution", chromedp.Navigate(b.Base+"/executions/"+ex.ID), chromedp.WaitVisible(chromedp.CSS("table.steps")))
	b.Shot("a12-execution-dark")
	b.Do("dark runbook", chromedp.Navigate(b.Base+"/runbooks/ui-disk-check"), chromedp.WaitVisible(chromedp.ID("p-used")))
	b.Shot("a13-runbook-dark")
	b.ColorScheme("light")
	b.Do("runbooks", chromedp.Navigate(b.Base+"/runbooks"), chromedp.WaitVisible(chromedp.CSS("table.runbooks")))
	b.Shot("a14-runbooks")
	b.Do("executions", chromedp.Navigate(b.Base+"/executions"), chromedp.WaitVisible(chromedp.CSS("table.executions")))
	b.Shot("a15-executions")

	b.Check("status of 422") // the refused run form
}

// decided returns the decision on the event with this title ("" when
// there is none yet).
func decided(events []store.Event, title string) string {
	for _, e := range events {
		if e.Title == title {
			return e.Decision
		}
	}
	return ""
}
