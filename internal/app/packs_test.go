package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
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
// same pack for a second tenant is refused, naming why, and changes
// nothing; uninstalling on B removes the runbooks on A.
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

	err := cs[0].Do(ctx, "POST", "/api/v1/packs/postgresql/install?tenant=globex", nil, nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || !strings.Contains(ce.Message, "a document name is one per server") {
		t.Fatalf("the same pack for a second tenant: %v", err)
	}
	if h := healthOf(t, cs[0]); h.Generation != installed.Generation {
		t.Errorf("a refused install changed the content: %+v", h)
	}
	var list struct {
		Packs []struct{ Name, Installed string }
	}
	if err := cs[0].Do(ctx, "GET", "/api/v1/packs?tenant=globex", nil, &list); err != nil || len(list.Packs) == 0 || list.Packs[0].Installed != "" {
		t.Errorf("globex's packs after the refused install: %+v, %v", list, err)
	}

	if err := cs[1].Do(ctx, "DELETE", "/api/v1/packs/postgresql", nil, nil); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, cs[0], installed.Generation+1)
	if err := cs[0].Do(ctx, "GET", rb+"?tenant="+in.TenantID, nil, nil); !notFound(err) {
		t.Errorf("replica A after the uninstall on B: %v, want 404", err)
	}
}
