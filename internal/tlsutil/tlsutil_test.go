package tlsutil_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

var epoch = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func fingerprint(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fp := tlsutil.Fingerprint(b)
	if fp == "" {
		t.Fatalf("%s holds no certificate", path)
	}
	return fp
}

func parse(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAutoCreatesThenReuses: the first call creates a CA and a server
// certificate (keys 0600), the second reuses both unchanged.
func TestAutoCreatesThenReuses(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	f, err := tlsutil.Auto(dir, []string{"flywheel.example.com", "10.0.0.5"}, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Created || !f.Renewed {
		t.Errorf("first start: created=%v renewed=%v, want both", f.Created, f.Renewed)
	}
	for _, name := range []string{tlsutil.CAKeyFile, tlsutil.ServerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", name, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("tls dir mode %o, want 700", fi.Mode().Perm())
	}
	ca, leaf := parse(t, f.CACert), parse(t, f.Cert)
	if !ca.IsCA || ca.NotAfter.Sub(epoch) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA=%v until %s", ca.IsCA, ca.NotAfter)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("server certificate not signed by the CA: %v", err)
	}
	if d := leaf.NotAfter.Sub(epoch); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("server certificate lasts %s, want a year", d)
	}
	for _, want := range []string{"localhost", "flywheel.example.com"} {
		if !slices.Contains(leaf.DNSNames, want) {
			t.Errorf("SANs %v lack %s", leaf.DNSNames, want)
		}
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, want := range []string{"127.0.0.1", "::1", "10.0.0.5"} {
		if !slices.Contains(ips, want) {
			t.Errorf("IP SANs %v lack %s", ips, want)
		}
	}
	if host, _ := os.Hostname(); host != "" && !slices.Contains(leaf.DNSNames, strings.ToLower(host)) {
		t.Errorf("SANs %v lack the hostname %s", leaf.DNSNames, host)
	}

	caFP, certFP := fingerprint(t, f.CACert), fingerprint(t, f.Cert)
	g, err := tlsutil.Auto(dir, []string{"10.0.0.5", "FLYWHEEL.example.com"}, epoch.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if g.Created || g.Renewed {
		t.Errorf("restart: created=%v renewed=%v, want neither", g.Created, g.Renewed)
	}
	if fingerprint(t, g.CACert) != caFP || fingerprint(t, g.Cert) != certFP {
		t.Error("a restart with the same names replaced a certificate")
	}
}

// TestAutoRenews: a new name, or expiry within 30 days, issues a new server
// certificate from the same CA.
func TestAutoRenews(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := tlsutil.Auto(dir, nil, epoch)
	if err != nil {
		t.Fatal(err)
	}
	caFP, certFP := fingerprint(t, f.CACert), fingerprint(t, f.Cert)

	g, err := tlsutil.Auto(dir, []string{"new.example.com"}, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Renewed || fingerprint(t, g.Cert) == certFP || !slices.Contains(parse(t, g.Cert).DNSNames, "new.example.com") {
		t.Error("a new name did not renew the server certificate")
	}
	if fingerprint(t, g.CACert) != caFP {
		t.Error("renewal replaced the CA")
	}
	certFP = fingerprint(t, g.Cert)

	late := epoch.Add(tlsutil.ServerLifetime - 29*24*time.Hour)
	h, err := tlsutil.Auto(dir, []string{"new.example.com"}, late)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Renewed || fingerprint(t, h.Cert) == certFP || !h.NotAfter.After(late.Add(300*24*time.Hour)) {
		t.Errorf("29 days before expiry: renewed=%v until %s", h.Renewed, h.NotAfter)
	}
	if fingerprint(t, h.CACert) != caFP {
		t.Error("renewal replaced the CA")
	}
}

// TestAutoRefusesHalfACA: a CA certificate without its key is an error, not
// a silent new CA (agents have pinned the old one).
func TestAutoRefusesHalfACA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := tlsutil.Auto(dir, nil, epoch); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, tlsutil.CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsutil.Auto(dir, nil, epoch); err == nil || !strings.Contains(err.Error(), "tls CA") {
		t.Fatalf("CA without key: %v", err)
	}
}

// TestPinnedClient: a client trusting the CA connects to a server using
// the auto certificate; one with the system roots, or another CA, fails.
func TestPinnedClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := tlsutil.Auto(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tlsutil.ServerConfig(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("min version %x", cfg.MinVersion)
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	ts.TLS = cfg
	ts.StartTLS()
	t.Cleanup(ts.Close)
	url := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)

	caPEM, _ := os.ReadFile(f.CACert)
	ccfg, err := tlsutil.ClientConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	pinned := &http.Client{Transport: &http.Transport{TLSClientConfig: ccfg}}
	for _, u := range []string{url, ts.URL} {
		resp, err := pinned.Get(u)
		if err != nil {
			t.Fatalf("pinned client to %s: %v", u, err)
		}
		resp.Body.Close()
	}
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(url); err == nil {
		t.Error("a client without the CA connected")
	}
	other, err := tlsutil.Auto(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, _ := os.ReadFile(other.CACert)
	ocfg, _ := tlsutil.ClientConfig(otherPEM)
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: ocfg}}).Get(url); err == nil {
		t.Error("a client pinning another CA connected")
	}
	if _, err := tlsutil.ClientConfig([]byte("junk")); err == nil {
		t.Error("ClientConfig accepted junk")
	}
}
