package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestPatchingPages: the compliance page lists acme's scanned host with
// its group, and the host's page each update with the baseline's decision
// and why it is not compliant; another tenant sees neither.
func TestPatchingPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutResource(ctx, store.Resource{ID: "res_web01", TenantID: "acme", Type: "host", Name: "web-01", CreatedAt: e.now, UpdatedAt: e.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	// No patch group: the host follows the library's debian-default.
	svc := patch.New(patch.Options{Store: e.st, Clock: func() time.Time { return e.now }, Content: librarySet(t)})
	rep := wire.PatchReport{Backend: "apt", Installed: 321, Updates: []wire.PackageUpdate{
		{Name: "libssl3", Installed: "3.0.11-1~deb12u2", Candidate: "3.0.15-1~deb12u1", Security: true},
		{Name: "vim", Installed: "9.0.1", Candidate: "9.0.2"},
	}}
	if _, _, err := svc.Record(ctx, "acme", "res_web01", rep); err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, Patch: svc})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	list := e.get("/patching", e.acme)
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list, `data-compliance="0.0"`, `<a href="/patching/res_web01">web-01</a>`, `<td>debian-default</td>`, `critical 1`,
		// The trend: today's 0 % of one host, as a chart with its table.
		`id="patch-trend"`, `<time datetime="`+e.now.UTC().Format(time.DateOnly)+`T00:00:00Z">`, `<td class="n">0.0 %</td><td class="n">1</td>`)
	wantContains(t, e.get("/patching", e.globex), "No host has been scanned yet")
	page := e.get("/patching/res_web01", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, "missing libssl3 3.0.15-1~deb12u1", `<tr data-package="vim">`, "not-approved", "approval_rules[0]")
	wantStatus(t, e.get("/patching/res_web01", e.globex), http.StatusNotFound)
}

// librarySet is the built-in content library.
func librarySet(t *testing.T) *content.Set {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: content.BuiltinName, FS: builtin.FS})
	if err != nil {
		t.Fatal(err)
	}
	return set
}
