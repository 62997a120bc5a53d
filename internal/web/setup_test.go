package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/doctor"
)

// TestOverviewShowsSetupTasks: a platform admin sees the setup check's open
// tasks on the overview, once, with what to do; a tenant's viewer does not
// (the server's setup is not theirs), and a check that is OK is no task.
func TestOverviewShowsSetupTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.h.doctor = doctor.New(
		doctor.Notifications([]string{`<builtin>/rules/guardduty-credential-misuse.yaml:2: Rule "guardduty-credential-misuse": spec.then.notify.channel: "security" is not a notification channel configured on this server (none is configured)`}),
		doctor.Notifications(nil),
	)
	page := e.get("/?tenant=acme", e.admin)
	if page.StatusCode != 200 {
		t.Fatalf("GET / = %d\n%s", page.StatusCode, page.body)
	}
	wantContains(t, page, "Setup tasks", "guardduty-credential-misuse", "a channel this server does not have", "Configure the channel under notifications:")
	if n := strings.Count(page.body, "<strong>notifications"); n != 1 {
		t.Errorf("%d notification tasks on the page, want 1 (the OK check is no task)", n)
	}
	if viewer := e.get("/", e.acme); strings.Contains(viewer.body, "Setup tasks") {
		t.Error("a tenant viewer sees the server's setup tasks")
	}
}

const awsRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: block-it}
spec:
  parameters: [{name: account, type: string, default: ""}]
  steps:
    - {name: ask, action: approve, with: {message: "Block public access?"}}
    - {name: block, action: aws, with: {host: bucket}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: gated}
spec:
  steps:
    - {name: ask, action: approve, with: {message: "Restart the service?"}}
`

// TestApprovalShowsAWSReadiness: an execution of a runbook with aws steps
// waiting for approval says, in the inbox and on its page, whether AWS is
// set up — in the check's tenant-safe sentence, never the admin summary
// naming other tenants' accounts — and when the credentials are for
// another account than the execution's; one without aws steps says
// nothing about AWS.
func TestApprovalShowsAWSReadiness(t *testing.T) {
	t.Parallel()
	check := doctor.Check{Name: "aws", Status: doctor.Todo, Summary: "No AWS credentials are configured, so AWS runbooks (block-it) cannot run.",
		Details: []string{"account 999988887777 (findings in tenant globex): no credentials"},
		Brief:   "No AWS credentials are configured on this server, so AWS steps will fail.", Fix: "Give the server credentials."}
	var mu sync.Mutex
	w := newWorkEnvWith(t, awsRunbooks, doctor.New(func(context.Context) doctor.Check {
		mu.Lock()
		defer mu.Unlock()
		return check
	}))
	start := func(name string, kv ...string) string {
		res := w.form("/runbooks/"+name+"/run", w.op, append([]string{"mode", "run"}, kv...)...)
		wantStatus(t, res, http.StatusSeeOther)
		id := strings.TrimPrefix(res.Header.Get("Location"), "/executions/")
		waitFor(t, name+" in the inbox", func() bool {
			return strings.Contains(w.get("/approvals", w.op2).body, `action="/executions/`+id+`/approve"`)
		})
		return id
	}
	blockIt, gated := start("block-it", "p.account", "111122223333"), start("gated")
	inbox := w.get("/approvals", w.op)
	wantContains(t, inbox, "AWS: No AWS credentials are configured on this server, so AWS steps will fail.")
	wantLacks(t, inbox, "999988887777", "globex")
	if n := strings.Count(inbox.body, "AWS: "); n != 1 {
		t.Errorf("the inbox shows AWS readiness %d times, want once (block-it only)", n)
	}
	wantContains(t, w.get("/executions/"+blockIt, w.op), "AWS: No AWS credentials are configured on this server")
	wantLacks(t, w.get("/executions/"+gated, w.op), "AWS: ")

	mu.Lock()
	check = doctor.Check{Name: "aws", Status: doctor.OK, Account: "444455556666", Brief: "The server's AWS credentials work.",
		Summary: "AWS credentials work for account 444455556666."}
	mu.Unlock()
	wantContains(t, w.get("/executions/"+blockIt, w.op),
		"AWS: The server&#39;s AWS credentials work. They are for another AWS account than this execution&#39;s (111122223333), so AWS will refuse it.")
}
