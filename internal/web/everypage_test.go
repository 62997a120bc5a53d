package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/uidata"
	"github.com/flywheel-ops/flywheel/internal/web"
	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// -ui-screenshots DIR writes a PNG of every page at 1280×800 (light; dark
// for the pages in darkShots) into DIR; docs/img/ui holds the ones the
// docs show:
//
//	go test ./internal/web -run TestEveryPage -args -ui-screenshots "$PWD/docs/img/ui"
var uiScreenshots = flag.String("ui-screenshots", "", "write PNGs of every page at 1280x800 into this directory")

// darkShots are the pages also shot in the dark colour scheme.
var darkShots = []string{"GET /{$}", "GET /opsitems", "GET /opsitems/{id}", "GET /executions/{id}", "GET /dashboard"}

// everyPage is a whole server filled with the realistic dataset of
// internal/uidata through its API, and a browser logged in as its admin at
// 1280×800.
type everyPage struct {
	b     *browsertest.Browser
	ui    *web.Handler // for the list of page patterns
	data  *uidata.Dataset
	token string
	axe   string // axe-core's source
}

func newEveryPage(t *testing.T) *everyPage {
	t.Helper()
	content, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "ui-dataset.yaml"), []byte(uidata.Content), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: config.Config{DataDir: dir, ContentDir: content, Addr: "127.0.0.1:0",
		// The dataset waits for a maintenance window's run: tick often.
		MaintenanceTick: 250 * time.Millisecond}, Out: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(dir, app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	// axe-core 4.14.1 (MPL-2.0), the unmodified file of its npm package:
	// see testdata/axe-core/README.md.
	axe, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ui, err := web.New(web.Options{Store: a.Store()})
	if err != nil {
		t.Fatal(err)
	}
	x := &everyPage{ui: ui, token: strings.TrimSpace(string(tok)), axe: string(axe),
		b: browsertest.New(t, a.Handler(), browsertest.Timeout(9*time.Minute), browsertest.Window(1280, 800))}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	x.data, err = uidata.Build(ctx, client.New(x.b.Base, x.token), uidata.Options{EmptyTenant: "newco"})
	if err != nil {
		t.Fatalf("build the dataset: %v", err)
	}
	return x
}

// TestEveryPage visits every page of the UI — found by following the
// links from the overview, and checked against the router's list of pages
// (web.Handler.Pages), so a page added later is covered or the test says
// it was not reached — at 1280×800 with a realistic dataset, and fails
// when anything overflows its box (a table wider than its container hides
// columns) or axe-core finds a serious or critical accessibility
// violation, in the light and the dark colour scheme.
func TestEveryPage(t *testing.T) {
	x := newEveryPage(t)
	b := x.b
	b.Do("log in", chromedp.Navigate(b.Base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(x.token, chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`))) // the login page has a main too

	mux := http.NewServeMux()
	for _, p := range x.ui.Pages() {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	patternOf := func(u string) string {
		_, p := mux.Handler(httptest.NewRequest("GET", u, nil))
		return p
	}
	// Start from the overview; the OpsItem with executions, the failed
	// execution and the window that ran, first, so their pages are the
	// ones shown.
	queue := []string{"/", "/opsitems/" + x.data.OpsItems[firstKey(x.data.OpsItems)], "/executions/" + x.data.Executions["failed"],
		"/maintenance/" + x.data.Window}
	for title, id := range x.data.OpsItems {
		if strings.HasPrefix(title, "198.51.100.77") || strings.Contains(title, "Payments queue") {
			queue = slices.Insert(queue, 1, "/opsitems/"+id)
			break
		}
	}
	seen := map[string]string{} // pattern → the URL visited
	var covered []string
	visit := func(u, label string) {
		// A navigation can be aborted by the one before it still
		// settling (the login's redirect); one more try.
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(b.Base+u), chromedp.WaitVisible(chromedp.ID("main"))); err != nil {
			t.Logf("open %s: %v; again", u, err)
			b.Do("open "+u, chromedp.Navigate(b.Base+u), chromedp.WaitVisible(chromedp.ID("main")))
		}
		if code := b.Eval(`document.querySelector("main h1") ? document.querySelector("main h1").textContent : ""`); code == "Not Found" || code == "Internal Server Error" {
			t.Errorf("%s: the page says %s", u, code)
		}
		for _, o := range b.Overflows() {
			t.Errorf("%s at 1280×800: %s", u, o)
		}
		for _, scheme := range []string{"light", "dark"} {
			b.ColorScheme(scheme)
			for _, v := range b.Axe(x.axe) {
				t.Errorf("%s (%s): axe-core: %s", u, scheme, v)
			}
			if *uiScreenshots != "" && (scheme == "light" || slices.Contains(darkShots, label)) {
				b.ViewportShot(filepath.Join(*uiScreenshots, shotName(label)+"-"+scheme+".png"))
			}
		}
		b.ColorScheme("light")
		covered = append(covered, label+" ("+u+")")
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		p := patternOf(u)
		if p == "" || seen[p] != "" {
			continue
		}
		seen[p] = u
		visit(u, p)
		var links []string
		if err := json.Unmarshal([]byte(b.Eval(`JSON.stringify([...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")))`)), &links); err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if r, err := url.Parse(l); err == nil && r.Host == "" && strings.HasPrefix(r.Path, "/") {
				r.Fragment = ""
				queue = append(queue, r.String())
			}
		}
	}
	// The onboarding of an empty tenant, as its admin would see it.
	if x.data.EmptyTenant != "" {
		visit("/?tenant="+x.data.EmptyTenant, "GET /{$} empty tenant")
	}
	for _, p := range x.ui.Pages() {
		if seen[p] == "" {
			t.Errorf("no link leads to %s: add a link to it, and what it shows to internal/uidata", p)
		}
	}
	t.Logf("%d pages checked at 1280×800, light and dark:\n  %s", len(covered), strings.Join(covered, "\n  "))
	if len(covered) < len(x.ui.Pages()) {
		t.Errorf("only %d pages were checked; is the crawl working?", len(covered))
	}
	b.Check("status of 4") // pages that answer 403/404 for good reasons
}

// shotName makes a file name of a page pattern: "GET /opsitems/{id}" →
// "opsitems-id", "GET /{$}" → "overview".
func shotName(label string) string {
	s := strings.TrimPrefix(label, "GET ")
	s = strings.NewReplacer("{$}", "", "{", "", "}", "").Replace(s)
	s = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" || strings.HasPrefix(s, "empty-tenant") {
		return strings.TrimSuffix("overview-"+s, "-")
	}
	return s
}

// firstKey returns the smallest key, for a stable choice.
func firstKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[0]
}
