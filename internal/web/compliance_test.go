package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestCompliancePage: the trend, the last scores of packs, controls and
// accounts, the non-compliant resources and the exceptions of the tenant
// only, escaped.
func TestCompliancePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	day := 24 * time.Hour
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		var ss []store.ComplianceScore
		for i, pct := range []float64{40, 60} {
			at := e.now.Add(time.Duration(i-2) * day)
			ss = append(ss,
				store.ComplianceScore{TenantID: "acme", At: at, Scope: store.ScopeTenant, Compliant: int(pct), NonCompliant: 100 - int(pct), Percent: pct},
				store.ComplianceScore{TenantID: "acme", At: at, Scope: store.ScopePack, Name: "linux-host-baseline", Compliant: int(pct), NonCompliant: 100 - int(pct), Percent: pct},
				store.ComplianceScore{TenantID: "acme", At: at, Scope: store.ScopeControl, Name: "linux-host-baseline/Flywheel-Linux-1.0:SSH.1", Compliant: 1, Percent: 100},
				store.ComplianceScore{TenantID: "acme", At: at, Scope: store.ScopeAccount, Name: "hosts", Percent: pct})
		}
		if err := tx.AddComplianceScores(ctx, ss); err != nil {
			return err
		}
		if err := tx.PutComplianceResults(ctx, []store.ComplianceResult{{TenantID: "acme", Rule: "linux-sshd-root-login-disabled", ResourceID: "res_web01",
			ResourceType: "host", Account: "hosts", Status: "NON_COMPLIANT", Annotation: "PermitRootLogin is <yes>", Since: e.now, EvaluatedAt: e.now}}); err != nil {
			return err
		}
		return tx.CreateComplianceException(ctx, store.ComplianceException{ID: "cx_1", TenantID: "acme", TagKey: "role", TagValue: "router",
			Reason: "routers forward", Owner: "netops", ExpiresAt: e.now.Add(-time.Hour), CreatedBy: "test", CreatedAt: e.now.Add(-day)})
	})
	if err != nil {
		t.Fatal(err)
	}
	page := e.get("/compliance", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, `<span class="num" id="compliance-percent">60.00%</span>`, "2 evaluations in 30 days",
		`points="0.0,60.0 300.0,40.0"`, `<strong>linux-host-baseline</strong> 60.00%`, `<code>Flywheel-Linux-1.0:SSH.1</code>`,
		`<code>hosts</code> 60.00%`, "PermitRootLogin is &lt;yes&gt;", `href="/opsitems?resource=res_web01"`,
		`<td>every rule</td>`, `role=router`, `<span class="badge st-expired">expired</span>`, `href="/compliance"`)
	other := e.get("/compliance", e.globex)
	wantContains(t, other, "No evaluation yet.", "Nothing is non-compliant.", "No exceptions.")
}
