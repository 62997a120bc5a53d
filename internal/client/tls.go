package client

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"

	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

// TrustCAFile makes c trust only the PEM certificates in path for https
// (a server running --tls auto: its DATA/tls/ca.crt). A file that cannot be
// read or holds no certificate fails every request, naming it.
func (c *Client) TrustCAFile(path string) {
	var rt http.RoundTripper
	pem, err := os.ReadFile(path)
	if err == nil {
		var cfg *tls.Config
		if cfg, err = tlsutil.ClientConfig(pem); err == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.TLSClientConfig = cfg
			rt = t
		}
	}
	if err != nil {
		rt = failing{fmt.Errorf("CA file %s: %w", path, err)}
	}
	c.HTTP = &http.Client{Timeout: c.HTTP.Timeout, Transport: rt}
}

type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }
