package agent_test

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestPinnedTLS: over https with a self-signed certificate, an agent
// without it refuses at once; given it at enrollment, it keeps it in its
// state and stays pinned on later starts.
func TestPinnedTLS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{})
	ts := httptest.NewTLSServer(api.New(api.Options{Store: s.st, Fleet: s.svc}))
	t.Cleanup(ts.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	tok := s.token(nil)
	dir := t.TempDir()

	start := time.Now()
	_, err := agent.New(context.Background(), agent.Config{Server: ts.URL, EnrollToken: tok, StateDir: t.TempDir(), Hostname: "tls-1"})
	if err == nil || !strings.Contains(err.Error(), "not trusted") || time.Since(start) > 5*time.Second {
		t.Fatalf("untrusted server: %v after %s", err, time.Since(start))
	}
	if _, err := agent.New(context.Background(), agent.Config{Server: ts.URL, EnrollToken: tok, StateDir: t.TempDir(), CACert: []byte("junk")}); err == nil {
		t.Error("a CA file without certificates was accepted")
	}

	a := startAgent(t, agent.Config{Server: ts.URL, EnrollToken: tok, StateDir: dir, Hostname: "tls-1", CACert: caPEM})
	if st, _ := agent.LoadState(dir); st.CACert != string(caPEM) {
		t.Errorf("the certificate is not pinned in the state")
	}
	if c := s.wait(s.command(a.ID(), store.CommandSpec{Argv: []string{"echo", "over tls"}}), 10*time.Second); c.Output != "over tls\n" {
		t.Errorf("command = %+v", c)
	}
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	// Restarted without the CA file: still pinned, still working.
	b := startAgent(t, agent.Config{StateDir: dir, Hostname: "tls-1"})
	eventually(t, 5*time.Second, "the restarted agent polls", func() bool { return s.svc.Polling(b.ID(), b.Instance()) })
	if c := s.wait(s.command(b.ID(), store.CommandSpec{Argv: []string{"echo", "again"}}), 10*time.Second); c.Output != "again\n" {
		t.Errorf("command after restart = %+v", c)
	}
}
