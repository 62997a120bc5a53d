package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func promState(h *harness, tenant string) string {
	c, err := h.st.GetPrometheusConnection(context.Background(), tenant)
	if err != nil {
		return "none"
	}
	return c.URL + " " + c.TokenEnv
}

func init() {
	// Other's connection seeded: self, with every role, neither sees nor
	// changes it by naming other's tenant, and its own calls show none of it.
	promCase := func(method string, body any) isoCase {
		return isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			ctx := context.Background()
			if err := h.st.InTx(ctx, func(tx store.Tx) error {
				return tx.PutPrometheusConnection(ctx, store.PrometheusConnection{TenantID: other, URL: "https://prom." + other + ".example.com",
					TokenEnv: "FLYWHEEL_SECRET_OF_" + strings.ToUpper(strings.ReplaceAll(other, "-", "_")), CreatedAt: epoch, UpdatedAt: epoch})
			}); err != nil {
				t.Fatal(err)
			}
			before := promState(h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				if r := h.call(method, "/api/v1/prometheus?tenant="+other, sec, body); r.Status != http.StatusForbidden {
					t.Errorf("%s %s naming %s: %v", self, role, other, r)
				}
				if r := h.call(method, "/api/v1/prometheus", sec, body); strings.Contains(string(r.Body), "prom."+other) {
					t.Errorf("%s %s sees %s's connection: %v", self, role, other, r)
				}
			}
			if after := promState(h, other); after != before {
				t.Errorf("%s's connection changed: %s → %s", other, before, after)
			}
		}}
	}
	isolationCases["GET /api/v1/prometheus"] = promCase("GET", nil)
	isolationCases["PUT /api/v1/prometheus"] = promCase("PUT", api.PrometheusInput{URL: "https://prom.mine.example.com"})
	isolationCases["DELETE /api/v1/prometheus"] = promCase("DELETE", nil)
}

// TestPrometheusAPI connects the tenant's Prometheus with docs/cost.md's
// example body, reads it back, refuses bad input with a 400 naming the
// problem, and disconnects.
func TestPrometheusAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, viewer := h.secret(acme+"/admin"), h.secret(acme+"/viewer")
	var doc api.PrometheusInput
	for _, b := range mdtest.Blocks(t, "../../docs/cost.md") {
		if b.Lang == "json" && strings.Contains(b.Text(), `"token_env"`) {
			if err := json.Unmarshal([]byte(b.Text()), &doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if doc.URL == "" {
		t.Fatal("docs/cost.md has no Prometheus connection example")
	}
	h.call("GET", "/api/v1/prometheus", viewer, nil).fail(t, 404, "not_found")
	h.call("PUT", "/api/v1/prometheus", viewer, doc).fail(t, 403, "forbidden")
	for body, want := range map[string]api.PrometheusInput{
		"scheme must be http or https": {URL: "file:///etc/passwd"},
		"holds credentials":            {URL: "https://u:p@prom.example.com"},
		"FLYWHEEL_* environment":       {URL: "https://prom.example.com", TokenEnv: "AWS_SECRET_ACCESS_KEY"},
	} {
		r := h.call("PUT", "/api/v1/prometheus", admin, want)
		r.fail(t, 400, "bad_request")
		if !strings.Contains(string(r.Body), body) {
			t.Errorf("400 %s does not say %q", r.Body, body)
		}
	}
	var got store.PrometheusConnection
	h.call("PUT", "/api/v1/prometheus", admin, doc).ok(t, 201, &got)
	if got.URL != doc.URL || got.TokenEnv != doc.TokenEnv || got.TenantID != acme {
		t.Errorf("put %+v", got)
	}
	h.call("PUT", "/api/v1/prometheus", admin, doc).ok(t, 200, &got)
	h.call("GET", "/api/v1/prometheus", viewer, nil).ok(t, 200, &got)
	if got.URL != doc.URL {
		t.Errorf("get %+v", got)
	}
	h.call("DELETE", "/api/v1/prometheus", admin, nil).ok(t, 204, nil)
	h.call("DELETE", "/api/v1/prometheus", admin, nil).fail(t, 404, "not_found")
}
