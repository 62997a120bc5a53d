package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
)

// pinnedClient trusts only the certificates in pem for https.
func pinnedClient(pem []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("the CA file holds no PEM certificate")
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// untrusted reports whether err is a failed certificate verification:
// retrying cannot fix it.
func untrusted(err error) bool {
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &hn)
}
