package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	globexItem := e.items["Globex secret outage"]
	acmeItem := e.items["Disk almost full on db-01"]

	// An acme session cannot see a globex OpsItem: 404, as if it did not exist.
	res := e.get("/opsitems/"+globexItem.ID, e.acme)
	wantStatus(t, res, http.StatusNotFound)
	wantLacks(t, res, "Globex secret outage")
	wantContains(t, e.get("/opsitems/"+acmeItem.ID, e.acme), "Disk almost full on db-01")

	// Lists and the overview show only the session's tenant.
	for _, p := range []string{"/opsitems", "/", "/areas/monitoring", "/opsitems?severity=critical"} {
		res := e.get(p, e.acme)
		wantStatus(t, res, http.StatusOK)
		wantLacks(t, res, "Globex secret outage", itemLink(globexItem))
	}
	list := e.get("/opsitems", e.acme)
	if n := rows(list.body); n != 5 {
		t.Errorf("acme list shows %d OpsItems, want its 5", n)
	}
	wantStatus(t, e.get("/opsitems", e.globex), http.StatusOK)
	if n := rows(e.get("/opsitems", e.globex).body); n != 1 {
		t.Errorf("globex list shows %d OpsItems, want 1", n)
	}

	// Only a platform admin may pick another tenant.
	res = e.get("/opsitems?tenant=globex", e.acme)
	wantStatus(t, res, http.StatusForbidden)
	wantLacks(t, res, "Globex secret outage")
	wantStatus(t, e.get("/opsitems/"+globexItem.ID+"?tenant=globex", e.acme), http.StatusForbidden)
}

func TestPlatformAdminPicksTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	globexItem := e.items["Globex secret outage"]

	own := e.get("/opsitems", e.admin)
	wantStatus(t, own, http.StatusOK)
	wantContains(t, own, `<label for="tenant-switch">View tenant</label>`, "No OpsItems here yet.")

	res := e.get("/opsitems?tenant=globex", e.admin)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, res, "Globex secret outage", `href="/opsitems/`+globexItem.ID+`?tenant=globex"`,
		`<option value="globex" selected>`, `<input type="hidden" name="tenant" value="globex">`,
		`href="/areas/security?tenant=globex"`) // the navigation keeps the choice
	wantLacks(t, res, "Disk almost full")

	wantContains(t, e.get("/opsitems/"+globexItem.ID+"?tenant=globex", e.admin), "Globex secret outage")
	wantStatus(t, e.get("/opsitems/"+globexItem.ID, e.admin), http.StatusNotFound)
	wantStatus(t, e.get("/opsitems?tenant=nope", e.admin), http.StatusNotFound)
	wantContains(t, e.get("/?tenant=acme", e.admin), "GuardDuty: SSH brute force")
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Disk almost full on db-01", "GuardDuty: SSH brute force", "Patch window overran", "Backup restore test failed", `<script>alert("x")</script> in title`}},
		{"status=open", []string{"Disk almost full on db-01", "GuardDuty: SSH brute force", `<script>alert("x")</script> in title`}},
		{"status=in-progress", []string{"Patch window overran"}},
		{"severity=high", []string{"Disk almost full on db-01", "Backup restore test failed"}},
		{"severity=high&status=open", []string{"Disk almost full on db-01"}},
		{"category=security", []string{"GuardDuty: SSH brute force"}},
		{"q=DISK", []string{"Disk almost full on db-01"}},
		{"q=growing+2%25", []string{"Disk almost full on db-01"}}, // matches the description
		{"q=nothing-matches", nil},
		{"status=suppressed", nil},
	} {
		res := e.get("/opsitems?"+tc.query, e.acme)
		wantStatus(t, res, http.StatusOK)
		for title, o := range e.items {
			want := false
			for _, w := range tc.want {
				want = want || w == title
			}
			if got := strings.Contains(res.body, itemLink(o)); got != want {
				t.Errorf("?%s: shows %q = %v, want %v", tc.query, title, got, want)
			}
		}
		if tc.want == nil {
			wantContains(t, res, "No OpsItems match these filters.")
		}
	}

	// The form shows the filters in use, and a way to clear them.
	res := e.get("/opsitems?status=open&severity=high&category=finance&q=disk", e.acme)
	wantContains(t, res, `<option value="open" selected>`, `<option value="high" selected>`,
		`<option value="finance" selected>Financial &amp; capacity</option>`, `name="q" type="search" value="disk"`,
		`<a class="button" href="/opsitems">Clear</a>`)

	// Severity is text as well as color.
	wantContains(t, e.get("/opsitems", e.acme), `<span class="badge sev-critical">critical</span>`)
	// Titles are escaped.
	wantContains(t, e.get("/opsitems", e.acme), "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; in title")

	for _, bad := range []string{"status=closed", "severity=urgent", "category=misc", "q=" + strings.Repeat("x", 201), "cursor=" + strings.Repeat("x", 200)} {
		res := e.get("/opsitems?"+bad, e.acme)
		wantStatus(t, res, http.StatusBadRequest)
	}
	wantContains(t, e.get("/opsitems?severity=urgent", e.acme), `severity &#34;urgent&#34; is not one of critical, high, medium, low, info`)
}

func TestAreaPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nav := e.get("/", e.acme)
	for _, c := range opsitem.Categories {
		wantContains(t, nav, fmt.Sprintf(`<a href="/areas/%s">%s</a>`, c, strings.ReplaceAll(opsitem.CategoryTitles[c], "&", "&amp;")))
	}
	res := e.get("/areas/security", e.acme)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, res, "<h1>Security</h1>", itemLink(e.items["GuardDuty: SSH brute force"]), `<a href="/areas/security" aria-current="page">`)
	if n := rows(res.body); n != 1 {
		t.Errorf("security area shows %d OpsItems, want 1", n)
	}
	wantLacks(t, res, `id="f-category"`) // the area fixes the category
	// A category in the query cannot widen an area page.
	if n := rows(e.get("/areas/security?category=finance", e.acme).body); n != 1 {
		t.Errorf("area page honoured ?category=: %d rows", n)
	}
	empty := e.get("/areas/deployment", e.acme)
	wantStatus(t, empty, http.StatusOK)
	wantContains(t, empty, "No OpsItems here yet.")
	wantStatus(t, e.get("/areas/nope", e.acme), http.StatusNotFound)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for i := range listPageSize + 7 {
			at := e.now.Add(time.Hour + time.Duration(i)*time.Second)
			o := store.OpsItem{ID: store.NewID("oi", at), TenantID: "globex", Title: fmt.Sprintf("Bulk item %03d", i),
				Category: "monitoring", Severity: "low", Status: "open", Source: "manual", CreatedAt: at, UpdatedAt: at}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := e.get("/opsitems?severity=low", e.globex)
	if n := rows(first.body); n != listPageSize {
		t.Fatalf("first page: %d rows", n)
	}
	m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next link")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if u, _ := url.Parse(next); u.Query().Get("severity") != "low" || u.Query().Get("cursor") == "" {
		t.Errorf("next link %q does not keep the filter", next)
	}
	second := e.get(next, e.globex)
	if n := rows(second.body); n != 7 {
		t.Errorf("second page: %d rows, want 7", n)
	}
	wantContains(t, second, `<a href="/opsitems?severity=low">First page</a>`)
	wantLacks(t, second, `rel="next"`, "Bulk item 056\n") // newest first: item 056 is on page one
}

func TestOverview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.get("/", e.acme)
	wantStatus(t, res, http.StatusOK)
	body := strings.Join(strings.Fields(res.body), " ")
	for _, want := range []string{
		`<span class="num">3</span> open`, `<span class="num">1</span> in progress`,
		// severity rows: open, in progress
		`<th scope="row">critical</th> <td class="n"><a href="/opsitems?severity=critical&amp;status=open">1</a></td>`,
		`<th scope="row">high</th> <td class="n"><a href="/opsitems?severity=high&amp;status=open">1</a></td>`,
		`<th scope="row">medium</th> <td class="n"><a href="/opsitems?severity=medium&amp;status=open">0</a></td> <td class="n"><a href="/opsitems?severity=medium&amp;status=in-progress">1</a></td>`,
		// area rows link into the area pages
		`<th scope="row">Patching</th> <td class="n"><a href="/areas/patching?status=open">0</a></td> <td class="n"><a href="/areas/patching?status=in-progress">1</a></td>`,
		`<th scope="row">Financial &amp; capacity</th> <td class="n"><a href="/areas/finance?status=open">1</a></td>`,
		`<rect class="fill sev-critical" width="160"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	wantContains(t, res, itemLink(e.items["GuardDuty: SSH brute force"]))
	wantLacks(t, res, itemLink(e.items["Backup restore test failed"])) // resolved

	empty := e.get("/", e.admin)
	wantContains(t, empty, `<span class="num">0</span> open`, "No open OpsItems.")
}

func TestOpsItemPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.items["Disk almost full on db-01"]
	res := e.get("/opsitems/"+o.ID, e.acme)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, res, "<h1>Disk almost full on db-01</h1>", "Volume /var at 93%.\nGrowing 2%/day.",
		`<span class="badge sev-high">high</span>`, `<span class="badge status-open">open</span>`,
		`<a href="/areas/finance">Financial &amp; capacity</a>`, `<time datetime="2026-05-04T09:30:00Z">2026-05-04 09:30 UTC</time>`,
		"<code>"+o.ID+"</code>", `<a href="/opsitems" aria-current="page">OpsItems</a>`)
	wantStatus(t, e.get("/opsitems/oi_does_not_exist", e.acme), http.StatusNotFound)
	wantStatus(t, e.get("/opsitems/"+strings.Repeat("x", 129), e.acme), http.StatusNotFound)
}

func TestNotFoundPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, secret := range []string{"", e.acme} {
		for _, p := range []string{"/nope", "/opsitems/a/b", "/static/nope.css", "/static/", "/api-ish"} {
			res := e.get(p, secret)
			wantStatus(t, res, http.StatusNotFound)
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", p, ct)
			}
			wantContains(t, res, "<h1>Not Found</h1>")
			if secret != "" {
				wantContains(t, res, `<nav class="side"`, "Acme Corp")
			} else {
				wantLacks(t, res, `<nav class="side"`)
			}
		}
	}
	res := e.post("/opsitems", url.Values{})
	wantStatus(t, res, http.StatusMethodNotAllowed)
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q", allow)
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.get("/login", "")
	m := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("login page does not link the versioned stylesheet")
	}
	css := e.get(m[1], "")
	wantStatus(t, css, http.StatusOK)
	if ct := css.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css Content-Type %q", ct)
	}
	if cc := css.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned asset Cache-Control %q", cc)
	}
	if cc := e.get("/static/style.css", "").Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned asset Cache-Control %q", cc)
	}
	wantContains(t, css, "prefers-color-scheme: dark", ":focus-visible")
}
