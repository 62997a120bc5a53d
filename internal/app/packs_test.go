package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// waitGeneration waits until c's replica runs content generation gen.
func waitGeneration(t *testing.T, c *client.Client, gen int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for healthOf(t, c).Generation != gen {
		if time.Now().After(deadline) {
			t.Fatalf("replica still at %+v, want generation %d", healthOf(t, c), gen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPackInstallReachesReplicas: two replicas on one PostgreSQL database.
// Installing the PostgreSQL pack for a tenant on replica A makes its
// runbooks that tenant's on replica B too (and no other tenant's); the
// same pack in another version for a second tenant gives each tenant its
// own copy; uninstalling one tenant's on B removes its runbooks on A and
// leaves the other tenant's.
func TestPackInstallReachesReplicas(t *testing.T) {
	cs := startReplicasWith(t, 2, config.Config{ContentPoll: 100 * time.Millisecond})
	ctx := context.Background()
	if err := cs[0].Do(ctx, "POST", "/api/v1/tenants", api.TenantInput{ID: "globex", Name: "Globex"}, nil); err != nil {
		t.Fatal(err)
	}
	const rb = "/api/v1/runbooks/postgres-lock-report"
	if err := cs[1].Do(ctx, "GET", rb, nil, nil); !notFound(err) {
		t.Fatalf("a pack runbook before any install: %v, want 404", err)
	}
	before := healthOf(t, cs[0])
	var in store.PackInstallation
	if err := cs[0].Do(ctx, "POST", "/api/v1/packs/postgresql/install", nil, &in); err != nil {
		t.Fatal(err)
	}
	installed := healthOf(t, cs[0])
	if installed.Generation != before.Generation+1 || installed.Digest == before.Digest {
		t.Fatalf("install: content %+v, before %+v", installed, before)
	}
	waitGeneration(t, cs[1], installed.Generation)
	if h := healthOf(t, cs[1]); h.Digest != installed.Digest {
		t.Errorf("replica B's digest %s, A's %s", h.Digest, installed.Digest)
	}
	if err := cs[1].Do(ctx, "GET", rb+"?tenant="+in.TenantID, nil, nil); err != nil {
		t.Errorf("replica B, the installing tenant: %v", err)
	}
	if err := cs[1].Do(ctx, "GET", rb+"?tenant=globex", nil, nil); !notFound(err) {
		t.Errorf("replica B, another tenant: %v, want 404", err)
	}

	// The same pack for a second tenant, in a version of its own (from
	// files, as `pack install --dir` sends them): each tenant sees its own
	// copy, on both replicas.
	cat, ok := pack.Find("postgresql")
	if !ok {
		t.Fatal("no postgresql pack in the catalogue")
	}
	var files []pack.File
	for _, f := range cat.Files {
		switch f.Path {
		case pack.ManifestFile:
			f.Data = []byte(strings.Replace(string(f.Data), "version: 1.0.0", "version: 1.1.0", 1))
		case "runbooks/postgres-lock-report.yaml":
			f.Data = []byte(strings.Replace(string(f.Data), "description: List PostgreSQL sessions", "description: Globex copy, list PostgreSQL sessions", 1))
		}
		files = append(files, f)
	}
	var gin store.PackInstallation
	if err := cs[0].Do(ctx, "POST", "/api/v1/packs/postgresql/install?tenant=globex", map[string]any{"files": files}, &gin); err != nil {
		t.Fatalf("the same pack for a second tenant: %v", err)
	}
	if gin.TenantID != "globex" || gin.Version != "1.1.0" || in.Version != "1.0.0" {
		t.Fatalf("installations: %+v and %+v", in, gin)
	}
	both := healthOf(t, cs[0])
	if both.Generation != installed.Generation+1 {
		t.Fatalf("second install: content %+v after %+v", both, installed)
	}
	waitGeneration(t, cs[1], both.Generation)
	for tenant, want := range map[string]string{in.TenantID: "List PostgreSQL sessions", "globex": "Globex copy, list PostgreSQL sessions"} {
		var v apiv1.RunbookView
		if err := cs[1].Do(ctx, "GET", rb+"?tenant="+tenant, nil, &v); err != nil || !strings.HasPrefix(v.Description, want) {
			t.Errorf("replica B, tenant %s's runbook: %q, %v; want it to start %q", tenant, v.Description, err, want)
		}
	}
	var list struct {
		Packs []struct{ Name, Installed string }
	}
	if err := cs[1].Do(ctx, "GET", "/api/v1/packs?tenant=globex", nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Packs {
		if p.Name == "postgresql" && p.Installed != "1.1.0" {
			t.Errorf("globex's postgresql pack: %+v", p)
		}
	}

	// Uninstalling for one tenant leaves the other's.
	if err := cs[1].Do(ctx, "DELETE", "/api/v1/packs/postgresql", nil, nil); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, cs[0], both.Generation+1)
	if err := cs[0].Do(ctx, "GET", rb+"?tenant="+in.TenantID, nil, nil); !notFound(err) {
		t.Errorf("replica A after the uninstall on B: %v, want 404", err)
	}
	if err := cs[0].Do(ctx, "GET", rb+"?tenant=globex", nil, nil); err != nil {
		t.Errorf("replica A, globex's copy after the other tenant's uninstall: %v", err)
	}
}
