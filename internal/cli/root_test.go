package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/version"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var out, errOut bytes.Buffer
		if code := Execute(context.Background(), args, Env{Stdout: &out, Stderr: &errOut, Lookup: noEnv}); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		if got := out.String(); got != "flywheel "+version.Version+"\n" {
			t.Errorf("%v printed %q", args, got)
		}
	}
}

func noEnv(string) (string, bool) { return "", false }

// TestUnauthorizedNamesTokenSource: a 401 says where the token came from —
// the flag, FLYWHEEL_TOKEN, or the admin-token file of a local data
// directory (used silently against another server otherwise) — or that
// none was sent.
func TestUnauthorizedNamesTokenSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"invalid or revoked token","request_id":"r1"}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Chdir(dir)
	run := func(env map[string]string, args ...string) string {
		var out, errOut bytes.Buffer
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		code := Execute(context.Background(), append([]string{"--server", srv.URL}, args...), Env{Stdout: &out, Stderr: &errOut, Lookup: lookup})
		if code == 0 {
			t.Fatalf("%v: exit 0 against a 401", args)
		}
		return errOut.String()
	}
	if got := run(nil, "opsitem", "list"); !strings.Contains(got, "no token was sent to "+srv.URL+": pass --token, set FLYWHEEL_TOKEN, or run where flywheel-data/admin-token is") {
		t.Errorf("no token: %s", got)
	}
	if got := run(nil, "--token", "fw_wrong", "opsitem", "list"); !strings.Contains(got, "invalid or revoked token (HTTP 401 unauthorized); the token came from --token, and "+srv.URL+" does not accept it") {
		t.Errorf("flag: %s", got)
	}
	if got := run(map[string]string{"FLYWHEEL_TOKEN": "fw_wrong"}, "opsitem", "list"); !strings.Contains(got, "the token came from the environment (FLYWHEEL_TOKEN)") {
		t.Errorf("env: %s", got)
	}
	os.MkdirAll(filepath.Join(dir, "flywheel-data"), 0o700)
	os.WriteFile(filepath.Join(dir, "flywheel-data", "admin-token"), []byte("fw_local\n"), 0o600)
	if got := run(nil, "opsitem", "list"); !strings.Contains(got, "the token came from the file "+filepath.Join(dir, "flywheel-data", "admin-token")+" (a local server's admin token") {
		t.Errorf("file: %s", got)
	}
}
