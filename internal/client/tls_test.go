package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

// TestTrustCAFile: a client trusting the server's CA file gets answers; one
// trusting another CA, or a file that is missing, fails naming why.
func TestTrustCAFile(t *testing.T) {
	f, err := tlsutil.Auto(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tlsutil.ServerConfig(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	ts.TLS = cfg
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ctx := context.Background()

	c := client.New(ts.URL, "")
	c.TrustCAFile(f.CACert)
	var out struct{ OK bool }
	if err := c.Do(ctx, "GET", "/", nil, &out); err != nil || !out.OK {
		t.Fatalf("pinned: %v %+v", err, out)
	}
	other, err := tlsutil.Auto(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c = client.New(ts.URL, "")
	c.TrustCAFile(other.CACert)
	if err := c.Do(ctx, "GET", "/", nil, &out); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("another CA: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "ca.crt")
	c = client.New(ts.URL, "")
	c.TrustCAFile(missing)
	if err := c.Do(ctx, "GET", "/", nil, &out); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing CA file: %v", err)
	}
}
