package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestFleetPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	seen, stale, gone := e.now.Add(-time.Minute), e.now.Add(time.Minute), e.now.Add(-time.Hour)
	agents := []store.Agent{
		{ID: "agt_web01", Hostname: "web-01", Version: "v1.4.0", ResourceID: "res_web01", LastSeenAt: &seen, StaleAfter: &stale},
		{ID: "agt_web02", Hostname: "web-02", Version: "v1.5.0", LastSeenAt: &gone, StaleAfter: &gone, NotReportingSince: &gone},
		{ID: "agt_db01", Hostname: "db-01", Version: "v1.5.0"},
	}
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for i, a := range agents {
			a.TenantID, a.OS, a.Arch, a.EnrolledAt, a.Tags = "acme", "linux", "amd64", e.now.Add(-24*time.Hour), map[string]string{"role": "web"}
			if err := tx.CreateAgent(ctx, a, "hash-"+a.ID+string(rune('a'+i))); err != nil {
				return err
			}
		}
		return tx.PutResource(ctx, store.Resource{ID: "res_web01", TenantID: "acme", Type: "host", Name: "web-01", AgentID: "agt_web01",
			Config: []byte(`{"kernel":"6.1.0-18-amd64","disks":[{"mount":"/","size_gb":80}]}`), CreatedAt: seen, UpdatedAt: seen})
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, DesiredVersion: "v1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h

	list := e.get("/fleet", e.acme)
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list, `<span class="num" id="fleet-reporting">1</span>`, `<span class="num" id="fleet-not-reporting">1</span>`,
		`<span class="num" id="fleet-pending">1</span>`, `<span class="num" id="fleet-outdated">1</span> drifted from <code>v1.5.0</code>`,
		`<a href="/fleet/agt_web01">web-01</a>`, `<code>v1.4.0</code> <span class="badge ag-drift">drift</span>`, `<span class="badge ag-not-reporting">not-reporting</span>`)
	wantContains(t, e.get("/fleet", e.globex), "No agents yet.")

	page := e.get("/fleet/agt_web01", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, "<h1>web-01</h1>", "(desired <code>v1.5.0</code>)", "6.1.0-18-amd64", `href="/opsitems?resource=res_web01"`)
	wantContains(t, e.get("/fleet/agt_db01", e.acme), "never", "has not reported an inventory yet")
	wantStatus(t, e.get("/fleet/agt_web01", e.globex), http.StatusNotFound)
}
