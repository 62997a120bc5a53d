// Package browsertest drives headless Chromium (chromedp) against a UI
// handler for the web package's browser tests and the acceptance test:
// the same browser flags, screenshots, and the checks that the page made
// no request outside the server and reported no error.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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

	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// findChromium returns the browser binary, skipping the test only when
// there is none, and failing then in CI (internal/testenv; CI installs
// Debian's chromium).
func findChromium(t *testing.T) string {
	t.Helper()
	return testenv.Program(t, "chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
}

// screenshotDir is where the browser test saves its screenshots:
// $FLYWHEEL_UI_SCREENSHOTS or $FLYWHEEL_SCREENSHOTS when set (to keep them),
// else a temporary dir.
func screenshotDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("FLYWHEEL_UI_SCREENSHOTS")
	if d == "" {
		d = os.Getenv("FLYWHEEL_SCREENSHOTS")
	}
	if d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Browser is a headless Chromium tab on a test server, recording every
// request the page makes and every console or log problem.
type Browser struct {
	t    *testing.T
	Ctx  context.Context // the tab
	Base string          // the server's URL
	dir  string

	mu       sync.Mutex
	requests []string
	problems []string
}

// Option changes how New starts the browser.
type Option func(*options)

type options struct {
	timeout       time.Duration
	width, height int
}

// Timeout bounds the whole browser session (default three minutes).
func Timeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Window sets the window's size (default 1280×900).
func Window(width, height int) Option { return func(o *options) { o.width, o.height = width, height } }

func New(t *testing.T, h http.Handler, opts ...Option) *Browser {
	t.Helper()
	o := options{timeout: 3 * time.Minute, width: 1280, height: 900}
	for _, f := range opts {
		f(&o)
	}
	exe := findChromium(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	// The timeout bounds the whole browser session, not one step.
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	t.Cleanup(cancel)
	flags := []chromedp.ExecAllocatorOption{
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
		chromedp.WindowSize(o.width, o.height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, flags...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)

	b := &Browser{t: t, Ctx: tabCtx, Base: srv.URL, dir: screenshotDir(t)}
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

func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *Browser) Eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// WantPath checks the tab's URL, relative to the server.
func (b *Browser) WantPath(want string) {
	b.t.Helper()
	loc, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	if got := strings.TrimPrefix(loc, b.Base); got != want {
		b.t.Errorf("browser is at %s, want %s", got, want)
	}
}

// Shot saves a full-page PNG screenshot, failing the test when the page is
// wider than the window (a wide table must scroll in its own box).
func (b *Browser) Shot(name string) {
	b.t.Helper()
	if w := b.Eval(`document.documentElement.scrollWidth + " " + window.innerWidth`); w != "" {
		var page, window int
		if _, err := fmt.Sscan(w, &page, &window); err == nil && page > window {
			b.t.Errorf("%s: the page is %d px wide in a %d px window", name, page, window)
		}
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

func (b *Browser) ColorScheme(scheme string) {
	b.t.Helper()
	_, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// Login types a token into the form the browser is showing.
func (b *Browser) Login(secret string, then chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Do("log in",
		chromedp.SendKeys(chromedp.ID("token"), secret),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		then)
}

// Check fails the test for any request that left the test server and any
// error the browser reported (a CSP violation, a failed asset, a script
// error), except the listed expected ones.
func (b *Browser) Check(expected ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) < 5 {
		b.t.Errorf("saw only %d requests; is the listener working?", len(b.requests))
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.Base+"/") {
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

// overflowJS lists every element whose content is wider than its box
// (scrollWidth > clientWidth), innermost first, naming the table or the
// section it is in; and the page itself when it is wider than the window.
// A cell truncated with an ellipsis that carries its full text in a title
// is not an overflow: that is the UI's way to shorten long values. Form
// fields scroll their own text, and the parts of an SVG chart are left
// to the svg element's own check.
const overflowJS = `(() => {
  const name = el => { let s = el.tagName.toLowerCase(); if (el.id) s += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join("."); return s; };
  const where = el => { const t = el.closest("table") || el.querySelector("table"); const parts = [];
    if (t) parts.push("in " + name(t) + (t.caption ? ' "' + t.caption.textContent.trim() + '"' : ""));
    let n = el; while (n && n !== document.body) { const h = n.querySelector && n.querySelector(":scope > h2, :scope > h3");
      if (h) { parts.push('under "' + h.textContent.trim() + '"'); break; } n = n.parentElement; }
    return parts.join(" "); };
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1) continue;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) || el.closest(".visually-hidden")) continue;
    // Inside an SVG chart (scaled to its box by its viewBox), Chromium's
    // widths of a text element do not compare: CI once saw an axis label
    // "126 px wide in a 123 px box" at one hour of the day. The svg itself
    // is still checked.
    if (el instanceof SVGElement && !(el instanceof SVGSVGElement)) continue;
    if (getComputedStyle(el).textOverflow === "ellipsis" && el.title) continue;
    found.push(el);
  }
  const inner = found.filter(el => !found.some(o => o !== el && el.contains(o)));
  const out = inner.map(el => name(el) + " " + where(el) + ": content " + el.scrollWidth + " px wide in a " + el.clientWidth + " px box");
  const d = document.documentElement;
  if (d.scrollWidth > window.innerWidth) out.push("the page is " + d.scrollWidth + " px wide in a " + window.innerWidth + " px window");
  return JSON.stringify(out);
})()`

// Overflows returns what overflows its box on the page shown (see
// overflowJS); empty when everything fits.
func (b *Browser) Overflows() []string {
	b.t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(b.Eval(overflowJS)), &out); err != nil {
		b.t.Fatalf("overflow check: %v", err)
	}
	return out
}

// axeRunJS runs axe-core on the document and lists its serious and
// critical violations, each with up to five of the elements at fault.
const axeRunJS = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => v.impact + " " + v.id + " (" + v.help + "): " + v.nodes.slice(0, 5).map(n => n.target.join(" ") +
    (n.failureSummary ? " [" + n.failureSummary.replace(/\s+/g, " ").slice(0, 160) + "]" : "")).join("; "))))`

// Axe injects axe-core (its source, axe.min.js) into the page shown unless
// it is there, runs it and returns its serious and critical violations.
// The script goes in through the DevTools protocol, as an extension's
// would, so the page's Content-Security-Policy stays as it is.
func (b *Browser) Axe(source string) []string {
	b.t.Helper()
	if b.Eval(`typeof axe`) != "object" {
		if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](source+"\n;undefined", chromedp.EvalAsValue)); err != nil {
			b.t.Fatalf("inject axe-core: %v", err)
		}
	}
	s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core: %v", err)
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		b.t.Fatalf("axe-core answered %q: %v", s, err)
	}
	return out
}

// ViewportShot saves a PNG of what the window shows (not the whole page)
// at path.
func (b *Browser) ViewportShot(path string) {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
