package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// packContent stands in for the application's content changer: the change
// commits in one transaction (the application also loads the content as
// it will be and reloads every replica: internal/app's tests).
type packContent struct{ st store.Store }

func (p packContent) ChangeContent(ctx context.Context, _ string, change func(context.Context, store.Tx) error) error {
	return p.st.InTx(ctx, func(tx store.Tx) error { return change(ctx, tx) })
}

func init() {
	// Other has the PostgreSQL pack installed: self, with every role,
	// neither sees nor changes that installation, naming other's tenant or
	// not.
	packCase := func(method, path string, body any) isoCase {
		return isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			ctx := context.Background()
			p, ok := pack.Find("postgresql")
			if !ok {
				t.Fatal("no postgresql pack")
			}
			// Self starts without the pack (an earlier case may have
			// seeded self as the other tenant).
			_ = h.st.InTx(ctx, func(tx store.Tx) error { return tx.DeletePackInstallation(ctx, self, "postgresql") })
			if err := h.st.InTx(ctx, func(tx store.Tx) error {
				return tx.PutPackInstallation(ctx, store.PackInstallation{TenantID: other, Name: "postgresql", Version: "0.9.0", Digest: "other-digest",
					InstalledAt: epoch, InstalledBy: "token:other", UpdatedAt: epoch})
			}); err != nil {
				t.Fatal(err)
			}
			// A copy: the case runs for several tenant pairs in parallel.
			target := strings.ReplaceAll(path, "{name}", p.Name)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				if r := h.call(method, target+"?tenant="+other, sec, body); r.Status != http.StatusForbidden {
					t.Errorf("%s %s naming %s: %v", self, role, other, r)
				}
				if r := h.call(method, target, sec, body); strings.Contains(string(r.Body), "0.9.0") || strings.Contains(string(r.Body), "other-digest") {
					t.Errorf("%s %s sees %s's installation: %v", self, role, other, r)
				}
			}
			in, err := h.st.GetPackInstallation(ctx, other, "postgresql")
			if err != nil || in.Version != "0.9.0" || in.Digest != "other-digest" {
				t.Errorf("%s's installation changed: %+v, %v", other, in, err)
			}
			_ = h.st.InTx(ctx, func(tx store.Tx) error { return tx.DeletePackInstallation(ctx, other, "postgresql") })
		}}
	}
	isolationCases["GET /api/v1/packs"] = packCase("GET", "/api/v1/packs", nil)
	isolationCases["GET /api/v1/packs/{name}"] = packCase("GET", "/api/v1/packs/{name}", nil)
	isolationCases["POST /api/v1/packs/{name}/diff"] = packCase("POST", "/api/v1/packs/{name}/diff", service.PackRequest{})
	isolationCases["POST /api/v1/packs/{name}/install"] = packCase("POST", "/api/v1/packs/{name}/install", service.PackRequest{})
	isolationCases["POST /api/v1/packs/{name}/upgrade"] = packCase("POST", "/api/v1/packs/{name}/upgrade", service.PackRequest{Force: true})
	isolationCases["DELETE /api/v1/packs/{name}"] = packCase("DELETE", "/api/v1/packs/{name}", nil)
}

// TestPacksAPI installs the catalogue's PostgreSQL pack for a tenant, shows
// and lists it, refuses a second install, an unchanged upgrade and a
// viewer's install, diffs and uninstalls it — each change audited — and
// refuses a pack from files that does not load with a 400 naming the
// problem.
func TestPacksAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, viewer := h.secret("acme/admin"), h.secret("acme/viewer")
	p, _ := pack.Find("postgresql")

	var list struct{ Packs []service.PackSummary }
	h.call("GET", "/api/v1/packs", viewer, nil).ok(t, 200, &list)
	if s := findPack(list.Packs, "postgresql"); s == nil || s.Available != p.Spec.Version || s.Installed != "" {
		t.Fatalf("list before install: %+v", list.Packs)
	}
	h.call("POST", "/api/v1/packs/postgresql/install", viewer, nil).fail(t, 403, "forbidden")
	var in store.PackInstallation
	h.call("POST", "/api/v1/packs/postgresql/install", admin, nil).ok(t, 201, &in)
	if in.Version != p.Spec.Version || in.Digest != p.Digest || in.TenantID != "acme" {
		t.Errorf("installed %+v", in)
	}
	h.call("POST", "/api/v1/packs/postgresql/install", admin, nil).fail(t, 409, "conflict")
	h.call("POST", "/api/v1/packs/postgresql/upgrade", admin, nil).fail(t, 409, "conflict")
	h.call("GET", "/api/v1/packs", viewer, nil).ok(t, 200, &list)
	if s := findPack(list.Packs, "postgresql"); s == nil || s.Installed != p.Spec.Version || s.Upgrade {
		t.Errorf("list after install: %+v", list.Packs)
	}
	var d service.PackDetail
	h.call("GET", "/api/v1/packs/postgresql", viewer, nil).ok(t, 200, &d)
	if d.Installation == nil || len(d.Scenarios) != len(p.Spec.Scenarios) || !slices.Contains(d.Documents, "Runbook/postgres-lock-report") || !slices.Contains(d.Alerts, "PostgresConnectionsNearMax") {
		t.Errorf("show: %+v", d)
	}
	var diff service.PackDiff
	h.call("POST", "/api/v1/packs/postgresql/diff", viewer, nil).ok(t, 200, &diff)
	if diff.From != p.Spec.Version || diff.To != p.Spec.Version || len(diff.Changes) != 0 {
		t.Errorf("diff of the installed version with itself: %+v", diff)
	}
	h.call("GET", "/api/v1/packs/nope", viewer, nil).fail(t, 404, "not_found")

	bad := service.PackRequest{Files: []pack.File{{Path: "pack.yaml", Data: []byte("apiVersion: flywheel/v1\nkind: Pack\nmetadata: {name: mine}\nspec: {version: one, service: X}\n")}}}
	r := h.call("POST", "/api/v1/packs/mine/install", admin, bad)
	if r.Status != 400 || !strings.Contains(string(r.Body), `version: \"one\" is not a semantic version`) {
		t.Errorf("a pack that does not load: %v", r)
	}

	h.call("DELETE", "/api/v1/packs/postgresql", viewer, nil).fail(t, 403, "forbidden")
	h.call("DELETE", "/api/v1/packs/postgresql", admin, nil).ok(t, 204, nil)
	h.call("DELETE", "/api/v1/packs/postgresql", admin, nil).fail(t, 404, "not_found")
	var actions []string
	for _, rec := range h.auditOf("acme") {
		if strings.HasPrefix(rec.Action, "pack.") {
			actions = append(actions, rec.Action+" "+rec.Target)
		}
	}
	if got := strings.Join(actions, ", "); got != "pack.install pack/postgresql, pack.uninstall pack/postgresql" {
		t.Errorf("audit: %s", got)
	}
}

func findPack(list []service.PackSummary, name string) *service.PackSummary {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}
