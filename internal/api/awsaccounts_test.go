package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/api"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const awsAcct = "123456789012"

// seedAWSAccount gives tenant an account and one resource its inventory
// wrote.
func seedAWSAccount(t *testing.T, h *harness, tenant string) {
	t.Helper()
	ctx := context.Background()
	if err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutAWSAccount(ctx, store.AWSAccount{TenantID: tenant, ID: awsAcct, Name: tenant + "-prod", Regions: []string{"eu-west-1"},
			RoleARN: "arn:aws:iam::" + awsAcct + ":role/Flywheel", ExternalID: "secret-" + tenant, CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
			return err
		}
		return tx.SetAWSAccountResource(ctx, tenant, awsAcct, "arn:aws:s3:::"+tenant+"-bucket", store.AWSResourceState{Type: "AWS::S3::Bucket", Hash: "h"})
	}); err != nil {
		t.Fatal(err)
	}
}

// awsState is what other's AWS accounts look like, to prove self changed
// nothing of it.
func awsState(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	a, err := h.st.GetAWSAccount(context.Background(), tenant, awsAcct)
	if err != nil {
		return "none: " + err.Error()
	}
	return a.Name + " " + strings.Join(a.Regions, ",") + " " + a.RoleARN + " " + a.ExternalID
}

func init() {
	// Each route with other's account seeded: self, with every role, can
	// neither see nor change it, by id or by naming other's tenant.
	awsCase := func(method, path string, body any) isoCase {
		return isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			seedAWSAccount(t, h, other)
			before := awsState(t, h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				p := strings.ReplaceAll(path, "{id}", awsAcct)
				if r := h.call(method, p+"?tenant="+other, sec, body); r.Status != http.StatusForbidden {
					t.Errorf("%s %s naming %s: %v", self, role, other, r)
				}
				r := h.call(method, p, sec, body)
				if strings.Contains(string(r.Body), other+"-prod") || strings.Contains(string(r.Body), "secret-") {
					t.Errorf("%s %s sees %s's account: %v", self, role, other, r)
				}
			}
			if after := awsState(t, h, other); after != before {
				t.Errorf("%s's account changed: %s → %s", other, before, after)
			}
		}}
	}
	isolationCases["GET /api/v1/aws/accounts"] = awsCase("GET", "/api/v1/aws/accounts", nil)
	isolationCases["GET /api/v1/aws/accounts/{id}"] = awsCase("GET", "/api/v1/aws/accounts/{id}", nil)
	isolationCases["PUT /api/v1/aws/accounts/{id}"] = awsCase("PUT", "/api/v1/aws/accounts/{id}", api.AWSAccountInput{Name: "mine", Regions: []string{"us-east-1"}})
	isolationCases["DELETE /api/v1/aws/accounts/{id}"] = awsCase("DELETE", "/api/v1/aws/accounts/{id}", nil)
	isolationCases["POST /api/v1/aws/accounts/{id}/inventory"] = awsCase("POST", "/api/v1/aws/accounts/{id}/inventory", nil)
}

// TestAWSAccountsAPI adds the recorded account, reads it, inventories it
// (replayed through the real SDK) and removes it with its resources.
func TestAWSAccountsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	inv, pill, err := provider.Recorded("../../testdata/aws/acme")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h.srv = api.New(api.Options{Store: h.st, Clock: h.clock.Now, Registerer: reg, Gatherer: reg, AuthFailBurst: -1, DeniedAuditBurst: -1, AWS: inv})
	admin, operator := h.secret(acme+"/admin"), h.secret(acme+"/operator")

	h.call("PUT", "/api/v1/aws/accounts/"+awsAcct, admin, map[string]any{"regions": []string{"Ireland"}, "external_id": "x y"}).
		fail(t, 400, "bad_request", `region "Ireland" is not an AWS region name`, "external_id must be")
	h.call("PUT", "/api/v1/aws/accounts/12345", admin, api.AWSAccountInput{Regions: []string{"eu-west-1"}}).
		fail(t, 400, "bad_request", `id "12345" is not a 12-digit AWS account ID`)
	h.call("PUT", "/api/v1/aws/accounts/"+awsAcct, admin, map[string]any{"regions": []string{"eu-west-1"}, "role": "x"}).
		fail(t, 400, "bad_request", "role")

	in := api.AWSAccountInput{Name: "acme-prod", Regions: []string{"eu-west-1"}, RoleARN: "arn:aws:iam::" + awsAcct + ":role/FlywheelAudit", ExternalID: "msp-7f3a"}
	var got api.AWSAccount
	h.call("PUT", "/api/v1/aws/accounts/"+awsAcct, admin, in).ok(t, 201, &got)
	if got.ID != awsAcct || got.RoleARN != in.RoleARN || !got.ExternalIDSet || got.ExternalID != "" {
		t.Errorf("created %+v", got)
	}
	r := h.call("GET", "/api/v1/aws/accounts/"+awsAcct, h.secret(acme+"/viewer"), nil)
	if r.ok(t, 200, &got); strings.Contains(string(r.Body), "msp-7f3a") {
		t.Errorf("the external ID is shown: %s", r.Body)
	}
	for _, rec := range h.auditOf(acme) {
		if strings.Contains(string(rec.Detail), "msp-7f3a") {
			t.Errorf("the external ID is in the audit log: %+v", rec)
		}
	}

	var d provider.Diff
	h.call("POST", "/api/v1/aws/accounts/"+awsAcct+"/inventory", operator, nil).ok(t, 200, &d)
	if len(d.Added) != 33 || len(d.Errors) != 0 {
		t.Errorf("inventory added %d, errors %v", len(d.Added), d.Errors)
	}
	// The calls went through the role, assumed with the external ID.
	if calls := pill.CallsTo("sts.AssumeRole"); len(calls) != 1 || !strings.Contains(string(calls[0].Params), `"ExternalId":"msp-7f3a"`) {
		t.Errorf("AssumeRole calls %v", calls)
	}
	var list api.List[store.Resource]
	h.call("GET", "/api/v1/resources?type=AWS::S3::Bucket", h.secret(acme+"/viewer"), nil).ok(t, 200, &list)
	if len(list.Items) != 3 {
		t.Errorf("%d buckets listed, want 3", len(list.Items))
	}
	h.call("GET", "/api/v1/aws/accounts/"+awsAcct, admin, nil).ok(t, 200, &got)
	if got.Inventory.Resources != 33 || got.Inventory.Error != "" {
		t.Errorf("inventory status %+v", got.Inventory)
	}

	h.call("DELETE", "/api/v1/aws/accounts/"+awsAcct, admin, nil).ok(t, 204, nil)
	h.call("GET", "/api/v1/resources?type=AWS::S3::Bucket", admin, nil).ok(t, 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("%d buckets left after the account was removed", len(list.Items))
	}
	h.call("POST", "/api/v1/aws/accounts/"+awsAcct+"/inventory", operator, nil).fail(t, 404, "not_found")
}
