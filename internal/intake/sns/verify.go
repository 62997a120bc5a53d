package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// maxCertBytes bounds a signing certificate download; SNS certificates are
// about 2 KiB of PEM.
const maxCertBytes = 64 << 10

// verify checks the message signature: SignatureVersion 1 is SHA1withRSA,
// 2 is SHA256withRSA, over stringToSign, with the certificate fetched from
// SigningCertURL — only over https from an allow-listed host. Every failure
// is a 403 *intake.BadRequest, except a certificate download that fails on
// our side (network, 5xx), which is a server fault so that SNS retries.
func (a *Adapter) verify(ctx context.Context, m *message) error {
	if a.cfg.SkipVerify {
		return nil
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	case "":
		return forbidden("signature verification failed: SignatureVersion is required")
	default:
		return forbidden("signature verification failed: unsupported SignatureVersion %q", m.SignatureVersion)
	}
	if m.Signature == "" {
		return forbidden("signature verification failed: Signature is required")
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return forbidden("signature verification failed: Signature is not valid base64")
	}
	if m.SigningCertURL == "" {
		return forbidden("signature verification failed: SigningCertURL is required")
	}
	if err := a.checkHostURL("SigningCertURL", m.SigningCertURL); err != nil {
		return err
	}
	cert, err := a.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	if now := a.cfg.Clock(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return forbidden("signature verification failed: signing certificate is not valid at %s (valid %s to %s)",
			now.UTC().Format("2006-01-02T15:04:05Z"), cert.NotBefore.UTC().Format("2006-01-02"), cert.NotAfter.UTC().Format("2006-01-02"))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return forbidden("signature verification failed: signing certificate key is not RSA")
	}
	text := []byte(stringToSign(m))
	var digest []byte
	if hash == crypto.SHA1 {
		sum := sha1.Sum(text)
		digest = sum[:]
	} else {
		sum := sha256.Sum256(text)
		digest = sum[:]
	}
	if rsa.VerifyPKCS1v15(pub, hash, digest, sig) != nil {
		return forbidden("signature verification failed: the signature does not match the message")
	}
	return nil
}

// cert returns the certificate at certURL, from the cache or fetched.
func (a *Adapter) cert(ctx context.Context, certURL string) (*x509.Certificate, error) {
	if c, ok := a.certs.get(certURL); ok {
		return c, nil
	}
	c, err := a.fetchCert(ctx, certURL)
	if err != nil {
		return nil, err
	}
	a.certs.put(certURL, c)
	return c, nil
}

func (a *Adapter) fetchCert(ctx context.Context, certURL string) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, forbidden("SigningCertURL is not a valid URL")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sns: fetching signing certificate: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		// An allow-listed host that has no such certificate: the URL was
		// made up.
		return nil, forbidden("signature verification failed: signing certificate: %s", resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("sns: fetching signing certificate: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sns: reading signing certificate: %w", err)
	}
	if len(body) > maxCertBytes {
		return nil, forbidden("signature verification failed: signing certificate is larger than %d bytes", maxCertBytes)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, forbidden("signature verification failed: signing certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, forbidden("signature verification failed: signing certificate: %v", err)
	}
	return cert, nil
}

// hostAllowed reports whether u's host matches one of the patterns. A "*"
// label matches exactly one DNS label; a pattern without a port matches
// only the default https port.
func hostAllowed(patterns []string, u *url.URL) bool {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		pHost, pPort := p, ""
		if h, po, err := net.SplitHostPort(p); err == nil {
			pHost, pPort = h, po
		}
		if pPort == "" && port != "" && port != "443" || pPort != "" && port != pPort {
			continue
		}
		if labelsMatch(pHost, host) {
			return true
		}
	}
	return false
}

func labelsMatch(pattern, host string) bool {
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if hl[i] == "" || pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
	}
	return true
}

// certCache holds parsed signing certificates by URL, evicting the oldest
// entry beyond max so a stream of forged URLs on an allow-listed host cannot
// grow it without bound.
type certCache struct {
	mu    sync.Mutex
	max   int
	certs map[string]*x509.Certificate
	order []string // insertion order, oldest first
}

func newCertCache(maxEntries int) *certCache {
	return &certCache{max: maxEntries, certs: make(map[string]*x509.Certificate, maxEntries)}
}

func (c *certCache) get(key string) (*x509.Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, ok := c.certs[key]
	return cert, ok
}

func (c *certCache) put(key string, cert *x509.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.certs[key]; ok {
		c.certs[key] = cert
		return
	}
	if len(c.order) >= c.max {
		delete(c.certs, c.order[0])
		c.order = c.order[1:]
	}
	c.certs[key] = cert
	c.order = append(c.order, key)
}

func (c *certCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.certs)
}
