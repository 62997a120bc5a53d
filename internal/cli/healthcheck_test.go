package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestHealthcheck probes the real API (on an SQLite store) by --server and
// by FLYWHEEL_ADDR as serve reads it (0.0.0.0 probed on loopback), and a
// closed port, which exits 1.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	st, _ := tenantStore(t, store.RoleViewer)
	srv := httptest.NewServer(api.New(api.Options{Store: st}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	run := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &out, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		root.SetArgs(append([]string{"healthcheck"}, args...))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	if out, err := run(nil, "--server", srv.URL); err != nil || !strings.Contains(out, "healthy: "+srv.URL+"/healthz") {
		t.Errorf("--server: %q, %v", out, err)
	}
	if out, err := run(map[string]string{"FLYWHEEL_ADDR": "0.0.0.0:" + port}); err != nil || !strings.Contains(out, "http://127.0.0.1:"+port+"/healthz") {
		t.Errorf("FLYWHEEL_ADDR: %q, %v", out, err)
	}
	start := time.Now()
	_, err = run(map[string]string{"FLYWHEEL_ADDR": closed}, "--wait", "600ms")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "unhealthy") {
		t.Errorf("closed port: %v, want exit 1 unhealthy", err)
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("--wait 600ms gave up after %s", d)
	}

	// --wait outlasts a server that starts late.
	late, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lateAddr := late.Addr().String()
	late.Close()
	started := make(chan *httptest.Server, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		l, err := net.Listen("tcp", lateAddr)
		if err != nil {
			started <- nil
			return
		}
		s := httptest.NewUnstartedServer(api.New(api.Options{Store: st}))
		s.Listener.Close()
		s.Listener = l
		s.Start()
		started <- s
	}()
	out, err := run(nil, "--server", "http://"+lateAddr, "--wait", "10s")
	if s := <-started; s != nil {
		s.Close()
	}
	if err != nil {
		t.Errorf("--wait for a late server: %q, %v", out, err)
	}
}
