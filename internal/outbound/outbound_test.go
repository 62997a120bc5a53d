package outbound_test

import (
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/outbound"
)

func TestKind(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1":        "loopback",
		"::1":              "loopback",
		"::ffff:127.0.0.1": "loopback",
		"169.254.169.254":  "link-local (cloud metadata)",
		"fe80::1":          "link-local (cloud metadata)",
		"10.1.2.3":         "private",
		"172.16.0.1":       "private",
		"192.168.1.1":      "private",
		"fd00:ec2::254":    "private",
		"100.100.100.200":  "shared (CGNAT)",
		"0.0.0.0":          "unspecified",
		"::":               "unspecified",
		"224.0.0.1":        "multicast",
		"239.1.1.1":        "multicast",
		"255.255.255.255":  "broadcast",
		"64:ff9b::7f00:1":  "NAT64",
		"8.8.8.8":          "",
		"2606:4700::1111":  "",
	} {
		if got := outbound.Kind(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Kind(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestGuardAllowList(t *testing.T) {
	t.Parallel()
	g, err := outbound.New([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, allowed := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false, "10.200.0.1": true,
		"192.168.0.1": false, "169.254.169.254": false, "1.1.1.1": true,
	} {
		err := g.Check(netip.MustParseAddr(addr))
		if (err == nil) != allowed {
			t.Errorf("Check(%s) = %v, want allowed=%v", addr, err, allowed)
		}
	}
	var none *outbound.Guard
	if err := none.Check(netip.MustParseAddr("127.0.0.1")); !outbound.Refused(err) {
		t.Errorf("a nil guard allowed loopback: %v", err)
	}
	for _, bad := range []string{"", "localhost", "10.0.0.0/33", "1.2.3.4/x"} {
		if _, err := outbound.New([]string{bad}); err == nil || !strings.Contains(err.Error(), "outbound_allow") {
			t.Errorf("New(%q) = %v, want an outbound_allow error", bad, err)
		}
	}
}

// TestClientRefusesAfterResolution: a request to a loopback server is
// refused by the default guard, by IP and by a name resolving to it, and
// goes through once allow-listed.
func TestClientRefusesAfterResolution(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) { w.WriteHeader(204) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := (&outbound.Guard{}).Client().Get(u)
		if !outbound.Refused(err) || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("GET %s with the default guard: %v, want a loopback refusal", u, err)
		}
	}
	g, _ := outbound.New([]string{"127.0.0.0/8", "::1"})
	resp, err := g.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("allow-listed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestClientChecksRedirects: an allowed server redirecting to an address
// that is not allowed is refused at the redirect.
func TestClientChecksRedirects(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	inner := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) { fmt.Fprint(w, "secret") }))
	inner.Listener.Close()
	inner.Listener = ln
	inner.Start()
	t.Cleanup(inner.Close)
	outer := httptest.NewServer(nethttp.RedirectHandler(inner.URL, nethttp.StatusFound))
	t.Cleanup(outer.Close)

	g, _ := outbound.New([]string{"127.0.0.1"})
	_, err = g.Client().Get(outer.URL)
	if !outbound.Refused(err) {
		t.Fatalf("a redirect to 127.0.0.2: %v, want refused", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.2") {
		t.Errorf("the refusal does not name the redirect's address: %v", err)
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "::ffff:10.0.0.1", "1.2.3.4/33", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := outbound.ParsePrefix(s)
		if err != nil {
			if !strings.Contains(err.Error(), "outbound_allow") {
				t.Fatalf("error without the option's name: %v", err)
			}
			return
		}
		if !p.IsValid() || p.Masked() != p {
			t.Fatalf("ParsePrefix(%q) = %v, not a valid masked prefix", s, p)
		}
	})
}

// TestDocMessage: the refusal docs/hardening.md shows is the one a
// request to 127.0.0.1 gets.
func TestDocMessage(t *testing.T) {
	t.Parallel()
	err := (&outbound.Guard{}).Check(netip.MustParseAddr("127.0.0.1"))
	for _, b := range mdtest.Blocks(t, "../../docs/hardening.md") {
		if b.Lang == "" && strings.HasPrefix(b.Text(), "outbound request to") {
			if got := strings.TrimSpace(b.Text()); got != err.Error() {
				t.Errorf("docs/hardening.md:%d shows\n%s\nthe guard says\n%s", b.Line, got, err)
			}
			return
		}
	}
	t.Error("docs/hardening.md shows no refusal message")
}
