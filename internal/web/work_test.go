package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const workRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check, description: Check the numbers}
spec:
  parameters:
    - {name: used, type: int, required: true, description: Percent used}
    - {name: mode, type: string, allowed: [fast, safe], default: safe}
    - {name: verbose, type: bool, default: false}
    - {name: hosts, type: list}
  steps:
    - {name: verify, action: assert, with: {that: "params.used < 90", message: "${{ params.used }}% used"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: gated}
spec:
  steps:
    - {name: ask, action: approve, with: {message: "Restart the service?"}}
    - {name: verify, action: assert, with: {that: "true"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: fanout}
spec:
  steps:
    - {name: each, action: echo, per_target: true, with: {host: "${{ target.id }}"}}
`

// echo is the test's I/O action: it logs the host it ran for.
type echo struct{}

func (echo) Name() string                  { return "echo" }
func (echo) Validate(map[string]any) error { return nil }
func (echo) Run(_ context.Context, in action.Input) (action.Output, error) {
	return action.Output{Log: fmt.Sprintf("hello from %v\n", in.With["host"])}, nil
}

// workEnv is env with a real executor and job queue behind the runbook
// pages, an acme operator token and live updates every 50ms.
type workEnv struct {
	*env
	op    string // acme operator secret
	opTok store.Token
	// op2 is a second acme operator, the other pair of eyes an approval
	// needs.
	op2 string
}

func newWorkEnv(t *testing.T) *workEnv { return newWorkEnvWith(t, workRunbooks, nil) }

// newWorkEnvWith is newWorkEnv with other runbooks and a setup check.
func newWorkEnvWith(t *testing.T, runbooks string, d *doctor.Doctor) *workEnv {
	t.Helper()
	e := newEnv(t)
	w := &workEnv{env: e}
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		w.opTok, w.op, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "acme operator", Role: store.RoleOperator}, e.now)
		if err != nil {
			return err
		}
		_, w.op2, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "acme second operator", Role: store.RoleOperator}, e.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	openSessions(t, e.st, e.now, w.op, w.op2)
	x := startExecutor(t, e.st, runbooks)
	e.h, err = New(Options{Store: e.st, Clock: func() time.Time { return e.now }, Runbooks: x, LiveInterval: 50 * time.Millisecond, Doctor: d})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// startExecutor runs an executor over st with the given runbooks on a job
// queue polling every 20ms, stopped at cleanup.
func startExecutor(t *testing.T, st store.Store, runbooks string) *execution.Executor {
	t.Helper()
	ctx := context.Background()
	// "aws" steps echo too: pages only need to know a runbook has them.
	lookup := func(name string) (action.Action, bool) { return echo{}, name == "echo" || name == "aws" }
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(lookup))
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"rb.yaml": {Data: []byte(runbooks)}}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, lookup)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, st, jobs.Options{Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: q, Runbooks: lib, Actions: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return x
}

// form posts a form as secret's session, with its CSRF token.
func (w *workEnv) form(path, secret string, kv ...string) response {
	w.t.Helper()
	f := url.Values{csrfField: {csrfFor(secret)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return w.post(path, f, sessionCookieFor(secret))
}

// waitFor polls cond every 20ms for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpsItemActions works an OpsItem through its page's forms: each
// needs the session's CSRF token and the operator role, goes through
// opsitem.Apply (timeline, audit, in-hands time) and returns to the page;
// a refused action shows the page again with the reason.
func TestOpsItemActions(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	o := w.items["Disk almost full on db-01"]
	page := "/opsitems/" + o.ID

	viewer := w.get(page, w.acme)
	wantLacks(t, viewer, `action="`+page+`/acknowledge"`) // a viewer sees no forms
	own := w.get(page, w.op)
	wantContains(t, own, `action="`+page+`/acknowledge"`, `action="`+page+`/notes"`, `<label for="note-text">`,
		`<option value="check">check</option>`, `data-live-version="`)

	wantStatus(t, w.post(page+"/acknowledge", url.Values{csrfField: {"forged"}}, sessionCookieFor(w.op)), http.StatusForbidden)
	wantStatus(t, w.form(page+"/acknowledge", w.acme), http.StatusForbidden) // viewer
	res := w.form(page+"/acknowledge", w.op, "comment", "on it")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != page {
		t.Errorf("acknowledge redirects to %q", loc)
	}
	w.now = w.now.Add(90 * time.Second)
	wantStatus(t, w.form(page+"/assign", w.op, "assignee", "dana"), http.StatusSeeOther)
	wantStatus(t, w.form(page+"/notes", w.op, "text", "rotated the logs"), http.StatusSeeOther)

	bad := w.form(page+"/notes", w.op, "text", "  ")
	wantStatus(t, bad, http.StatusBadRequest)
	wantContains(t, bad, `<p class="alert" role="alert">text is required</p>`, "<h1>Disk almost full on db-01</h1>")
	again := w.form(page+"/acknowledge", w.op)
	wantStatus(t, again, http.StatusConflict)
	wantContains(t, again, "was acknowledged by token:"+w.opTok.ID)

	wantStatus(t, w.form(page+"/resolve", w.op, "comment", "done"), http.StatusSeeOther)
	got, err := w.st.GetOpsItem(context.Background(), "acme", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	actor := "token:" + w.opTok.ID
	if got.Status != "resolved" || got.ResolvedBy != actor || got.Assignee != "dana" || got.AcknowledgedBy != actor || got.HumanSeconds != 90 {
		t.Errorf("after the forms: %+v", got)
	}
	after := w.get(page, w.op)
	wantContains(t, after, "Acknowledged: on it", "Assigned to dana", "rotated the logs", "Status resolved: done",
		"<dd>1 min 30 s</dd>", `action="`+page+`/status"`) // resolved: reopen instead of resolve
	recs, _, err := w.st.ListAudit(context.Background(), "acme", store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if r.Actor == actor {
			actions = append(actions, r.Action)
		}
	}
	if strings.Join(actions, ",") != "opsitem.resolve,opsitem.note,opsitem.assign,opsitem.acknowledge" {
		t.Errorf("audit actions %v", actions)
	}
	// globex's OpsItem is not found from acme's session.
	wantStatus(t, w.form("/opsitems/"+w.items["Globex secret outage"].ID+"/acknowledge", w.op), http.StatusNotFound)
}

// TestRunbookPages runs a runbook from an OpsItem through the generated
// form (a wrong value shown next to its field first), watches the
// execution succeed, and decides a gated execution from the inbox.
func TestRunbookPages(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	o := w.items["Disk almost full on db-01"]

	list := w.get("/runbooks", w.op)
	wantContains(t, list, `href="/runbooks/check"`, "Check the numbers", `href="/runbooks/gated"`)
	choose := w.get("/opsitems/"+o.ID+"/run?runbook=check", w.op)
	wantStatus(t, choose, http.StatusSeeOther)
	formPage := w.get(choose.Header.Get("Location"), w.op)
	wantContains(t, formPage, "Run for OpsItem “Disk almost full on db-01”",
		`<input id="p-used" name="p.used" type="number" step="1" value="" required`,
		`<select id="p-mode" name="p.mode"`, `<option value="" selected>default (safe)</option>`, `<option value="fast">fast</option>`,
		`<select id="p-verbose" name="p.verbose"`, "Comma-separated values, or a JSON list.",
		`<input type="hidden" name="opsitem" value="`+o.ID+`">`)
	wantContains(t, w.get("/runbooks/check", w.acme), "<td><code>mode</code></td>", "<code>fast</code>, <code>safe</code>",
		"Running a runbook needs the operator role.") // a viewer sees the parameters, not the form

	bad := w.form("/runbooks/check/run", w.op, "opsitem", o.ID, "p.used", "lots", "p.mode", "fast", "mode", "run")
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad, `<p class="field-error" id="p-used-err">parameter &#34;used&#34;: &#34;lots&#34; is not an int</p>`,
		`aria-invalid="true"`, `<option value="fast" selected>fast</option>`)
	wantStatus(t, w.form("/runbooks/check/run", w.acme, "p.used", "5"), http.StatusForbidden) // viewer

	res := w.form("/runbooks/check/run", w.op, "opsitem", o.ID, "p.used", "42", "mode", "run")
	wantStatus(t, res, http.StatusSeeOther)
	exPage := res.Header.Get("Location")
	if !strings.HasPrefix(exPage, "/executions/ex_") {
		t.Fatalf("run redirects to %q", exPage)
	}
	waitFor(t, "the execution to succeed", func() bool {
		return strings.Contains(w.get(exPage, w.op).body, `<p class="badges"><span class="badge ex-succeeded">succeeded</span>`)
	})
	wantContains(t, w.get(exPage, w.op), `<td>verify</td>`, `<th scope="row">used</th><td>42</td>`)
	item := w.get("/opsitems/"+o.ID, w.op)
	wantContains(t, item, "Runbook check started (execution "+strings.TrimPrefix(exPage, "/executions/"), `href="`+exPage+`">check</a>`)
	if got, _ := w.st.GetOpsItem(context.Background(), "acme", o.ID); got.HumanSince == nil {
		t.Errorf("running a runbook by hand did not start the in-hands clock")
	}

	// A dry run renders and runs nothing.
	dry := w.form("/runbooks/check/run", w.op, "p.used", "95", "mode", "dry-run")
	wantStatus(t, dry, http.StatusSeeOther)
	waitFor(t, "the dry run to end", func() bool {
		return strings.Contains(w.get(dry.Header.Get("Location"), w.op).body, "dry run")
	})

	// The approvals inbox.
	gated := w.form("/runbooks/gated/run", w.op, "mode", "run")
	wantStatus(t, gated, http.StatusSeeOther)
	id := strings.TrimPrefix(gated.Header.Get("Location"), "/executions/")
	waitFor(t, "the gated execution in the inbox", func() bool {
		return strings.Contains(w.get("/approvals", w.op2).body, `action="/executions/`+id+`/approve"`)
	})
	inbox := w.get("/approvals", w.op2)
	wantContains(t, inbox, "Restart the service?", `<label for="comment-`+id+`">`)
	wantLacks(t, w.get("/approvals", w.acme), `action="/executions/`+id+`/approve"`) // a viewer cannot decide
	// Four eyes: who started it cannot approve it.
	wantLacks(t, w.get("/approvals", w.op), `<label for="comment-`+id+`">`)
	wantStatus(t, w.form("/executions/"+id+"/approve", w.op, "comment", "mine"), http.StatusForbidden)
	dec := w.form("/executions/"+id+"/approve", w.op2, "comment", "go ahead", "back", "approvals")
	wantStatus(t, dec, http.StatusSeeOther)
	if loc := dec.Header.Get("Location"); loc != "/approvals" {
		t.Errorf("approve redirects to %q", loc)
	}
	waitFor(t, "the approved execution to succeed", func() bool {
		return strings.Contains(w.get("/executions/"+id, w.op).body, `<p class="badges"><span class="badge ex-succeeded">succeeded</span>`)
	})
	wantContains(t, w.get("/executions/"+id, w.op), "go ahead", "<strong>approve</strong>")
	wantContains(t, w.get("/approvals", w.op), "Nothing is waiting for approval.")
	wantStatus(t, w.form("/executions/"+id+"/approve", w.op), http.StatusConflict) // not waiting any more
	wantContains(t, w.get("/executions?status=succeeded", w.op), `href="/executions/`+id+`"`)

	// Targets from the form: a per-target step runs once per target, each
	// with its own row, status and log.
	wantContains(t, w.form("/runbooks/fanout/run", w.op, "targets", strings.Repeat("x", 300), "mode", "run"),
		"is longer than 256 bytes", `<textarea id="run-targets"`)
	fan := w.form("/runbooks/fanout/run", w.op, "targets", "web-1, web-2\nweb-3", "mode", "run")
	wantStatus(t, fan, http.StatusSeeOther)
	waitFor(t, "the fan-out to succeed", func() bool {
		return strings.Contains(w.get(fan.Header.Get("Location"), w.op).body, `<p class="badges"><span class="badge ex-succeeded">`)
	})
	fanPage := w.get(fan.Header.Get("Location"), w.op)
	for _, host := range []string{"web-1", "web-2", "web-3"} {
		wantContains(t, fanPage, "<td><code>"+host+"</code></td>", "hello from "+host)
	}
	if n := strings.Count(fanPage.body, `<tr class="target">`); n != 3 {
		t.Errorf("%d target rows, want 3", n)
	}

	// Deny from the execution page ends it as denied.
	gated = w.form("/runbooks/gated/run", w.op, "mode", "run")
	id = strings.TrimPrefix(gated.Header.Get("Location"), "/executions/")
	waitFor(t, "the second gated execution to wait", func() bool {
		return strings.Contains(w.get("/executions/"+id, w.op2).body, `action="/executions/`+id+`/deny"`)
	})
	wantContains(t, w.get("/executions/"+id, w.op), "You started this execution, so another approver decides (four eyes).")
	wantStatus(t, w.form("/executions/"+id+"/deny", w.op2, "comment", "not now"), http.StatusSeeOther)
	wantContains(t, w.get("/executions/"+id, w.op), `<p class="badges"><span class="badge ex-denied">denied</span>`, "not now")
}

// TestLiveStream follows the OpsItems list over the event stream: nothing
// is sent while the list is as the page showed it, and a new OpsItem
// arrives as an update of the list region.
func TestLiveStream(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	srv := httptest.NewServer(w.h)
	t.Cleanup(srv.Close)
	page := w.get("/opsitems", w.acme)
	version := between(page.body, `data-live-version="`, `"`)
	if version == "" {
		t.Fatal("the list has no live version")
	}
	open := func(path, v string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/live?"+url.Values{"path": {path}, "v": {v}}.Encode(), nil)
		req.AddCookie(sessionCookieFor(w.acme))
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	for _, bad := range []struct {
		path string
		want int
	}{{"//evil.example/x", 400}, {"/static/style.css", 404}, {"/login", 400}} {
		if res := open(bad.path, ""); res.StatusCode != bad.want {
			t.Errorf("live %s: %d, want %d", bad.path, res.StatusCode, bad.want)
		}
	}
	// Another tenant's pages end the stream at once, saying why, and show
	// nothing of them.
	for _, p := range []string{"/opsitems?tenant=globex", "/opsitems/" + w.items["Globex secret outage"].ID} {
		res := open(p, "")
		b, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(b), "event: end\n") || strings.Contains(string(b), "Globex secret outage") {
			t.Errorf("live %s as acme: %s", p, b)
		}
	}
	res := open("/opsitems", version)
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("live: %d %s", res.StatusCode, ct)
	}
	events := liveEvents(res)
	select {
	case ev := <-events:
		t.Fatalf("update sent while nothing changed: %.200s", ev)
	case <-time.After(300 * time.Millisecond):
	}
	ctx := context.Background()
	at := w.now.Add(time.Hour)
	err := w.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateOpsItem(ctx, store.OpsItem{ID: store.NewID("oi", at), TenantID: "acme", Title: "Arrived while watching",
			Category: "monitoring", Severity: "high", Status: "open", Source: "manual", CreatedAt: at, UpdatedAt: at})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if !strings.Contains(ev, `"items":`) || !strings.Contains(ev, "Arrived while watching") || strings.Contains(ev, "Globex") {
			t.Errorf("update: %.300s", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no update after a new OpsItem")
	}
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}

// TestWorkPagesChecks holds the work pages — an OpsItem with its forms, the
// runbooks, a run form with a refused value, executions, an execution
// waiting for approval, the inbox — to the checks every page passes:
// security headers, nothing from another origin, no inline code, a label
// on every control.
func TestWorkPagesChecks(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	o := w.items["Disk almost full on db-01"]
	gated := w.form("/runbooks/gated/run", w.op, "mode", "run", "opsitem", o.ID)
	wantStatus(t, gated, http.StatusSeeOther)
	ex := gated.Header.Get("Location")
	waitFor(t, "the gated execution to wait", func() bool {
		return strings.Contains(w.get(ex, w.op).body, "Waiting for approval")
	})
	responses := map[string]response{
		"refused run form": w.form("/runbooks/check/run", w.op, "p.used", "x", "p.hosts", "a,b", "mode", "run"),
		"refused note":     w.form("/opsitems/"+o.ID+"/notes", w.op),
	}
	for _, p := range []string{"/opsitems/" + o.ID, "/runbooks", "/runbooks/check?opsitem=" + o.ID, "/runbooks/gated",
		"/executions", "/executions?status=waiting_approval", ex, "/approvals", "/executions/ex_nope", "/runbooks/nope"} {
		for who, secret := range map[string]string{"operator": w.op, "viewer": w.acme} {
			responses[who+" GET "+p] = w.get(p, secret)
		}
	}
	pages := 0
	for name, r := range responses {
		checkHeaders(t, name, r)
		if checkOrigin(t, name, r) {
			pages++
		}
		checkLabels(t, name, r)
	}
	if pages != len(responses) {
		t.Errorf("%d of %d responses were pages", pages, len(responses))
	}
}

// TestLiveStreamsPerSession: 300 live streams opened by one session get
// their session's share and 429 beyond it, and another tenant's stream
// still opens; closing streams frees the session's share.
func TestLiveStreamsPerSession(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	open := liveOpener(t, w)
	codes := map[int]int{}
	var held []*http.Response
	for range 300 {
		res := open(w.acme)
		codes[res.StatusCode]++
		if res.StatusCode == http.StatusOK {
			held = append(held, res)
		} else {
			res.Body.Close()
		}
	}
	if codes[http.StatusOK] != maxLiveStreamsPerSession || codes[http.StatusTooManyRequests] != 300-maxLiveStreamsPerSession {
		t.Errorf("300 streams from one session: %v, want %d opened and the rest 429", codes, maxLiveStreamsPerSession)
	}
	if res := open(w.globex); res.StatusCode != http.StatusOK {
		t.Errorf("another tenant's stream: %d, want 200", res.StatusCode)
	}
	held[0].Body.Close()
	waitFor(t, "the closed stream's share freed", func() bool {
		res := open(w.acme)
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

// TestLiveStreamsShareRenders: eight streams of one session on one page
// take one render per interval between them, not one each (without the
// sharing they make some eight times as many).
func TestLiveStreamsShareRenders(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	open := liveOpener(t, w)
	var held []*http.Response
	for range maxLiveStreamsPerSession {
		res := open(w.acme)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d", res.StatusCode)
		}
		held = append(held, res)
	}
	interval := w.h.live.interval
	from, start := w.h.live.renders.Load(), time.Now()
	time.Sleep(20 * interval)
	renders, elapsed := w.h.live.renders.Load()-from, time.Since(start)
	ticks := float64(elapsed) / float64(interval)
	if renders < 1 {
		t.Fatal("no renders while streams were open")
	}
	if limit := int64(ticks/0.9) + 2; renders > limit {
		t.Errorf("%d streams of one session: %d renders in %.0f intervals, want at most %d (one per interval)", len(held), renders, ticks, limit)
	}
}

// TestExecutionPagesRedactSecrets: the execution pages show a parameter its
// runbook declares secret as [redacted], its value nowhere (parameters,
// step logs, errors), while other parameters show.
func TestExecutionPagesRedactSecrets(t *testing.T) {
	t.Parallel()
	w := newWorkEnvWith(t, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: with-secret}
spec:
  parameters: [{name: password, secret: true}, {name: user}]
  steps:
    - {name: check, action: assert, with: {that: "params.user != ''", message: "${{ params.password }}"}}
`, nil)
	ctx := context.Background()
	const pw = "hunter2-s3cret"
	id := store.NewID("ex", w.now)
	err := w.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateExecution(ctx, store.Execution{ID: id, TenantID: "acme", Runbook: "with-secret", Status: "failed",
			StartedBy: "token:x", Parameters: []byte(`{"password":"` + pw + `","user":"bobby"}`), CreatedAt: w.now, UpdatedAt: w.now}); err != nil {
			return err
		}
		return tx.PutExecutionSteps(ctx, []store.ExecutionStep{{TenantID: "acme", ExecutionID: id, Name: "check", Action: "assert", Status: "failed",
			Inputs: []byte(`{"message":"` + pw + `"}`), Log: "checked " + pw + "\n", Error: "wrong: " + pw}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/executions/" + id, "/executions"} {
		r := w.get(path, w.acme)
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, pw) {
			t.Errorf("%s shows the secret parameter's value", path)
		}
	}
	wantContains(t, w.get("/executions/"+id, w.acme), "[redacted]", "bobby")
}

// liveOpener serves w and returns a function opening a live stream of
// /opsitems (or the path and version given) as secret's session, closed
// when the test ends.
func liveOpener(t *testing.T, w *workEnv) func(secret string, pathAndVersion ...string) *http.Response {
	srv := httptest.NewServer(w.h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return func(secret string, pathAndVersion ...string) *http.Response {
		q := url.Values{"path": {"/opsitems"}}
		if len(pathAndVersion) == 2 {
			q = url.Values{"path": {pathAndVersion[0]}, "v": {pathAndVersion[1]}}
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/live?"+q.Encode(), nil)
		req.AddCookie(sessionCookieFor(secret))
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
}

// TestLiveSharedRenderCSRF: a live execution page whose regions carry an
// operator session's CSRF token (its cancel form) gets no update while nothing
// changes, and an update carries the stream's own CSRF token, not the
// shared render's stand-in.
func TestLiveSharedRenderCSRF(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	ctx := context.Background()
	id := store.NewID("ex", w.now)
	err := w.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateExecution(ctx, store.Execution{ID: id, TenantID: "acme", Runbook: "check", Status: "running",
			StartedBy: "token:x", Parameters: []byte(`{"used":5}`), CreatedAt: w.now, UpdatedAt: w.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	page := w.get("/executions/"+id, w.op)
	version := between(page.body, `data-live-version="`, `"`)
	if version == "" || !strings.Contains(page.body, csrfFor(w.op)) {
		t.Fatalf("the execution page has no live version or no CSRF token")
	}
	res := liveOpener(t, w)(w.op, "/executions/"+id, version)
	events := liveEvents(res)
	select {
	case ev := <-events:
		t.Fatalf("update sent while nothing changed: %.300s", ev)
	case <-time.After(400 * time.Millisecond):
	}
	err = w.st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutExecutionSteps(ctx, []store.ExecutionStep{{TenantID: "acme", ExecutionID: id, Name: "verify", Action: "assert", Status: "running"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if !strings.Contains(ev, csrfFor(w.op)) || strings.Contains(ev, liveCSRFStandIn) {
			t.Errorf("update without the session's CSRF token %s: %s", csrfFor(w.op), ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no update after a new step")
	}
}

// liveEvents reads a live stream's "data: " lines into a channel, closed
// when the stream ends.
func liveEvents(res *http.Response) <-chan string {
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				events <- line
			}
		}
		close(events)
	}()
	return events
}
