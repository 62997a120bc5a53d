package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestBreakerResetButton: the runbooks page lists a rule's open breaker
// for its target group with a Reset button for operators (none for
// viewers); pressing it closes the breaker, audited with the person.
func TestBreakerResetButton(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	ctx := context.Background()
	en := &rule.Engine{Rules: &rule.Rules{}, Now: func() time.Time { return w.now }}
	var err error
	w.h, err = New(Options{Store: w.st, Clock: func() time.Time { return w.now }, Runbooks: w.h.rb, Breakers: en})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutRuleState(ctx, store.RuleState{TenantID: "acme", Rule: "disk-cleanup@res_web1", Failures: 3,
			BreakerOpenedAt: w.now.Add(-time.Hour), UpdatedAt: w.now})
	}); err != nil {
		t.Fatal(err)
	}
	op := sessionCookieFor(w.op)
	page := w.get("/runbooks", w.op)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, `<h2 id="breakers">Circuit breakers</h2>`, "<code>res_web1</code>", "open since 2026-05-04 08:30 UTC",
		`action="/rules/disk-cleanup/breaker/reset"`, `aria-label="Reset the breaker of disk-cleanup for res_web1"`)
	if viewer := w.get("/runbooks", w.acme); strings.Contains(viewer.body, "breaker/reset") {
		t.Error("a viewer sees the Reset button")
	}
	res := w.post("/rules/disk-cleanup/breaker/reset", url.Values{csrfField: {csrfFor(w.op)}, "group": {"res_web1"}}, op)
	wantStatus(t, res, http.StatusSeeOther)
	if st, _ := w.st.GetRuleState(ctx, "acme", "disk-cleanup@res_web1"); st.BreakerOpen() || st.Failures != 0 {
		t.Errorf("after Reset: %+v", st)
	}
	wantContains(t, w.get("/audit?tenant=acme&action=rule.breaker", w.admin), "rule.breaker.reset", "rule.breaker.close", "token:"+w.opTok.ID)
	if page := w.get("/runbooks", w.op); strings.Contains(page.body, `id="breakers"`) {
		t.Error("the closed breaker is still listed")
	}
}
