package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestFleetPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	seen, stale, gone := e.now.Add(-time.Minute), e.now.Add(time.Minute), e.now.Add(-time.Hour)
	agents := []store.Agent{
		{ID: "agt_web01", Hostname: "web-01", Version: "v1.4.0", ResourceID: "res_web01", LastSeenAt: &seen, StaleAfter: &stale},
		{ID: "agt_web02", Hostname: "web-02", Version: "v1.5.0", LastSeenAt: &gone, StaleAfter: &gone, NotReportingSince: &gone},
		{ID: "agt_db01", Hostname: "db-01", Version: "v1.5.0"},
	}
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for i, a := range agents {
			a.TenantID, a.OS, a.Arch, a.EnrolledAt, a.Tags = "acme", "linux", "amd64", e.now.Add(-24*time.Hour), map[string]string{"role": "web"}
			if err := tx.CreateAgent(ctx, a, "hash-"+a.ID+string(rune('a'+i))); err != nil {
				return err
			}
		}
		return tx.PutResource(ctx, store.Resource{ID: "res_web01", TenantID: "acme", Type: "host", Name: "web-01", AgentID: "agt_web01",
			Config: []byte(`{"kernel":"6.1.0-18-amd64","disks":[{"mount":"/","size_gb":80}]}`), CreatedAt: seen, UpdatedAt: seen})
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, DesiredVersion: "v1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h

	list := e.get("/fleet", e.acme)
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list, `<span class="num" id="fleet-reporting">1</span>`, `<span class="num" id="fleet-not-reporting">1</span>`,
		`<span class="num" id="fleet-pending">1</span>`, `<span class="num" id="fleet-outdated">1</span> drifted from <code>v1.5.0</code>`,
		`<a href="/fleet/agt_web01">web-01</a>`, `<code>v1.4.0</code> <span class="badge ag-drift">drift</span>`, `<span class="badge ag-not-reporting">not-reporting</span>`)
	wantContains(t, e.get("/fleet", e.globex), "No agents yet.")

	page := e.get("/fleet/agt_web01", e.acme)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page, "<h1>web-01</h1>", "(desired <code>v1.5.0</code>)", `href="/opsitems?resource=res_web01"`,
		// The inventory shows as tables, not raw JSON.
		`<th scope="row">kernel</th><td>6.1.0-18-amd64</td>`,
		`<th scope="row">disks</th><td><table class="doc"><thead><tr><th scope="col">mount</th><th scope="col">size_gb</th></tr></thead><tbody><tr><td>/</td><td>80</td></tr></tbody></table>`)
	if strings.Contains(page.body, `&#34;kernel&#34;`) || strings.Contains(page.body, `"kernel"`) {
		t.Error("the agent page shows the inventory as raw JSON")
	}
	wantContains(t, e.get("/fleet/agt_db01", e.acme), "never", "has not reported an inventory yet")
	wantStatus(t, e.get("/fleet/agt_web01", e.globex), http.StatusNotFound)
}

// TestDocTable: an inventory document's keys and values are escaped text
// in its tables, whatever they hold; lists of scalars are lists, missing
// cells empty, and a document that is not JSON is escaped text.
func TestDocTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ doc, want string }{
		{`{"<script>":"<img src=x onerror=alert(1)>"}`, `<table class="doc"><tbody><tr><th scope="row">&lt;script&gt;</th><td>&lt;img src=x onerror=alert(1)&gt;</td></tr></tbody></table>`},
		{`{"ips":["10.0.0.1","10.0.0.2"],"up":true,"n":null}`, `<table class="doc"><tbody><tr><th scope="row">ips</th><td><ol class="doc"><li>10.0.0.1</li><li>10.0.0.2</li></ol></td></tr><tr><th scope="row">n</th><td><span class="empty">null</span></td></tr><tr><th scope="row">up</th><td>true</td></tr></tbody></table>`},
		{`[{"a":1},{"b":"x"}]`, `<table class="doc"><thead><tr><th scope="col">a</th><th scope="col">b</th></tr></thead><tbody><tr><td>1</td><td></td></tr><tr><td></td><td>x</td></tr></tbody></table>`},
		{`{"a":{}}`, `<table class="doc"><tbody><tr><th scope="row">a</th><td><span class="empty">none</span></td></tr></tbody></table>`},
		{`{"a":<b>`, `<pre class="json">{&#34;a&#34;:&lt;b&gt;</pre>`},
	} {
		if got := string(docTable([]byte(c.doc))); got != c.want {
			t.Errorf("docTable(%s)\n got %s\nwant %s", c.doc, got, c.want)
		}
	}
}

// FuzzDocTable: whatever an inventory document holds, its tables carry no
// markup but their own (every other < and > is escaped).
func FuzzDocTable(f *testing.F) {
	for _, s := range []string{`{"kernel":"6.1","disks":[{"mount":"/","size_gb":80}]}`, `{"<b>":"</td><script>"}`, `[1,"a",null,true,{"x":[]}]`, `{"a":`, `"\u003cimg\u003e"`} {
		f.Add([]byte(s))
	}
	own := regexp.MustCompile(`</?(table|tbody|thead|tr|th|td|ol|li|span|pre)( class="(doc|empty|json)"| scope="(row|col)")?>`)
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := own.ReplaceAllString(string(docTable(doc)), "")
		if strings.ContainsAny(out, "<>") {
			t.Errorf("docTable(%q) carries markup of its own: %q", doc, out)
		}
	})
}
