// Package outbound guards the HTTP requests Flywheel sends on a user's
// behalf (webhook and Slack notifications, the runbook `http` action and so
// runbook `url` parameters): loopback, link-local (cloud metadata),
// private, shared (CGNAT), unspecified and multicast addresses are refused
// unless the server's configuration allow-lists them (outbound_allow).
//
// The check runs in the dialer's Control hook, on the address actually
// dialled: after DNS resolution, for every connection, redirects included,
// so a public name resolving to 127.0.0.1 or a redirect to
// 169.254.169.254 is refused like the literal address.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Guard decides which addresses outbound requests may reach. A nil or zero
// Guard refuses every special-purpose address.
type Guard struct {
	allow []netip.Prefix
}

// New returns a Guard allowing the given IPs and CIDR prefixes
// ("127.0.0.1", "10.0.0.0/8", "fd00::/8").
func New(allow []string) (*Guard, error) {
	g := &Guard{}
	for _, s := range allow {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		g.allow = append(g.allow, p)
	}
	return g, nil
}

// ParsePrefix reads an outbound_allow entry: an IP or a CIDR prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("outbound_allow: %q is not an IP or CIDR prefix (e.g. 10.0.0.0/8)", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("outbound_allow: %q is not an IP or CIDR prefix (e.g. 10.0.0.0/8)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// RefusedError is a connection the guard refused.
type RefusedError struct {
	Addr netip.Addr
	Kind string // "loopback", "private", …
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("outbound request to %s refused: it is a %s address (allow it in the server's outbound_allow to reach it)", e.Addr, e.Kind)
}

// special are the ranges refused by default, besides what netip classifies.
var special = []struct {
	p    netip.Prefix
	kind string
}{
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"}, // 100.100.100.200 is Alibaba's metadata
	{netip.MustParsePrefix("192.0.0.0/24"), "special-purpose"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
}

// Kind names the special-purpose range a belongs to, "" for a public
// address.
func Kind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLinkLocalUnicast():
		return "link-local (cloud metadata)"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast():
		return "multicast"
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, s := range special {
		if s.p.Contains(a) {
			return s.kind
		}
	}
	return ""
}

// Check returns a *RefusedError when a may not be reached.
func (g *Guard) Check(a netip.Addr) error {
	a = a.Unmap()
	kind := Kind(a)
	if kind == "" {
		return nil
	}
	if g != nil {
		for _, p := range g.allow {
			if p.Contains(a) {
				return nil
			}
		}
	}
	return &RefusedError{Addr: a, Kind: kind}
}

// Control is a net.Dialer Control hook: it checks the resolved address
// about to be dialled.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound request to %q refused: not an IP address", address)
	}
	return g.Check(ap.Addr())
}

// Dialer returns a net.Dialer that dials only addresses g allows.
func (g *Guard) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.Control}
}

// Transport returns an HTTP transport whose connections g checks. It uses
// no proxy: through one the guard would see only the proxy's address.
func (g *Guard) Transport() *nethttp.Transport {
	t := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	t.Proxy = nil
	d := g.Dialer()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// Client returns an HTTP client on Transport.
func (g *Guard) Client() *nethttp.Client {
	return &nethttp.Client{Transport: g.Transport()}
}

// Refused reports whether err is (or wraps) a guard refusal.
func Refused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}
