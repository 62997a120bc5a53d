package wire

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// BundleFormat names an enrollment bundle, and its version.
const BundleFormat = "flywheel-enrollment/v1"

// Bundle is everything a host needs to enroll, in one file: the server to
// talk to, the CA to pin when the server runs TLS with its own CA, the
// one-time token and the tags it carries. `flywheel agent token create
// --bundle FILE` writes it (0600); `flywheel agent run --bundle FILE`
// enrolls from it.
type Bundle struct {
	Format string `json:"format"`
	Server string `json:"server"`
	// CACert is the PEM the agent pins https to ("" when the server's
	// certificate chains to the system's roots, or the server is http).
	CACert    string            `json:"ca_cert,omitempty"`
	Token     string            `json:"token"`
	Tenant    string            `json:"tenant,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	ExpiresAt time.Time         `json:"expires_at,omitzero"`
}

// MaxBundleSize bounds a bundle file.
const MaxBundleSize = 64 << 10

// ParseBundle reads and checks a bundle: known format, an http(s) server
// URL, an enrollment token, and for a CA only PEM certificates.
func ParseBundle(data []byte) (Bundle, error) {
	var b Bundle
	if len(data) > MaxBundleSize {
		return b, fmt.Errorf("bundle: %d bytes, more than %d", len(data), MaxBundleSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("bundle: not an enrollment bundle: %w", err)
	}
	if dec.More() {
		return b, errors.New("bundle: trailing data after the JSON object")
	}
	var errs []error
	if b.Format != BundleFormat {
		errs = append(errs, fmt.Errorf("format %q is not %q", b.Format, BundleFormat))
	}
	if u, err := url.Parse(b.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server %q is not an http(s) URL", b.Server))
	}
	if !strings.HasPrefix(b.Token, EnrollTokenPrefix) || len(b.Token) > 256 {
		errs = append(errs, fmt.Errorf("token is not an enrollment token (%s…)", EnrollTokenPrefix))
	}
	if b.CACert != "" {
		if err := checkPEMCerts([]byte(b.CACert)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return b, fmt.Errorf("bundle: %w", err)
	}
	return b, nil
}

// checkPEMCerts requires at least one PEM block, all of them certificates.
func checkPEMCerts(data []byte) error {
	n := 0
	for rest := bytes.TrimSpace(data); len(rest) > 0; rest = bytes.TrimSpace(rest) {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return errors.New("ca_cert holds something other than PEM")
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("ca_cert holds a %s, not only certificates", blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("ca_cert: %w", err)
		}
		n++
	}
	if n == 0 {
		return errors.New("ca_cert holds no certificate")
	}
	return nil
}
