package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// isoCase proves, for one route, that tenant self cannot read or change
// anything of tenant other.
type isoCase struct {
	// body is a valid request body for the route (POST, PATCH), used by
	// the sweep that calls every route with every token of self.
	body  any
	check func(t *testing.T, h *harness, self, other string)
}

// isolationCases has one entry per authenticated route; the test fails if
// a route is registered without one, so new endpoint families must prove
// their isolation too.
var isolationCases = map[string]isoCase{
	"GET /api/v1/tenants": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			for _, q := range []string{"", "?tenant=" + other} {
				var l api.List[store.Tenant]
				h.call("GET", "/api/v1/tenants"+q, h.secret(self+"/"+string(role)), nil).ok(t, 200, &l)
				if len(l.Items) != 1 || l.Items[0].ID != self {
					t.Errorf("%s %s lists tenants %+v, want only %s", self, role, l.Items, self)
				}
			}
		}
	}},
	"GET /api/v1/doctor": {check: func(t *testing.T, h *harness, self, other string) {
		// The server's setup is a platform admin's: a tenant's admin is refused.
		for _, q := range []string{"", "?tenant=" + other} {
			h.call("GET", "/api/v1/doctor"+q, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden")
		}
	}},
	"POST /api/v1/content/reload": {check: func(t *testing.T, h *harness, self, other string) {
		// Content is the server's, every tenant's: a tenant's admin
		// reloads it for no one.
		before := h.content.reloads.Load()
		for _, q := range []string{"", "?tenant=" + other} {
			h.call("POST", "/api/v1/content/reload"+q, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden")
		}
		if n := h.content.reloads.Load(); n != before {
			t.Errorf("a tenant admin's refused calls reloaded the content %d times", n-before)
		}
	}},
	"POST /api/v1/tenants": {body: api.TenantInput{ID: "sweep-tenant"}, check: func(t *testing.T, h *harness, self, other string) {
		before, _ := h.st.GetTenant(context.Background(), other)
		for _, q := range []string{"", "?tenant=" + other} {
			h.call("POST", "/api/v1/tenants"+q, h.secret(self+"/admin"), api.TenantInput{ID: other, Name: "taken over"}).fail(t, 403, "forbidden")
			h.call("POST", "/api/v1/tenants"+q, h.secret(self+"/admin"), api.TenantInput{ID: "newco-" + self}).fail(t, 403, "forbidden")
		}
		after, _ := h.st.GetTenant(context.Background(), other)
		if after != before {
			t.Errorf("tenant %s changed: %+v → %+v", other, before, after)
		}
		if _, err := h.st.GetTenant(context.Background(), "newco-"+self); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tenant admin created a tenant: %v", err)
		}
	}},
	"GET /api/v1/tenants/{id}": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/tenants/"+other, sec, nil)
			r.fail(t, 404, "not_found")
			if strings.Contains(string(r.Body), tenantName(other)) {
				t.Errorf("404 leaks the other tenant's name: %s", r.Body)
			}
			h.call("GET", "/api/v1/tenants/"+other+"?tenant="+other, sec, nil).fail(t, 404, "not_found")
			var own store.Tenant
			h.call("GET", "/api/v1/tenants/"+self, sec, nil).ok(t, 200, &own)
			if own.ID != self || own.Name != tenantName(self) {
				t.Errorf("own tenant = %+v", own)
			}
		}
	}},
	"GET /api/v1/tokens": {check: func(t *testing.T, h *harness, self, other string) {
		var l api.List[store.Token]
		h.call("GET", "/api/v1/tokens?limit=500", h.secret(self+"/admin"), nil).ok(t, 200, &l)
		if len(l.Items) == 0 {
			t.Fatal("own token list is empty")
		}
		for _, tok := range l.Items {
			if tok.TenantID != self {
				t.Errorf("%s admin sees token %s of tenant %s", self, tok.ID, tok.TenantID)
			}
		}
		h.call("GET", "/api/v1/tokens?tenant="+other, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden", "platform admin")
	}},
	"POST /api/v1/tokens": {body: api.TokenInput{Name: "sweep", Role: store.RoleViewer}, check: func(t *testing.T, h *harness, self, other string) {
		before := h.tokensOf(other)
		for _, in := range []api.TokenInput{{Name: "intruder", Role: store.RoleAdmin}, {Name: "intruder", Role: store.RoleAdmin, PlatformAdmin: true}} {
			h.call("POST", "/api/v1/tokens?tenant="+other, h.secret(self+"/admin"), in).fail(t, 403, "forbidden")
		}
		if after := h.tokensOf(other); mustJSON(t, after) != mustJSON(t, before) {
			t.Errorf("%s's tokens changed:\n%v\n→\n%v", other, before, after)
		}
		// Created without ?tenant=, the token lands in the caller's tenant.
		var created api.CreatedToken
		h.call("POST", "/api/v1/tokens", h.secret(self+"/admin"), api.TokenInput{Name: "own", Role: store.RoleViewer}).ok(t, 201, &created)
		if created.TenantID != self {
			t.Errorf("token created by %s admin belongs to %q", self, created.TenantID)
		}
	}},
	"DELETE /api/v1/tokens/{id}": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			victim := h.cred(other + "/" + string(role))
			h.call("DELETE", "/api/v1/tokens/"+victim.ID, h.secret(self+"/admin"), nil).fail(t, 404, "not_found")
			h.call("DELETE", "/api/v1/tokens/"+victim.ID+"?tenant="+other, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden")
			// The token still works.
			h.call("GET", "/api/v1/opsitems", victim.Secret, nil).ok(t, 200, nil)
		}
		for _, tok := range h.tokensOf(other) {
			if tok.RevokedAt != nil && tok.Name != other+"/revoked" {
				t.Errorf("token %s (%s) of %s is revoked", tok.ID, tok.Name, other)
			}
		}
	}},
	"GET /api/v1/audit": {check: func(t *testing.T, h *harness, self, other string) {
		if len(h.auditOf(other)) == 0 {
			t.Fatalf("%s has no audit records; the check would prove nothing", other)
		}
		var l api.List[store.AuditRecord]
		h.call("GET", "/api/v1/audit?limit=500", h.secret(self+"/admin"), nil).ok(t, 200, &l)
		for _, rec := range l.Items {
			if rec.TenantID != self {
				t.Errorf("%s admin sees audit record %d of tenant %s", self, rec.Seq, rec.TenantID)
			}
		}
		if want := len(h.auditOf(self)); len(l.Items) != want {
			t.Errorf("%s admin sees %d audit records, the chain has %d", self, len(l.Items), want)
		}
		h.call("GET", "/api/v1/audit?tenant="+other, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden")
	}},
	"GET /api/v1/audit/verify": {check: func(t *testing.T, h *harness, self, other string) {
		var rep audit.Report
		h.call("GET", "/api/v1/audit/verify", h.secret(self+"/admin"), nil).ok(t, 200, &rep)
		if rep.Tenant != self || rep.Records != int64(len(h.auditOf(self))) || !rep.OK() {
			t.Errorf("verify report %+v, want tenant %s with %d records, ok", rep, self, len(h.auditOf(self)))
		}
		h.call("GET", "/api/v1/audit/verify?tenant="+other, h.secret(self+"/admin"), nil).fail(t, 403, "forbidden")
	}},
	"GET /api/v1/opsitems": {check: func(t *testing.T, h *harness, self, other string) {
		want := ids(h.opsItemsOf(self))
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[store.OpsItem]
			h.call("GET", "/api/v1/opsitems?limit=500", sec, nil).ok(t, 200, &l)
			if !sameSet(ids(l.Items), want) {
				t.Errorf("%s %s lists %v, want %v", self, role, ids(l.Items), want)
			}
			// Searching for the other tenant's titles finds nothing.
			h.call("GET", "/api/v1/opsitems?q=canary-"+other, sec, nil).ok(t, 200, &l)
			if len(l.Items) != 0 {
				t.Errorf("%s %s finds %v searching for %s's items", self, role, ids(l.Items), other)
			}
			h.call("GET", "/api/v1/opsitems?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"POST /api/v1/opsitems": {body: api.OpsItemInput{Title: "sweep"}, check: func(t *testing.T, h *harness, self, other string) {
		before := h.opsItemsOf(other)
		for _, key := range []string{"/operator", "/admin"} {
			h.call("POST", "/api/v1/opsitems?tenant="+other, h.secret(self+key), api.OpsItemInput{Title: "planted"}).fail(t, 403, "forbidden")
		}
		if after := h.opsItemsOf(other); len(after) != len(before) {
			t.Errorf("%s has %d OpsItems, had %d", other, len(after), len(before))
		}
	}},
	"GET /api/v1/opsitems/{id}": {check: func(t *testing.T, h *harness, self, other string) {
		for _, o := range h.opsItemsOf(other) {
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				r := h.call("GET", "/api/v1/opsitems/"+o.ID, sec, nil)
				r.fail(t, 404, "not_found")
				if strings.Contains(string(r.Body), o.Title) {
					t.Errorf("404 leaks the title: %s", r.Body)
				}
				h.call("GET", "/api/v1/opsitems/"+o.ID+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}
	}},
	"GET /api/v1/events": {check: func(t *testing.T, h *harness, self, other string) {
		own, _, err := h.st.ListEvents(context.Background(), self, store.EventFilter{}, store.Page{Limit: store.MaxPageLimit})
		if err != nil || len(own) == 0 {
			t.Fatalf("%s has no events to list (%v)", self, err)
		}
		otherItem := h.opsItemsOf(other)[0].ID
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[store.Event]
			h.call("GET", "/api/v1/events?limit=500", sec, nil).ok(t, 200, &l)
			if len(l.Items) != len(own) {
				t.Errorf("%s %s lists %d events, %s has %d", self, role, len(l.Items), self, len(own))
			}
			for _, e := range l.Items {
				if e.TenantID != self {
					t.Errorf("%s %s sees event %s of %s", self, role, e.ID, e.TenantID)
				}
			}
			h.call("GET", "/api/v1/events?opsitem="+otherItem, sec, nil).ok(t, 200, &l)
			if len(l.Items) != 0 {
				t.Errorf("%s %s finds events of %s's OpsItem", self, role, other)
			}
			h.call("GET", "/api/v1/events?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/events/{id}/raw": {check: func(t *testing.T, h *harness, self, other string) {
		theirs, _, err := h.st.ListEvents(context.Background(), other, store.EventFilter{}, store.Page{Limit: store.MaxPageLimit})
		if err != nil || len(theirs) == 0 {
			t.Fatalf("%s has no events (%v)", other, err)
		}
		own, _, _ := h.st.ListEvents(context.Background(), self, store.EventFilter{}, store.Page{Limit: 1})
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			for _, e := range theirs {
				h.call("GET", "/api/v1/events/"+e.ID+"/raw", sec, nil).fail(t, 404, "not_found")
				h.call("GET", "/api/v1/events/"+e.ID+"/raw?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
			h.call("GET", "/api/v1/events/"+own[0].ID+"/raw", sec, nil).ok(t, 200, nil)
		}
	}},
	"GET /api/v1/opsitems/{id}/related": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			for _, o := range h.opsItemsOf(other) {
				h.call("GET", "/api/v1/opsitems/"+o.ID+"/related", sec, nil).fail(t, 404, "not_found")
				h.call("GET", "/api/v1/opsitems/"+o.ID+"/related?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
			var rel api.Related
			r := h.call("GET", "/api/v1/opsitems/"+pipelineItem(h, self)+"/related", sec, nil)
			r.ok(t, 200, &rel)
			if len(rel.Members) == 0 || len(rel.Timeline) == 0 || len(rel.Resources) == 0 {
				t.Fatalf("own related is empty: %s", r)
			}
			for _, m := range rel.Members {
				if m.TenantID != self {
					t.Errorf("member of %s in %s's OpsItem", m.TenantID, self)
				}
			}
			for _, e := range rel.Timeline {
				if e.TenantID != self {
					t.Errorf("timeline entry of %s in %s's OpsItem", e.TenantID, self)
				}
			}
		}
	}},
	"GET /api/v1/stats/noise": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var st api.NoiseStats
			h.call("GET", "/api/v1/stats/noise", sec, nil).ok(t, 200, &st)
			if st.Received != noiseReceived[self] {
				t.Errorf("%s %s: noise stats received %d, want %s's own %d", self, role, st.Received, self, noiseReceived[self])
			}
			h.call("GET", "/api/v1/stats/noise?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/stats/flywheel": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var st api.FlywheelStats
			h.call("GET", "/api/v1/stats/flywheel", sec, nil).ok(t, 200, &st)
			if st.Tenant != self || st.Received != noiseReceived[self] || len(st.Tenants) != 0 {
				t.Errorf("%s %s: flywheel stats of %s with %d received and %d tenants, want %s's own %d and none", self, role, st.Tenant, st.Received, len(st.Tenants), self, noiseReceived[self])
			}
			h.call("GET", "/api/v1/stats/flywheel?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			h.call("GET", "/api/v1/stats/flywheel?per_tenant=true", sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/automation/candidates": {check: func(t *testing.T, h *harness, self, other string) {
		mine := ids(h.opsItemsOf(self))
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[stats.Candidate]
			h.call("GET", "/api/v1/automation/candidates", sec, nil).ok(t, 200, &l)
			for _, c := range l.Items {
				for _, ex := range c.Examples {
					if !slices.Contains(mine, ex.ID) {
						t.Errorf("%s %s: candidate %s lists OpsItem %s of another tenant", self, role, c.ID, ex.ID)
					}
				}
			}
			h.call("GET", "/api/v1/automation/candidates?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/automation/candidates/{id}/rule": {check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			h.call("GET", "/api/v1/automation/candidates/cand_000000000000/rule", sec, nil).fail(t, 404, "not_found")
			h.call("GET", "/api/v1/automation/candidates/cand_000000000000/rule?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}},
	"GET /api/v1/opsitems/{id}/rule": {check: func(t *testing.T, h *harness, self, other string) {
		for _, o := range h.opsItemsOf(other) {
			for _, role := range roles {
				r := h.call("GET", "/api/v1/opsitems/"+o.ID+"/rule?runbook=noop", h.secret(self+"/"+string(role)), nil)
				r.fail(t, 404, "not_found")
				if strings.Contains(string(r.Body), o.Title) {
					t.Errorf("%s's rule draft shows %s's OpsItem title", self, other)
				}
			}
		}
	}},
	"POST /api/v1/automation/rules": {body: api.DraftRuleInput{OpsItem: "oi_sweep"}, check: func(t *testing.T, h *harness, self, other string) {
		for _, o := range h.opsItemsOf(other) {
			h.call("POST", "/api/v1/automation/rules", h.secret(self+"/admin"), api.DraftRuleInput{OpsItem: o.ID, Runbook: "noop"}).fail(t, 404, "not_found")
			h.call("POST", "/api/v1/automation/rules?tenant="+other, h.secret(self+"/admin"), api.DraftRuleInput{OpsItem: o.ID, Runbook: "noop"}).fail(t, 403, "forbidden")
			h.call("POST", "/api/v1/automation/rules", h.secret(self+"/operator"), api.DraftRuleInput{OpsItem: o.ID, Runbook: "noop"}).fail(t, 403, "forbidden")
		}
	}},
	"POST /api/v1/intake/{source}": {body: map[string]string{"alert": "sweep"}, check: func(t *testing.T, h *harness, self, other string) {
		checkIntakeIsolation(t, h, self, other, "/api/v1/intake/generic", "generic")
	}},
	"POST /api/v2/alerts": {body: map[string]string{"alert": "sweep"}, check: func(t *testing.T, h *harness, self, other string) {
		checkIntakeIsolation(t, h, self, other, "/api/v2/alerts", "alertmanager-v2")
	}},
	"PATCH /api/v1/opsitems/{id}": {body: api.OpsItemPatch{Status: ptr("resolved")}, check: func(t *testing.T, h *harness, self, other string) {
		before := h.opsItemsOf(other)
		for _, o := range before {
			for _, key := range []string{"/operator", "/admin"} {
				patch := api.OpsItemPatch{Title: ptr("pwned"), Status: ptr("resolved")}
				h.call("PATCH", "/api/v1/opsitems/"+o.ID, h.secret(self+key), patch).fail(t, 404, "not_found")
				h.call("PATCH", "/api/v1/opsitems/"+o.ID+"?tenant="+other, h.secret(self+key), patch).fail(t, 403, "forbidden")
			}
		}
		if after := h.opsItemsOf(other); mustJSON(t, after) != mustJSON(t, before) {
			t.Errorf("%s's OpsItems changed:\n%v\n→\n%v", other, before, after)
		}
	}},
}

func ptr[T any](v T) *T { return &v }

// checkIntakeIsolation: deliveries land in the caller's tenant, and naming
// another with ?tenant= is refused before anything is committed.
func checkIntakeIsolation(t *testing.T, h *harness, self, other, path, source string) {
	before := len(h.intake.submitted())
	for _, key := range []string{"/operator", "/admin"} {
		h.call("POST", path+"?tenant="+other, h.secret(self+key), `{"alert":"planted"}`).fail(t, 403, "forbidden")
	}
	if got := h.intake.submitted()[before:]; len(got) != 0 {
		t.Errorf("refused deliveries were committed: %v", got)
	}
	h.call("POST", path, h.secret(self+"/operator"), `{"alert":"own"}`).ok(t, 200, nil)
	if got := h.intake.submitted()[before:]; len(got) != 1 || got[0] != self+"/"+source {
		t.Errorf("delivery committed as %v, want [%s/%s]", got, self, source)
	}
}

// noiseReceived is the seeded noise count per tenant, distinct so a
// mix-up shows.
var noiseReceived = map[string]int64{acme: 7, globex: 11}

// seedPipeline gives tenant an event, a member, a resource, a timeline
// entry and noise counts on its first OpsItem, all tagged "canary-<tenant>".
func seedPipeline(t *testing.T, h *harness, tenant string) {
	t.Helper()
	ctx, now := context.Background(), h.clock.Now()
	item := pipelineItem(h, tenant)
	canary := "canary-" + tenant
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		fp := "fp-" + canary
		if err := tx.InsertEvent(ctx, store.Event{ID: store.NewID("ev", now), TenantID: tenant, Source: "generic", Fingerprint: fp,
			Kind: "alert", Severity: "high", Status: "firing", Title: canary + "-event", OccurredAt: now, ReceivedAt: now,
			ResourceKey: canary + "-host", OpsItemID: item, Decision: "opened"}); err != nil {
			return err
		}
		if err := tx.PutOpsItemMember(ctx, store.OpsItemMember{TenantID: tenant, OpsItemID: item, Fingerprint: fp, Title: canary + "-member",
			Source: "generic", Severity: "high", Status: "firing", Occurrences: 1, FirstSeen: now, LastSeen: now}); err != nil {
			return err
		}
		if err := tx.AddOpsItemResource(ctx, tenant, item, store.OpsItemResource{Type: "host", ID: canary + "-host"}); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", now), TenantID: tenant, OpsItemID: item, At: now,
			Kind: "opened", Message: canary + "-timeline"}); err != nil {
			return err
		}
		return tx.AddNoise(ctx, store.NoiseBucket{TenantID: tenant, Minute: now.Truncate(time.Minute), Received: noiseReceived[tenant], Opened: 1})
	})
	if err != nil {
		t.Fatalf("seed pipeline data of %s: %v", tenant, err)
	}
}

// pipelineItem is the OpsItem seedPipeline hangs data on: the oldest.
func pipelineItem(h *harness, tenant string) string {
	items := h.opsItemsOf(tenant)
	return items[len(items)-1].ID
}

// TestTenantIsolation proves that no token of one tenant can read or change
// anything of another, for every authenticated route, on every driver.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, d.open(t))
			checkIsolationCoverage(t, h)
			// Both tenants get OpsItems (one changed) and so audit records.
			for _, tenant := range customers {
				for i := range 3 {
					o := h.createOpsItem(h.secret(tenant+"/operator"), api.OpsItemInput{
						Title: "canary-" + tenant + "-" + string(rune('a'+i)), Description: "only " + tenant + " may see this", Severity: "high"})
					if i == 0 {
						h.call("PATCH", "/api/v1/opsitems/"+o.ID, h.secret(tenant+"/operator"), api.OpsItemPatch{Status: ptr("in-progress")}).ok(t, 200, nil)
					}
				}
				seedPipeline(t, h, tenant)
			}
			for _, pair := range [][2]string{{acme, globex}, {globex, acme}} {
				self, other := pair[0], pair[1]
				t.Run(self+"_cannot_reach_"+other, func(t *testing.T) {
					snap := snapshot(t, h, other)
					delivered := len(h.intake.submitted())
					for _, rt := range h.srv.Routes() {
						if rt.MinRole == "" {
							continue
						}
						key := rt.Method + " " + rt.Pattern
						t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
							isolationCases[key].check(t, h, self, other)
						})
					}
					t.Run("sweep", func(t *testing.T) { sweep(t, h, self, other) })
					if now := snapshot(t, h, other); now != snap {
						t.Errorf("%s's data changed while %s's tokens were used:\nbefore %s\nafter  %s", other, self, snap, now)
					}
					for _, d := range h.intake.submitted()[delivered:] {
						if !strings.HasPrefix(d, self+"/") {
							t.Errorf("%s's tokens committed an intake delivery as %s", self, d)
						}
					}
					if rep, err := audit.Verify(context.Background(), h.st, self); err != nil || !rep.OK() {
						t.Errorf("audit chain of %s: %+v, %v", self, rep, err)
					}
				})
			}
			t.Run("platform_admin_crosses_tenants", func(t *testing.T) { platformAdminCrosses(t, h) })
		})
	}
}

// checkIsolationCoverage fails when an authenticated route has no
// isolation case, or a case names a route that no longer exists.
func checkIsolationCoverage(t *testing.T, h *harness) {
	t.Helper()
	registered := map[string]bool{}
	for _, rt := range h.srv.Routes() {
		if rt.MinRole == "" {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		registered[key] = true
		if _, ok := isolationCases[key]; !ok {
			t.Errorf("route %s has no tenant-isolation case: add one to isolationCases in isolation_test.go", key)
		}
	}
	for key := range isolationCases {
		if !registered[key] {
			t.Errorf("isolation case %s names no registered route", key)
		}
	}
	families := map[string]bool{}
	for key := range registered {
		families[strings.Split(key, "/")[3]] = true
	}
	for _, f := range []string{"tenants", "tokens", "audit", "opsitems"} {
		if !families[f] {
			t.Errorf("no authenticated route in the %s family", f)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// snapshot renders everything of tenant that a request could change.
func snapshot(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	seq, head, err := h.st.AuditHead(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return dataSnapshot(t, h, tenant) + mustJSON(t, map[string]any{"audit_seq": seq, "audit_head": head})
}

// dataSnapshot is snapshot without the audit chain.
func dataSnapshot(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	ten, err := h.st.GetTenant(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{"tenant": ten, "opsitems": h.opsItemsOf(tenant), "tokens": h.tokensOf(tenant)})
}

// sweep calls every authenticated route with every role of self, aimed at
// each kind of object of other (by path ID and by ?tenant=), and checks no
// response carries anything of other and nothing 2xx acts on other.
func sweep(t *testing.T, h *harness, self, other string) {
	// What must never cross is content: titles, descriptions, token
	// prefixes, audit hashes, the tenant's name. IDs are not secrets: the
	// cases above aim at every OpsItem and role token of other, so those IDs
	// are self's own words and come back in errors and in self's records of
	// its denied calls. Only IDs self never sent are canaries.
	targets := []string{h.opsItemsOf(other)[0].ID, h.cred(other + "/viewer").ID, other}
	canaries := []string{tenantName(other), "canary-" + other}
	for _, o := range h.opsItemsOf(other) {
		if strings.HasPrefix(o.Title, "canary-") {
			canaries = append(canaries, o.Title, o.Description)
		}
	}
	for _, tok := range h.tokensOf(other) {
		canaries = append(canaries, tok.Prefix)
		if !slices.Contains([]string{"viewer", "operator", "admin"}, strings.TrimPrefix(tok.Name, other+"/")) {
			canaries = append(canaries, tok.ID)
		}
	}
	for _, rec := range h.auditOf(other) {
		canaries = append(canaries, rec.Hash)
	}

	n := 0
	for _, rt := range h.srv.Routes() {
		if rt.MinRole == "" {
			continue
		}
		paths := []string{rt.Pattern}
		if strings.Contains(rt.Pattern, "{") {
			paths = paths[:0]
			for _, id := range targets {
				paths = append(paths, concretePath(rt.Pattern, id))
			}
		}
		for _, p := range paths {
			for _, q := range []string{"", "?tenant=" + other} {
				for _, role := range roles {
					r := h.call(rt.Method, p+q, h.secret(self+"/"+string(role)), isolationCases[rt.Method+" "+rt.Pattern].body)
					n++
					body := string(r.Body)
					for _, c := range canaries {
						if strings.Contains(body, c) {
							t.Errorf("%s (%s %s) leaks %q of %s", r, self, role, c, other)
						}
					}
					if r.Status < 300 && strings.Contains(body, `"tenant":"`+other+`"`) {
						t.Errorf("%s (%s %s) acted on %s", r, self, role, other)
					}
					if q != "" && r.Status < 300 && slices.Contains([]string{"POST", "PATCH", "DELETE"}, rt.Method) {
						t.Errorf("%s (%s %s): a mutating call naming another tenant succeeded", r, self, role)
					}
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("sweep made only %d requests", n)
	}
}

// platformAdminCrosses checks the one sanctioned way across tenants.
func platformAdminCrosses(t *testing.T, h *harness) {
	sec := h.secret(platform)
	for _, tenant := range customers {
		var l api.List[store.OpsItem]
		h.call("GET", "/api/v1/opsitems?limit=500&tenant="+tenant, sec, nil).ok(t, 200, &l)
		if want := ids(h.opsItemsOf(tenant)); len(want) == 0 || !sameSet(ids(l.Items), want) {
			t.Errorf("platform admin sees %v of %s, want %v", ids(l.Items), tenant, want)
		}
		o := h.opsItemsOf(tenant)[0]
		var got store.OpsItem
		h.call("GET", "/api/v1/opsitems/"+o.ID+"?tenant="+tenant, sec, nil).ok(t, 200, &got)
		if got.ID != o.ID || got.TenantID != tenant {
			t.Errorf("platform admin got %+v", got)
		}
		// Without ?tenant= it acts on its own tenant, where the item is not.
		h.call("GET", "/api/v1/opsitems/"+o.ID, sec, nil).fail(t, 404, "not_found")
		// The sweep leaves more records than a page holds: read them all.
		var seen int
		for cursor := ""; ; {
			var recs api.List[store.AuditRecord]
			h.call("GET", "/api/v1/audit?limit=500&tenant="+tenant+"&cursor="+cursor, sec, nil).ok(t, 200, &recs)
			seen += len(recs.Items)
			if cursor = recs.NextCursor; cursor == "" {
				break
			}
		}
		if seen != len(h.auditOf(tenant)) {
			t.Errorf("platform admin sees %d audit records of %s, want %d", seen, tenant, len(h.auditOf(tenant)))
		}
		var ten store.Tenant
		h.call("GET", "/api/v1/tenants/"+tenant, sec, nil).ok(t, 200, &ten)
	}
	var l api.List[store.Tenant]
	h.call("GET", "/api/v1/tenants", sec, nil).ok(t, 200, &l)
	var got []string
	for _, ten := range l.Items {
		got = append(got, ten.ID)
	}
	if !sameSet(got, []string{acme, globex, platform}) {
		t.Errorf("platform admin lists tenants %v", got)
	}
	h.call("GET", "/api/v1/opsitems?tenant=nosuch", sec, nil).fail(t, http.StatusNotFound, "not_found", "nosuch")
}
