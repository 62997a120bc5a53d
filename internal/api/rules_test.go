package api_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// tenantRule routes GuardDuty's Recon findings to notify-escalate for one
// tenant only, ahead of the library's rules.
const tenantRule = `apiVersion: flywheel/v1
kind: Rule
metadata: {name: recon-%[1]s, tenant: %[1]s}
spec:
  priority: 500
  when: event.source == "guardduty" && event.labels[?"threat_purpose"].orValue("") == "Recon"
  then: {runbook: notify-escalate, mode: suggest}
  stop: true
`

// harnessRules are the library's rules plus one scoped to each customer.
func harnessRules(t *testing.T) *rule.Rules {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, tenant := range customers {
		fsys[tenant+".yaml"] = &fstest.MapFile{Data: fmt.Appendf(nil, tenantRule, tenant)}
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// openBreaker stores an open breaker of tenant's rule recon-<tenant> for
// target group g.
func openBreaker(t *testing.T, h *harness, tenant, g string) {
	t.Helper()
	ctx := context.Background()
	if err := h.st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutRuleState(ctx, store.RuleState{TenantID: tenant, Rule: "recon-" + tenant + "@" + g, Failures: 3,
			BreakerOpenedAt: h.clock.Now(), UpdatedAt: h.clock.Now()})
	}); err != nil {
		t.Fatal(err)
	}
}

func init() {
	isolationCases["GET /api/v1/rules"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		openBreaker(t, h, other, "res_secret_"+other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[api.RuleStatus]
			h.call("GET", "/api/v1/rules", sec, nil).ok(t, 200, &l)
			names := map[string]bool{}
			for _, r := range l.Items {
				names[r.Name] = true
				if r.BreakerOpen && r.Name == "recon-"+other {
					t.Errorf("%s %s sees %s's breaker on %+v", self, role, other, r)
				}
			}
			if !names["recon-"+self] || names["recon-"+other] {
				t.Errorf("%s %s lists rules %v", self, role, names)
			}
			h.call("GET", "/api/v1/rules?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["GET /api/v1/rules/breakers"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		openBreaker(t, h, other, "res_secret_"+other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[api.BreakerView]
			h.call("GET", "/api/v1/rules/breakers", sec, nil).ok(t, 200, &l)
			for _, b := range l.Items {
				if b.Group == "res_secret_"+other || b.Rule == "recon-"+other {
					t.Errorf("%s %s sees %s's breaker %+v", self, role, other, b)
				}
			}
			h.call("GET", "/api/v1/rules/breakers?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/rules/{name}/breaker/reset"] = isoCase{body: api.BreakerReset{Group: "res_x"}, check: func(t *testing.T, h *harness, self, other string) {
		openBreaker(t, h, other, "res_theirs")
		sec := h.secret(self + "/operator")
		h.call("POST", "/api/v1/rules/recon-"+other+"/breaker/reset", sec, api.BreakerReset{Group: "res_theirs"}).fail(t, 404, "not_found")
		h.call("POST", "/api/v1/rules/recon-"+other+"/breaker/reset?tenant="+other, sec, api.BreakerReset{Group: "res_theirs"}).fail(t, 403, "forbidden")
		h.call("POST", "/api/v1/rules/recon-"+self+"/breaker/reset", h.secret(self+"/viewer"), nil).fail(t, 403, "forbidden")
		if st, err := h.st.GetRuleState(context.Background(), other, "recon-"+other+"@res_theirs"); err != nil || !st.BreakerOpen() {
			t.Errorf("%s's breaker after %s's attempts: %+v, %v", other, self, st, err)
		}
		openBreaker(t, h, self, "res_mine")
		var res api.BreakerResetResult
		h.call("POST", "/api/v1/rules/recon-"+self+"/breaker/reset", sec, api.BreakerReset{Group: "res_mine"}).ok(t, 200, &res)
		if res.Closed != 1 {
			t.Errorf("own reset closed %d", res.Closed)
		}
	}}
	isolationCases["GET /api/v1/rules/consolidation"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var v api.ConsolidationView
			h.call("GET", "/api/v1/rules/consolidation", sec, nil).ok(t, 200, &v)
			var rules []string
			for _, c := range v.GuardDuty.PerRunbook {
				rules = append(rules, c.Rules...)
			}
			if !slices.Contains(rules, "recon-"+self) || slices.Contains(rules, "recon-"+other) {
				t.Errorf("%s %s: consolidation uses rules %v", self, role, rules)
			}
			h.call("GET", "/api/v1/rules/consolidation?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
}

// The figure, per runbook counts and routes, computed from the rules the
// tenant sees: the library's, and the tenant's own ahead of them.
func TestConsolidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var v api.ConsolidationView
	h.call("GET", "/api/v1/rules/consolidation", h.secret(globex+"/viewer"), nil).ok(t, 200, &v)
	lib := rule.Consolidation(harnessRules(t).ForTenant(""), rule.GuardDutyFindingTypes())
	if lib.String() != "216 finding types → 5 runbooks" {
		t.Fatalf("library figure %s", lib)
	}
	// globex's Recon rule moves the Recon types to notify-escalate.
	if v.Figure != "216 GuardDuty finding types → 6 runbooks" || v.GuardDuty.Types != 216 || len(v.GuardDuty.Routes) != 216 || len(v.GuardDuty.Unrouted) != 0 {
		t.Errorf("figure %q, %d types, %d routes, unrouted %v", v.Figure, v.GuardDuty.Types, len(v.GuardDuty.Routes), v.GuardDuty.Unrouted)
	}
	recon := 0
	for _, r := range v.GuardDuty.Routes {
		if r.Type == "Recon:EC2/PortProbeUnprotectedPort" && (r.Rule != "recon-globex" || r.Runbook != "notify-escalate") {
			t.Errorf("route %+v", r)
		}
		if r.Rule == "recon-globex" {
			recon++
		}
	}
	total := 0
	for _, c := range v.GuardDuty.PerRunbook {
		total += c.Types
		if c.Runbook == "notify-escalate" && c.Types != recon {
			t.Errorf("notify-escalate counts %d types, %d routes go there", c.Types, recon)
		}
	}
	if total != 216 || recon == 0 {
		t.Errorf("per-runbook counts add up to %d (recon %d)", total, recon)
	}
	figures := map[string]string{}
	for _, s := range v.Sources {
		figures[s.Source] = s.Figure
	}
	want := map[string]string{"securityhub": "18 finding types → 3 runbooks", "inspector2": "3 finding types → 2 runbooks", "macie": "11 finding types → 2 runbooks"}
	if fmt.Sprint(figures) != fmt.Sprint(want) {
		t.Errorf("sources %v, want %v", figures, want)
	}
	h.call("GET", "/api/v1/rules/consolidation", "", nil).fail(t, 401, "unauthenticated")
}
