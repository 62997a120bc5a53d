// Package tlsutil gives `flywheel serve` its TLS: either the certificate
// and key files an operator provides, or ("auto") a private CA and a server
// certificate signed by it, generated on first start in DATA/tls/ and reused
// afterwards. Agents pin the CA (it travels in their enrollment bundle), so
// a renewed server certificate needs nothing on the hosts.
package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names in the TLS directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

// Lifetimes of what Auto generates, and when the server certificate is
// renewed.
const (
	CALifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 365 * 24 * time.Hour
	RenewBefore    = 30 * 24 * time.Hour
)

// Files are the PEM files a TLS server uses, and the CA clients pin.
type Files struct {
	Dir      string
	CACert   string // "" when the operator gave only a certificate and key
	Cert     string
	Key      string
	Created  bool // the CA was generated now
	Renewed  bool // the server certificate was (re)issued now
	Hosts    []string
	NotAfter time.Time
}

// DefaultHosts are the names every auto certificate covers: loopback in
// every spelling, and the machine's hostname.
func DefaultHosts() []string {
	hs := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hs = append(hs, h)
	}
	return hs
}

// Auto makes sure dir holds a CA and a server certificate for hosts (plus
// DefaultHosts) valid for at least RenewBefore at now. The CA is created
// once and kept; the server certificate is issued again when it is missing,
// expires within RenewBefore, does not chain to the CA, or covers another
// set of names. Keys are written 0600, the directory 0700.
func Auto(dir string, hosts []string, now time.Time) (Files, error) {
	f := Files{Dir: dir, CACert: filepath.Join(dir, CACertFile), Cert: filepath.Join(dir, ServerCertFile), Key: filepath.Join(dir, ServerKeyFile)}
	f.Hosts = normalizeHosts(append(DefaultHosts(), hosts...))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("tls directory: %w", err)
	}
	ca, caKey, created, err := loadOrCreateCA(dir, now)
	if err != nil {
		return f, err
	}
	f.Created = created
	if cert, err := readCert(f.Cert); err == nil && !created && current(cert, ca, f.Hosts, now) {
		if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err == nil {
			f.NotAfter = cert.NotAfter
			return f, nil
		}
	}
	leaf, err := issueServer(f, ca, caKey, now)
	if err != nil {
		return f, err
	}
	f.Renewed, f.NotAfter = true, leaf.NotAfter
	return f, nil
}

// current reports whether cert is signed by ca, valid beyond RenewBefore
// from now and names exactly hosts.
func current(cert, ca *x509.Certificate, hosts []string, now time.Time) bool {
	if cert.CheckSignatureFrom(ca) != nil || now.Add(RenewBefore).After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return false
	}
	return slices.Equal(certHosts(cert), hosts)
}

func certHosts(c *x509.Certificate) []string {
	hs := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		hs = append(hs, ip.String())
	}
	return normalizeHosts(hs)
}

// normalizeHosts lower-cases, canonicalises IPs, sorts and deduplicates.
func normalizeHosts(hs []string) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			h = ip.String()
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	cert, errC := readCert(certPath)
	key, errK := readKey(keyPath)
	if errC == nil && errK == nil {
		if !key.PublicKey.Equal(cert.PublicKey) {
			return nil, nil, false, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
		}
		return cert, key, false, nil
	}
	if !errors.Is(errC, os.ErrNotExist) || !errors.Is(errK, os.ErrNotExist) {
		// One file without the other, or an unreadable one: never replace a
		// CA agents may have pinned without being told.
		return nil, nil, false, fmt.Errorf("tls CA in %s: %w", dir, errors.Join(errC, errK))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"Flywheel"}, CommonName: "Flywheel CA " + host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("create CA: %w", err)
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, false, err
	}
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, false, err
	}
	cert, err = x509.ParseCertificate(der)
	return cert, key, true, err
}

func issueServer(f Files, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) (*x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"Flywheel"}, CommonName: f.Hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ServerLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	for _, h := range f.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	// The key first: a certificate never sits beside a key it does not match
	// for longer than the two renames.
	if err := writeKey(f.Key, key); err != nil {
		return nil, err
	}
	if err := writePEM(f.Cert, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

func readKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an ECDSA key", path)
	}
	return ek, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// writePEM writes atomically: a temporary file with the final mode, renamed.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ServerConfig loads cert and key into a TLS 1.2+ server configuration.
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate %s / key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// Fingerprint is the SHA-256 of the first certificate in pemData, hex, or
// "" when there is none.
func Fingerprint(pemData []byte) string {
	blk, _ := pem.Decode(pemData)
	if blk == nil {
		return ""
	}
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:])
}

// ClientConfig trusts only the certificates in caPEM (TLS 1.2+).
func ClientConfig(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bytes.TrimSpace(caPEM)) {
		return nil, errors.New("no PEM certificate to trust")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
