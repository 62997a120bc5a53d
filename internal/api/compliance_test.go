package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// complianceCanary stores a result, a change, a score and an exception of
// tenant, each carrying "canary-<tenant>", and returns the exception's id.
func complianceCanary(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	ctx := context.Background()
	now := h.clock.Now()
	ex := store.ComplianceException{ID: store.NewID("cx", now), TenantID: tenant, Rule: "canary-rule", Reason: "canary-" + tenant,
		Owner: "ops", ExpiresAt: now.Add(time.Hour), CreatedBy: "test", CreatedAt: now}
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutComplianceResults(ctx, []store.ComplianceResult{{TenantID: tenant, Rule: "canary-rule", ResourceID: "res-" + tenant,
			ResourceType: "host", Account: "hosts", Status: "NON_COMPLIANT", Annotation: "canary-" + tenant, Since: now, EvaluatedAt: now}}); err != nil {
			return err
		}
		if err := tx.AddComplianceChanges(ctx, []store.ComplianceChange{{TenantID: tenant, Rule: "canary-rule", ResourceID: "res-" + tenant,
			To: "NON_COMPLIANT", Annotation: "canary-" + tenant, At: now}}); err != nil {
			return err
		}
		if err := tx.AddComplianceScores(ctx, []store.ComplianceScore{{TenantID: tenant, At: now, Scope: store.ScopeTenant, NonCompliant: 1}}); err != nil {
			return err
		}
		return tx.CreateComplianceException(ctx, ex)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ex.ID
}

