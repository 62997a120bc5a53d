package app

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

// tlsApp starts a server on addr with cfg's TLS settings in dataDir.
func tlsApp(t *testing.T, cfg config.Config) *App {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	a, err := New(context.Background(), Options{Config: cfg, Out: &bytes.Buffer{},
		Fleet: FleetOptions{CheckEvery: 250 * time.Millisecond, FlushEvery: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

func pinnedHTTP(t *testing.T, caFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tlsutil.ClientConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func fileFingerprint(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tlsutil.Fingerprint(b)
}

// TestServeTLSAuto: the first start creates the CA and certificate in
// DATA/tls, an https client pinning the CA connects and one without it
// fails; a restart reuses the same files.
func TestServeTLSAuto(t *testing.T) {
	dir := t.TempDir()
	a := tlsApp(t, config.Config{DataDir: dir, TLS: "auto", TLSHosts: []string{"flywheel.test"}})
	caFile := filepath.Join(dir, TLSDir, tlsutil.CACertFile)
	certFile := filepath.Join(dir, TLSDir, tlsutil.ServerCertFile)
	for _, f := range []string{tlsutil.CAKeyFile, tlsutil.ServerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, TLSDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", f, err, fi)
		}
	}
	if !strings.HasPrefix(a.URL(), "https://") || a.CACert() == nil {
		t.Fatalf("URL %s, CA %d bytes", a.URL(), len(a.CACert()))
	}
	resp, err := pinnedHTTP(t, caFile).Get(a.URL() + "/healthz")
	if err != nil {
		t.Fatalf("pinned client: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(a.URL() + "/healthz"); err == nil {
		t.Error("a client without the CA connected")
	}
	// Plain HTTP gets Go's 400 "client sent an HTTP request to an HTTPS
	// server", never the API.
	if resp, err := http.Get("http://" + a.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %s", resp.Status)
		}
	}
	caFP, certFP := fileFingerprint(t, caFile), fileFingerprint(t, certFile)
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	b := tlsApp(t, config.Config{DataDir: dir, TLS: "auto", TLSHosts: []string{"flywheel.test"}})
	if fileFingerprint(t, caFile) != caFP || fileFingerprint(t, certFile) != certFP {
		t.Error("the restart replaced the CA or the certificate")
	}
	resp, err = pinnedHTTP(t, caFile).Get(b.URL() + "/healthz")
	if err != nil {
		t.Fatalf("pinned client after restart: %v", err)
	}
	resp.Body.Close()
}

// TestServePlainHTTPRefusedOffLoopback: plain HTTP on a non-loopback
// address needs --insecure-http.
func TestServePlainHTTPRefusedOffLoopback(t *testing.T) {
	_, err := New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "0.0.0.0:0"}, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "--insecure-http") {
		t.Fatalf("plain HTTP on 0.0.0.0: %v", err)
	}
}

// TestAgentBundleOverTLS: a real agent process enrolls from the bundle
// `flywheel agent token create --bundle` writes against a --tls auto
// server, pins its CA, heartbeats and runs a command. The same agent facing
// the same server (same database, same URL) presenting a certificate from
// another CA refuses to talk to it: nothing it queues runs.
func TestAgentBundleOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs agent processes")
	}
	bin := flywheelBinary(t)
	dir := t.TempDir()
	a := tlsApp(t, config.Config{DataDir: dir, TLS: "auto"})
	admin := readAdminToken(t, dir)
	caFile := filepath.Join(dir, TLSDir, tlsutil.CACertFile)
	c := client.New(a.URL(), admin)
	c.TrustCAFile(caFile)
	ctx := context.Background()

	bundle := filepath.Join(t.TempDir(), "agent.bundle")
	tok := exec.Command(bin, "agent", "token", "create", "--server", a.URL(), "--token", admin, "--tags", "role=web", "--bundle", bundle)
	tok.Env = append(os.Environ(), "FLYWHEEL_CA_FILE="+caFile)
	if out, err := tok.CombinedOutput(); err != nil || !strings.Contains(string(out), "--bundle") {
		t.Fatalf("token create --bundle: %v\n%s", err, out)
	}
	fi, err := os.Stat(bundle)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file: %v %v", err, fi)
	}
	raw, _ := os.ReadFile(bundle)
	b, err := wire.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.Server != a.URL() || b.CACert != string(a.CACert()) || b.Tags["role"] != "web" {
		t.Fatalf("bundle = %+v", b)
	}

	state := t.TempDir()
	p := startAgentProc(t, bin, "--bundle", bundle, "--state", state, "--hostname", "tls-host", "--heartbeat", "200ms", "--poll-wait", "5s")
	var ag api.AgentView
	waitFor(t, 30*time.Second, "the agent reporting over TLS", func() bool {
		for _, x := range agentsOf(t, c) {
			if x.Hostname == "tls-host" && x.State == "reporting" {
				ag = x
				return true
			}
		}
		return false
	})
	if ag.Tags["role"] != "web" {
		t.Errorf("agent tags %v, want the bundle token's", ag.Tags)
	}
	runOn := func(c *client.Client) string {
		var cv api.CommandView
		if err := c.Do(ctx, "POST", "/api/v1/agents/"+ag.ID+"/commands", api.CommandInput{Argv: []string{"echo", "pinned"}, Timeout: "30s"}, &cv); err != nil {
			t.Fatal(err)
		}
		return cv.ID
	}
	id := runOn(c)
	var cv api.CommandView
	waitFor(t, 30*time.Second, "the command over TLS", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/commands/"+id, nil, &cv); err != nil {
			t.Fatal(err)
		}
		return store.CommandFinal(cv.Status)
	})
	if cv.Status != store.CommandSucceeded || cv.Output != "pinned\n" {
		t.Fatalf("command = %+v", cv)
	}
	st, err := os.ReadFile(filepath.Join(state, "agent.json"))
	if err != nil || !strings.Contains(string(st), "BEGIN CERTIFICATE") {
		t.Fatalf("the state does not pin the CA: %v", err)
	}

	// Same address, same database, another CA's certificate.
	p.cmd.Process.Kill()
	<-p.exited
	addr := a.Addr()
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := tlsutil.Auto(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	impostor := tlsApp(t, config.Config{DataDir: dir, Addr: addr, TLSCert: other.Cert, TLSKey: other.Key})
	ic := client.New(impostor.URL(), admin)
	ic.TrustCAFile(other.CACert)
	before := agentByID(t, ic, ag.ID).LastSeenAt
	queued := runOn(ic)
	q := startAgentProc(t, bin, "--state", state, "--hostname", "tls-host", "--heartbeat", "200ms", "--poll-wait", "5s")
	waitFor(t, 30*time.Second, "the agent refusing the certificate", func() bool {
		return strings.Contains(q.out.String(), "certificate")
	})
	// Several heartbeat intervals pass; nothing reaches the impostor.
	time.Sleep(time.Second)
	impostor.Fleet().Flush(ctx)
	if after := agentByID(t, ic, ag.ID).LastSeenAt; after == nil || before == nil || !after.Equal(*before) {
		t.Errorf("last seen moved from %v to %v: the agent talked to a server it did not pin", before, after)
	}
	if err := ic.Do(ctx, "GET", "/api/v1/commands/"+queued, nil, &cv); err != nil {
		t.Fatal(err)
	}
	if cv.Status != store.CommandQueued {
		t.Errorf("the impostor's command is %s, want still queued", cv.Status)
	}
}

func readAdminToken(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestServeTLSFilesWithCA: with the operator's certificate and --tls-ca,
// enrollment bundles carry that CA; a CA file that is not there stops the
// start naming tls_ca.
func TestServeTLSFilesWithCA(t *testing.T) {
	own, err := tlsutil.Auto(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := tlsApp(t, config.Config{DataDir: dir, TLSCert: own.Cert, TLSKey: own.Key, TLSCA: own.CACert})
	c := client.New(a.URL(), readAdminToken(t, dir))
	c.TrustCAFile(own.CACert)
	var tok api.CreatedEnrollToken
	if err := c.Do(context.Background(), "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{}, &tok); err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(own.CACert)
	if tok.Bundle.CACert != string(caPEM) || tok.Bundle.Server != a.URL() {
		t.Errorf("bundle = %+v", tok.Bundle)
	}
	_, err = New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", TLSCert: own.Cert, TLSKey: own.Key,
		TLSCA: filepath.Join(t.TempDir(), "none.crt")}, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "tls_ca") {
		t.Errorf("missing CA file: %v", err)
	}
}

// TestSessionCookieSecureUnderTLSAuto: under --tls auto, logging in to the
// UI sets a Secure session cookie, and responses carry HSTS.
func TestSessionCookieSecureUnderTLSAuto(t *testing.T) {
	dir := t.TempDir()
	a := tlsApp(t, config.Config{DataDir: dir, TLS: "auto"})
	c := pinnedHTTP(t, filepath.Join(dir, TLSDir, tlsutil.CACertFile))
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form, err := c.Get(a.URL() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	form.Body.Close()
	if hsts := form.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("GET /login over TLS: Strict-Transport-Security %q", hsts)
	}
	var nonce *http.Cookie
	for _, ck := range form.Cookies() {
		if ck.Name == "flywheel_login" {
			nonce = ck
		}
	}
	if nonce == nil || !nonce.Secure {
		t.Fatalf("login nonce cookie %+v: want Secure", nonce)
	}
	req, _ := http.NewRequest("POST", a.URL()+"/login", strings.NewReader(url.Values{"token": {readAdminToken(t, dir)}, "csrf": {nonce.Value}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "flywheel_session" {
			sess = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly {
		t.Fatalf("login over TLS: %s, session cookie %+v: want Secure and HttpOnly", resp.Status, sess)
	}
}
