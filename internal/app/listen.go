package app

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/config/defaults"
	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

// TLSDir is where `--tls auto` keeps its CA and server certificate, in the
// data directory.
const TLSDir = defaults.TLSDir

// setupTLS prepares the listener's TLS, if any: the operator's certificate
// files, or (auto) the CA and server certificate in DATA/tls, created on
// first start and renewed when close to expiry or when the names changed.
// With auto the CA's PEM is kept for enrollment bundles, so agents pin it.
func (a *App) setupTLS() error {
	switch a.cfg.TLSMode() {
	case config.TLSFiles:
		c, err := tlsutil.ServerConfig(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return err
		}
		if a.cfg.TLSCA != "" {
			if a.caPEM, err = os.ReadFile(a.cfg.TLSCA); err != nil {
				return fmt.Errorf("tls_ca: %w", err)
			}
			if _, err := tlsutil.ClientConfig(a.caPEM); err != nil {
				return fmt.Errorf("tls_ca %s: %w", a.cfg.TLSCA, err)
			}
		}
		a.tls = c
	case config.TLSAuto:
		f, err := tlsutil.Auto(filepath.Join(a.cfg.DataDir, TLSDir), a.cfg.TLSHosts, a.now())
		if err != nil {
			return fmt.Errorf("tls auto: %w", err)
		}
		c, err := tlsutil.ServerConfig(f.Cert, f.Key)
		if err != nil {
			return err
		}
		if a.caPEM, err = os.ReadFile(f.CACert); err != nil {
			return err
		}
		a.tls = c
		switch {
		case f.Created:
			a.log.Info("created a TLS CA and server certificate", "dir", f.Dir, "ca_sha256", tlsutil.Fingerprint(a.caPEM), "names", f.Hosts, "until", f.NotAfter)
		case f.Renewed:
			a.log.Info("renewed the TLS server certificate", "dir", f.Dir, "names", f.Hosts, "until", f.NotAfter)
		}
	default:
		if !config.Loopback(a.cfg.Addr) {
			// Validate let it through: --insecure-http.
			a.log.Warn("serving plain HTTP on a non-loopback address (--insecure-http): tokens and agent credentials cross the network in clear unless a TLS proxy is in front", "addr", a.cfg.Addr)
		}
	}
	return nil
}

// listen opens the configured address, with TLS when it is set up.
func (a *App) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	if a.tls != nil {
		return tls.NewListener(ln, a.tls), nil
	}
	return ln, nil
}

// URL is the server's base URL (its bound address, https when serving TLS).
func (a *App) URL() string {
	scheme := "http://"
	if a.tls != nil {
		scheme = "https://"
	}
	return scheme + a.Addr()
}

// CACert is the PEM of the CA agents pin (--tls auto, or --tls-ca), or nil.
func (a *App) CACert() []byte { return a.caPEM }
