package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/store"
)

var (
	patchSeedMu sync.Mutex
	patchSeeded = map[*harness]map[string]bool{}
)

// patchCanary gives tenant a scanned host and an expedite whose names
// carry the tenant's name, so a leak shows in any answer.
func patchCanary(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	patchSeedMu.Lock()
	defer patchSeedMu.Unlock()
	id := "res_patchcanary" + tenant
	if patchSeeded[h][tenant] {
		return id
	}
	ctx := context.Background()
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutResource(ctx, store.Resource{ID: id, TenantID: tenant, Type: "host", Name: "patch-canary-" + tenant, CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
			return err
		}
		if err := tx.PutPatchState(ctx, store.PatchState{TenantID: tenant, ResourceID: id, Hostname: "patch-canary-" + tenant, Group: "group-" + tenant,
			Baseline: "debian-default", ScannedAt: epoch, Detail: json.RawMessage(`{"why":["missing pkg-` + tenant + `"]}`)}); err != nil {
			return err
		}
		return tx.PutExpedite(ctx, store.Expedite{ID: "exp_canary" + tenant, TenantID: tenant, Package: "pkg-" + tenant, Source: "canary",
			Targets: []string{id}, RequestedAt: epoch, DueAt: epoch, Status: store.ExpediteAwaitingApproval})
	})
	if err != nil {
		t.Fatal(err)
	}
	if patchSeeded[h] == nil {
		patchSeeded[h] = map[string]bool{}
	}
	patchSeeded[h][tenant] = true
	return id
}

func init() {
	// Reads show only self's hosts and expedites; naming other is refused.
	read := func(path string) isoCase {
		return isoCase{check: func(t *testing.T, h *harness, self, other string) {
			patchCanary(t, h, self)
			patchCanary(t, h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				r := h.call("GET", path, sec, nil)
				if role.Rank() < store.RoleViewer.Rank() {
					r.fail(t, 403, "forbidden")
					continue
				}
				r.ok(t, 200, nil)
				if strings.Contains(string(r.Body), other) {
					t.Errorf("%s %s: %s leaks %s: %s", self, role, path, other, r.Body)
				}
				h.call("GET", path+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}}
	}
	isolationCases["GET /api/v1/patch/compliance"] = read("/api/v1/patch/compliance")
	isolationCases["GET /api/v1/patch/baselines"] = read("/api/v1/patch/baselines")
	isolationCases["GET /api/v1/patch/expedites"] = read("/api/v1/patch/expedites")
	isolationCases["GET /api/v1/patch/hosts/{id}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		theirs := patchCanary(t, h, other)
		patchCanary(t, h, self)
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/patch/hosts/"+theirs, sec, nil)
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("%s %s reads %s's host: %v", self, role, other, r)
			}
			h.call("GET", "/api/v1/patch/hosts/"+theirs+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/patch/expedites"] = isoCase{body: patch.ExpediteRequest{Package: "openssl", Source: "sweep", Targets: []string{"res_nonexistent"}},
		check: func(t *testing.T, h *harness, self, other string) {
			theirs := patchCanary(t, h, other)
			before, _ := h.st.ListExpedites(context.Background(), other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				in := patch.ExpediteRequest{Package: "openssl", Source: "DSA-1", Targets: []string{theirs}}
				if r := h.call("POST", "/api/v1/patch/expedites", sec, in); r.Status != 400 && r.Status != 403 {
					t.Errorf("%s %s expedites on %s's host: %v", self, role, other, r)
				}
				if r := h.call("POST", "/api/v1/patch/expedites?tenant="+other, sec, in); r.Status != 403 {
					t.Errorf("%s %s naming %s: %v", self, role, other, r)
				}
			}
			if after, _ := h.st.ListExpedites(context.Background(), other); len(after) != len(before) {
				t.Errorf("%s's expedites changed: %d → %d", other, len(before), len(after))
			}
		}}
}

// TestPatchAPI: a host's state and the compliance report as the API
// answers them; bad input is a 400 naming the field.
func TestPatchAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := patchCanary(t, h, acme)
	sec := h.secret(acme + "/viewer")
	var rep patch.Report
	h.call("GET", "/api/v1/patch/compliance", sec, nil).ok(t, 200, &rep)
	if rep.Tenant.Hosts != 1 || rep.Tenant.Compliant != 0 || rep.Tenant.Percent != 0 || len(rep.Groups) != 1 || rep.Groups[0].Name != "group-"+acme {
		t.Errorf("compliance = %+v", rep)
	}
	var host patch.HostCompliance
	h.call("GET", "/api/v1/patch/hosts/"+id, sec, nil).ok(t, 200, &host)
	if len(host.Detail.Why) != 1 || host.Detail.Why[0] != "missing pkg-"+acme {
		t.Errorf("host = %+v", host)
	}
	h.call("GET", "/api/v1/patch/hosts/res_none", sec, nil).fail(t, 404, "not_found")
	badRequest(t, h.call("GET", "/api/v1/patch/compliance?days=0", sec, nil), `days \"0\"`)
	op := h.secret(acme + "/operator")
	for _, tc := range []struct {
		in   patch.ExpediteRequest
		want string
	}{
		{patch.ExpediteRequest{Package: "bad name", Source: "x", Targets: []string{id}}, "package"},
		{patch.ExpediteRequest{Package: "openssl", Targets: []string{id}}, "source"},
		{patch.ExpediteRequest{Package: "openssl", Source: "x"}, "targets"},
		{patch.ExpediteRequest{Package: "openssl", Source: "x", Targets: []string{"res_none"}}, "no such host"},
	} {
		badRequest(t, h.call("POST", "/api/v1/patch/expedites", op, tc.in), tc.want)
	}
	var l api.List[store.Expedite]
	h.call("GET", "/api/v1/patch/expedites", sec, nil).ok(t, 200, &l)
	if len(l.Items) != 1 || l.Items[0].Package != "pkg-"+acme {
		t.Errorf("expedites = %+v", l.Items)
	}
}

func badRequest(t *testing.T, r reply, want string) {
	t.Helper()
	r.fail(t, 400, "bad_request")
	if !strings.Contains(string(r.Body), want) {
		t.Errorf("400 %s does not name %q", r.Body, want)
	}
}
