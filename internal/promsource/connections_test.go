package promsource_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/promsource"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// A tenant's connection as stored: none is no client; the token comes
// from the environment variable it names and goes as a bearer token; an
// unset variable is an error naming it; delete removes it.
func TestConnectionsFromTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	doc, err := os.ReadFile("testdata/docs-query_range.json")
	if err != nil {
		t.Fatal(err)
	}
	var auth, query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, query = r.Header.Get("Authorization"), r.FormValue("query")
		w.Write(doc)
	}))
	defer srv.Close()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	put := func(c store.PrometheusConnection) {
		if err := st.InTx(ctx, func(tx store.Tx) error { return tx.PutPrometheusConnection(ctx, c) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	g, _ := outbound.New([]string{"127.0.0.1"})
	env := map[string]string{}
	conns := &promsource.Connections{Store: st, Guard: g, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	if c, err := conns.Connect(ctx, "acme"); c != nil || err != nil {
		t.Fatalf("no connection: %v, %v", c, err)
	}
	put(store.PrometheusConnection{TenantID: "acme", URL: srv.URL, TokenEnv: "FLYWHEEL_PROM_TOKEN", CreatedAt: now, UpdatedAt: now})
	if _, err := conns.Connect(ctx, "acme"); err == nil || !strings.Contains(err.Error(), "FLYWHEEL_PROM_TOKEN is not set") {
		t.Errorf("unset token: %v", err)
	}
	env["FLYWHEEL_PROM_TOKEN"] = "s3cret"
	c, err := conns.Connect(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	series, err := c.QueryRange(ctx, "up", now.Add(-time.Hour), now, time.Minute)
	if err != nil || len(series) != 2 || auth != "Bearer s3cret" || query != "up" {
		t.Errorf("%d series, %v; Authorization %q, query %q", len(series), err, auth, query)
	}
	got, err := st.GetPrometheusConnection(ctx, "acme")
	if err != nil || got.URL != srv.URL || got.TokenEnv != "FLYWHEEL_PROM_TOKEN" || !got.CreatedAt.Equal(now) {
		t.Errorf("stored %+v, %v", got, err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeletePrometheusConnection(ctx, "acme") }); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.DeletePrometheusConnection(ctx, "acme") }); err == nil {
		t.Error("deleting twice: no ErrNotFound")
	}
}

func TestValidateTokenEnv(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{"": true, "FLYWHEEL_PROM_TOKEN": true, "HOME": false, "FLYWHEEL_x": false, "FLYWHEEL_A B": false} {
		if err := promsource.ValidateTokenEnv(name); (err == nil) != ok {
			t.Errorf("ValidateTokenEnv(%q) = %v", name, err)
		}
	}
}
