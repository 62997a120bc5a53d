package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
)

// A rule naming a runbook that exists nowhere stops the server at start,
// with the file and line of the rule.
func TestStartRefusesRuleWithUnknownRunbook(t *testing.T) {
	dir := t.TempDir()
	rule := "apiVersion: flywheel/v1\nkind: Rule\nmetadata:\n  name: restart-web\nspec:\n  when: event.kind == \"alert\"\n  then:\n    runbook: restart-servce\n    mode: suggest\n"
	if err := os.WriteFile(filepath.Join(dir, "restart-web.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ContentDir: dir}, Out: &bytes.Buffer{}})
	if err == nil {
		_ = a.Stop(context.Background())
		t.Fatal("the server started with a rule naming a runbook that does not exist")
	}
	if want := filepath.Join(dir, "restart-web.yaml") + `:1: Rule "restart-web": spec.then.runbook: no Runbook named "restart-servce"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant it to contain %s", err, want)
	}
}

// The server's API shows the consolidation figure of the content's rules.
func TestConsolidationServed(t *testing.T) {
	const secret = "consolidation-admin-token-12345678"
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: secret}, &bytes.Buffer{})
	var v api.ConsolidationView
	if err := client.New("http://"+a.Addr(), secret).Do(context.Background(), "GET", "/api/v1/rules/consolidation", nil, &v); err != nil {
		t.Fatal(err)
	}
	if v.Figure != "216 GuardDuty finding types → 5 runbooks" || len(v.Sources) != 3 {
		t.Errorf("figure %q, %d other sources", v.Figure, len(v.Sources))
	}
}
