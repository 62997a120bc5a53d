package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

func startApp(t *testing.T, cfg config.Config, out *bytes.Buffer) *App {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	a, err := New(context.Background(), Options{Config: cfg, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

func TestFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	a := startApp(t, config.Config{DataDir: dir}, &out)
	tokenPath := filepath.Join(dir, AdminTokenFile)
	fi, err := os.Stat(tokenPath)
	if err != nil {
		t.Fatalf("admin token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin token file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(tokenPath)
	secret := strings.TrimSpace(string(b))
	if !strings.Contains(out.String(), secret) {
		t.Error("first start did not print the admin token")
	}
	c := client.New("http://"+a.Addr(), secret)
	var o store.OpsItem
	if err := c.Do(context.Background(), "POST", "/api/v1/opsitems", map[string]string{"title": "kept across restarts"}, &o); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + a.Addr() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	out.Reset()
	a2 := startApp(t, config.Config{DataDir: dir}, &out)
	if strings.Contains(out.String(), "fw_") {
		t.Error("restart printed a new admin token")
	}
	c = client.New("http://"+a2.Addr(), secret)
	var got store.OpsItem
	if err := c.Do(context.Background(), "GET", "/api/v1/opsitems/"+o.ID, nil, &got); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got.Title != "kept across restarts" {
		t.Errorf("title = %q", got.Title)
	}
}

func TestAdminTokenFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	const secret = "automation-provided-admin-token-1234"
	var out bytes.Buffer
	a := startApp(t, config.Config{DataDir: dir, AdminToken: secret}, &out)
	if _, err := os.Stat(filepath.Join(dir, AdminTokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin token file written although FLYWHEEL_ADMIN_TOKEN was set: %v", err)
	}
	if strings.Contains(out.String(), secret) {
		t.Error("the provided admin token was printed")
	}
	var tenants struct{ Items []store.Tenant }
	if err := client.New("http://"+a.Addr(), secret).Do(context.Background(), "GET", "/api/v1/tenants", nil, &tenants); err != nil {
		t.Fatal(err)
	}
	if len(tenants.Items) != 1 || tenants.Items[0].ID != DefaultTenant {
		t.Errorf("tenants = %+v", tenants.Items)
	}
}

func TestSecondServerOnSameDataDirRefused(t *testing.T) {
	dir := t.TempDir()
	startApp(t, config.Config{DataDir: dir}, &bytes.Buffer{})
	_, err := New(context.Background(), Options{Config: config.Config{DataDir: dir, Addr: "127.0.0.1:0"}, Out: &bytes.Buffer{}})
	if !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second New: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "in use by another flywheel process") {
		t.Errorf("message not clear: %v", err)
	}
}

func TestInvalidConfigNamesField(t *testing.T) {
	_, err := New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "localhost"}})
	if err == nil || !strings.Contains(err.Error(), "addr") {
		t.Fatalf("err = %v", err)
	}
}

func TestUIAnswersAtRoot(t *testing.T) {
	a := startApp(t, config.Config{DataDir: t.TempDir()}, &bytes.Buffer{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("http://" + a.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("GET / = %d, want a redirect to the login page", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("redirect to %q", loc)
	}
	resp, err = http.Get("http://" + a.Addr() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /login = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestContentTenantsAndErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte("apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  display_name: ACME Corp\n"), 0o600)
	a := startApp(t, config.Config{DataDir: t.TempDir(), ContentDir: dir}, &bytes.Buffer{})
	got, err := a.Store().GetTenant(context.Background(), "acme")
	if err != nil || got.Name != "ACME Corp" {
		t.Fatalf("tenant from content: %+v %v", got, err)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.yaml"), []byte("apiVersion: flywheel/v1\nkind: Tenant\nmetadata:\n  name: x\nspec:\n  colour: red\n"), 0o600)
	_, err = New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ContentDir: bad}, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "x.yaml:6") || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("bad content: %v", err)
	}
}
