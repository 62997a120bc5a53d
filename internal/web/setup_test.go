package web

import (
	"context"
	"net/http"
	"strings"
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
// set up; one without aws steps says nothing about AWS.
func TestApprovalShowsAWSReadiness(t *testing.T) {
	t.Parallel()
	w := newWorkEnvWith(t, awsRunbooks, doctor.New(func(context.Context) doctor.Check {
		return doctor.Check{Name: "aws", Status: doctor.Todo, Summary: "No AWS credentials are configured, so AWS runbooks (block-it) cannot run.",
			Fix: "Give the server credentials."}
	}))
	ids := map[string]string{}
	for _, name := range []string{"block-it", "gated"} {
		res := w.form("/runbooks/"+name+"/run", w.op, "mode", "run")
		wantStatus(t, res, http.StatusSeeOther)
		ids[name] = strings.TrimPrefix(res.Header.Get("Location"), "/executions/")
	}
	waitFor(t, "both executions in the inbox", func() bool {
		b := w.get("/approvals", w.op).body
		return strings.Contains(b, `action="/executions/`+ids["block-it"]+`/approve"`) && strings.Contains(b, `action="/executions/`+ids["gated"]+`/approve"`)
	})
	inbox := w.get("/approvals", w.op)
	wantContains(t, inbox, "AWS: No AWS credentials are configured, so AWS runbooks (block-it) cannot run. Give the server credentials.")
	if n := strings.Count(inbox.body, "AWS: "); n != 1 {
		t.Errorf("the inbox shows AWS readiness %d times, want once (block-it only)", n)
	}
	wantContains(t, w.get("/executions/"+ids["block-it"], w.op), "AWS: No AWS credentials are configured")
	wantLacks(t, w.get("/executions/"+ids["gated"], w.op), "AWS: ")
}
