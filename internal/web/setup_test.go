package web

import (
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
