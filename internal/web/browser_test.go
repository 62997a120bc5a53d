package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// findChromium returns the browser binary, skipping the test only when
// there is none (CI installs Debian's chromium).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH; install one (apt-get install chromium) to run the browser test")
	return ""
}

// screenshotDir is where the browser test saves its screenshots:
// $FLYWHEEL_UI_SCREENSHOTS when set (to keep them), else a temporary dir.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("FLYWHEEL_UI_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browser is a headless Chromium tab on a test server, recording every
// request the page makes and every console or log problem.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string

	mu       sync.Mutex
	requests []string
	problems []string
}

func newBrowser(t *testing.T, e *env) *browser {
	t.Helper()
	exe := findChromium(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	// The timeout bounds the whole browser session, not one step.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)

	b := &browser{t: t, ctx: tabCtx, base: srv.URL, dir: screenshotDir(t)}
	err := chromedp.Listen(tabCtx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				b.problems = append(b.problems, "console."+string(ev.Type))
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// wantPath checks the tab's URL, relative to the server.
func (b *browser) wantPath(want string) {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	if got := strings.TrimPrefix(loc, b.base); got != want {
		b.t.Errorf("browser is at %s, want %s", got, want)
	}
}

// shot saves a full-page PNG screenshot.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// login types a token into the form the browser is showing.
func (b *browser) login(secret string, then chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do("log in",
		chromedp.SendKeys(chromedp.ID("token"), secret),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		then)
}

// check fails the test for any request that left the test server and any
// error the browser reported (a CSP violation, a failed asset, a script
// error), except the listed expected ones.
func (b *browser) check(expected ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) < 5 {
		b.t.Errorf("saw only %d requests; is the listener working?", len(b.requests))
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.base+"/") {
			b.t.Errorf("the page requested %s, outside the server", u)
		}
	}
next:
	for _, p := range b.problems {
		for _, x := range expected {
			if strings.Contains(p, x) {
				continue next
			}
		}
		b.t.Errorf("browser reported %s", p)
	}
}

// TestBrowserLogin logs in by typing the token into the form, finds the
// OpsItem in the list, clicks into it, filters, uses the keyboard and logs
// out, in a real browser.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	item := e.items["Disk almost full on db-01"]

	// Not logged in: the list sends us to the login form.
	b.do("open the list", chromedp.Navigate(b.base+"/opsitems"), chromedp.WaitVisible(chromedp.ID("token")))
	b.wantPath("/login?next=%2Fopsitems")
	b.shot("01-login")

	// A wrong token is refused with a message.
	b.login("fw_wrong", chromedp.WaitVisible(chromedp.CSS(".alert")))
	if msg := b.text(".alert"); msg != "That token is not valid." {
		t.Errorf("login error %q", msg)
	}
	b.shot("02-login-failed")

	// The right token lands on the page we asked for.
	b.login(e.acme, chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.wantPath("/opsitems")
	table := b.text("table.items")
	if !strings.Contains(table, item.Title) || strings.Contains(table, "Globex") {
		t.Errorf("list shows:\n%s", table)
	}
	if hd := b.text("header.top"); !strings.Contains(hd, "Acme Corp") || !strings.Contains(hd, "viewer") {
		t.Errorf("header shows %q", hd)
	}
	b.shot("03-opsitems")

	// Click into the OpsItem.
	b.do("open the OpsItem",
		chromedp.Click(chromedp.Search(`//a[text()="`+item.Title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.wantPath("/opsitems/" + item.ID)
	if h1 := b.text("main h1"); h1 != item.Title {
		t.Errorf("OpsItem page heading %q", h1)
	}
	if d := b.text(".description"); !strings.Contains(d, "Growing 2%/day.") {
		t.Errorf("description %q", d)
	}
	b.shot("04-opsitem")

	// The filter form.
	b.do("filter",
		chromedp.Navigate(b.base+"/opsitems"),
		chromedp.SetValue(chromedp.ID("f-severity"), "critical"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("a.button")))
	b.wantPath("/opsitems?status=&severity=critical&category=&resource=&q=")
	if rows := b.eval(`String(document.querySelectorAll("table.items tbody tr").length)`); rows != "1" {
		t.Errorf("critical filter shows %s rows", rows)
	}

	// Keyboard: the first Tab reaches the skip link, with a visible outline.
	b.do("tab", chromedp.Navigate(b.base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")), chromedp.KeyEvent(kb.Tab))
	if got := b.eval(`document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	if o := b.eval(`getComputedStyle(document.activeElement).outlineStyle`); o != "solid" {
		t.Errorf("focused skip link has outline %q", o)
	}
	b.do("tab on", chromedp.KeyEvent(kb.Tab+kb.Tab))
	b.shot("05-keyboard-focus")

	// Log out: back to the form, and the pages need a login again.
	b.do("log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("token")))
	b.wantPath("/login")
	b.do("after logout", chromedp.Navigate(b.base+"/opsitems"), chromedp.WaitVisible(chromedp.ID("token")))
	b.wantPath("/login?next=%2Fopsitems")

	b.check("status of 401") // the wrong token
}

// TestBrowserPages looks at the other pages — overview, an area, the 404
// page, dark mode, a narrow window, the admin's tenant switcher — and saves
// a screenshot of each.
func TestBrowserPages(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	item := e.items["Disk almost full on db-01"]

	b.do("login form", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.login(e.acme, chromedp.WaitVisible(chromedp.CSS(".cards")))
	b.wantPath("/")
	if n := b.text(".cards .num"); n != "3" {
		t.Errorf("overview shows %s open", n)
	}
	b.shot("06-overview")
	b.do("area", chromedp.Navigate(b.base+"/areas/security"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.shot("07-area-security")
	b.do("not found", chromedp.Navigate(b.base+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.shot("08-not-found")

	b.colorScheme("dark")
	b.do("dark list", chromedp.Navigate(b.base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	if bg := b.eval(`getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 18, 23)" {
		t.Errorf("dark mode body background %s", bg)
	}
	b.shot("09-opsitems-dark")
	b.do("dark overview", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.CSS(".cards")))
	b.shot("10-overview-dark")
	b.do("dark item", chromedp.Navigate(b.base+"/opsitems/"+item.ID), chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.shot("11-opsitem-dark")
	b.colorScheme("light")

	// Narrow window: the navigation moves above the content.
	b.do("narrow", chromedp.EmulateViewport(420, 900), chromedp.Navigate(b.base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.shot("12-opsitems-narrow")
	b.do("wide", chromedp.EmulateViewport(1280, 900))

	// The platform admin switches tenant from the header.
	globex := e.items["Globex secret outage"]
	b.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	b.login(e.admin, chromedp.WaitVisible(chromedp.ID("tenant-switch")))
	b.do("switch tenant",
		chromedp.Navigate(b.base+"/opsitems"),
		chromedp.SetValue(chromedp.ID("tenant-switch"), "globex"),
		chromedp.Click(chromedp.CSS(`form.switch button`)),
		chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.wantPath("/opsitems?tenant=globex")
	if table := b.text("table.items"); !strings.Contains(table, globex.Title) {
		t.Errorf("admin's globex list shows:\n%s", table)
	}
	b.shot("13-admin-tenant-globex")
	b.do("open globex item",
		chromedp.Click(chromedp.Search(`//a[text()="`+globex.Title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.wantPath("/opsitems/" + globex.ID + "?tenant=globex")

	b.check("status of 404") // the page that is not there
}
