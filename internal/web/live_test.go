package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// FuzzLivePath feeds arbitrary ?path= values to the live stream's target
// resolution: it never panics, and what it accepts is a same-site path of
// a live page whose wildcards were filled in from that path.
func FuzzLivePath(f *testing.F) {
	for _, s := range []string{"/opsitems", "/opsitems/oi_1?tenant=acme", "/areas/security?q=x", "/executions/ex_1",
		"//evil.example", "/live?path=/live", "/static/style.css", "/opsitems/%2e%2e/x", "/\\x", "", "/approvals#x"} {
		f.Add(s)
	}
	st := sqlitetest.Open(f)
	h, err := New(Options{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := httptest.NewRequest("GET", "/live?"+url.Values{"path": {p}}.Encode(), nil)
		target, e, err := h.liveTarget(r)
		if err != nil {
			if _, ok := err.(*pageError); !ok {
				t.Fatalf("liveTarget(%q): %T %v, want a page error", p, err, err)
			}
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || e.tmpl == "" {
			t.Fatalf("liveTarget(%q) accepted it as %s (%s)", p, target.URL, e.tmpl)
		}
		if id := target.PathValue("id"); strings.Contains(id, "/") {
			t.Fatalf("liveTarget(%q): id %q holds a slash", p, id)
		}
	})
}