func init() {
	// Lists show only self's records, for every role; naming the other
	// tenant is refused.
	list := func(path string) isoCase {
		return isoCase{check: func(t *testing.T, h *harness, self, other string) {
			complianceCanary(t, h, self)
			complianceCanary(t, h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				var l api.List[map[string]any]
				r := h.call("GET", path, sec, nil)
				r.ok(t, 200, &l)
				if len(l.Items) == 0 {
					t.Errorf("%s: %s sees none of its own", path, self)
				}
				for _, it := range l.Items {
					if it["tenant"] != self {
						t.Errorf("%s %s lists %v", self, role, it)
					}
				}
				if strings.Contains(string(r.Body), "canary-"+other) {
					t.Errorf("%s leaks %s's records", path, other)
				}
				h.call("GET", path+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}}
	}
	for _, p := range []string{"results", "changes", "scores", "exceptions"} {
		isolationCases["GET /api/v1/compliance/"+p] = list("/api/v1/compliance/" + p)
	}
	in := api.ComplianceExceptionInput{Rule: "r", Reason: "why", Owner: "ops", ExpiresAt: epoch.Add(24 * time.Hour)}
	isolationCases["POST /api/v1/compliance/exceptions"] = isoCase{body: in, check: func(t *testing.T, h *harness, self, other string) {
		before, _, _ := h.st.ListComplianceExceptions(context.Background(), other, store.Page{Limit: store.MaxPageLimit})
		for _, role := range roles {
			h.call("POST", "/api/v1/compliance/exceptions?tenant="+other, h.secret(self+"/"+string(role)), in).fail(t, 403, "forbidden")
		}
		if after, _, _ := h.st.ListComplianceExceptions(context.Background(), other, store.Page{Limit: store.MaxPageLimit}); len(after) != len(before) {
			t.Errorf("%s got exceptions: %d, was %d", other, len(after), len(before))
		}
	}}
	isolationCases["DELETE /api/v1/compliance/exceptions/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		theirs := complianceCanary(t, h, other)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			if r := h.call("DELETE", "/api/v1/compliance/exceptions/"+theirs, sec, nil); r.Status != 404 && r.Status != 403 {
				t.Errorf("%s %s deleting %s's exception: %v", self, role, other, r)
			}
			h.call("DELETE", "/api/v1/compliance/exceptions/"+theirs+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
		if _, err := h.st.GetComplianceException(context.Background(), other, theirs); err != nil {
			t.Errorf("%s's exception: %v", other, err)
		}
	}}
}

// TestComplianceAPI: exceptions are created (operator), validated with
// 4xx naming the field, listed and deleted; results filter by status;
// scores by scope.
func TestComplianceAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op, viewer := h.secret(acme+"/operator"), h.secret(acme+"/viewer")
	complianceCanary(t, h, acme)
	exp := h.clock.Now().Add(48 * time.Hour)
	for _, tc := range []struct {
		in   api.ComplianceExceptionInput
		want string
	}{
		{api.ComplianceExceptionInput{Reason: "x", Owner: "o", ExpiresAt: exp}, "names a rule, a resource_id or a tag_key"},
		{api.ComplianceExceptionInput{Rule: "r", Owner: "o", ExpiresAt: exp}, "reason is required"},
		{api.ComplianceExceptionInput{Rule: "r", Reason: "x", ExpiresAt: exp}, "owner is required"},
		{api.ComplianceExceptionInput{Rule: "r", Reason: "x", Owner: "o", ExpiresAt: h.clock.Now()}, "expires_at must be in the future"},
		{api.ComplianceExceptionInput{Rule: "r", Reason: "x", Owner: "o", ExpiresAt: h.clock.Now().Add(400 * 24 * time.Hour)}, "more than 366 days"},
		{api.ComplianceExceptionInput{TagValue: "dev", Reason: "x", Owner: "o", ExpiresAt: exp}, "tag_value needs a tag_key"},
		{api.ComplianceExceptionInput{Rule: "a rule!", Reason: "x", Owner: "o", ExpiresAt: exp}, "is not a content name"},
	} {
		h.call("POST", "/api/v1/compliance/exceptions", op, tc.in).fail(t, http.StatusBadRequest, "bad_request", tc.want)
	}
	in := api.ComplianceExceptionInput{Rule: "linux-sshd-root-login-disabled", TagKey: "env", TagValue: "lab", Reason: "lab hosts", Owner: "platform-team", ExpiresAt: exp}
	h.call("POST", "/api/v1/compliance/exceptions", viewer, in).fail(t, http.StatusForbidden, "forbidden")
	var ex store.ComplianceException
	r := h.call("POST", "/api/v1/compliance/exceptions", op, in)
	r.ok(t, http.StatusCreated, &ex)
	if ex.TenantID != acme || ex.TagValue != "lab" || !ex.ExpiresAt.Equal(exp) || !strings.HasPrefix(ex.CreatedBy, "token:") {
		t.Errorf("created %+v", ex)
	}
	var l api.List[store.ComplianceException]
	h.call("GET", "/api/v1/compliance/exceptions", viewer, nil).ok(t, http.StatusOK, &l)
	if len(l.Items) != 2 || l.Items[0].ID != ex.ID {
		t.Errorf("exceptions %+v", l.Items)
	}
	h.call("DELETE", "/api/v1/compliance/exceptions/"+ex.ID, op, nil).ok(t, http.StatusNoContent, nil)
	h.call("DELETE", "/api/v1/compliance/exceptions/"+ex.ID, op, nil).fail(t, http.StatusNotFound, "not_found")

	var res api.List[store.ComplianceResult]
	h.call("GET", "/api/v1/compliance/results?status=NON_COMPLIANT", viewer, nil).ok(t, http.StatusOK, &res)
	if len(res.Items) != 1 || res.Items[0].Annotation != "canary-"+acme {
		t.Errorf("results %+v", res.Items)
	}
	h.call("GET", "/api/v1/compliance/results?status=COMPLIANT", viewer, nil).ok(t, http.StatusOK, &res)
	if len(res.Items) != 0 {
		t.Errorf("compliant results %+v", res.Items)
	}
	h.call("GET", "/api/v1/compliance/results?status=BROKEN", viewer, nil).fail(t, http.StatusBadRequest, "bad_request", "status \"BROKEN\"")
	var sc api.List[store.ComplianceScore]
	h.call("GET", "/api/v1/compliance/scores", viewer, nil).ok(t, http.StatusOK, &sc)
	if len(sc.Items) != 1 || sc.Items[0].NonCompliant != 1 {
		t.Errorf("scores %+v", sc.Items)
	}
	h.call("GET", "/api/v1/compliance/scores?scope=galaxy", viewer, nil).fail(t, http.StatusBadRequest, "bad_request", "scope")
	h.call("GET", "/api/v1/compliance/scores?since=yesterday", viewer, nil).fail(t, http.StatusBadRequest, "bad_request", "since")
}
