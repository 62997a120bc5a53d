package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// TestBrowserLogin logs in by typing the token into the form, finds the
// OpsItem in the list, clicks into it, filters, uses the keyboard and logs
// out, in a real browser.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t)
	b := browsertest.New(t, e.h)
	item := e.items["Disk almost full on db-01"]

	// Not logged in: the list sends us to the login form.
	b.Do("open the list", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.ID("token")))
	b.WantPath("/login?next=%2Fopsitems")
	b.Shot("01-login")

	// A wrong token is refused with a message.
	b.Login("fw_wrong", chromedp.WaitVisible(chromedp.CSS(".alert")))
	if msg := b.Text(".alert"); msg != "That token is not valid." {
		t.Errorf("login error %q", msg)
	}
	b.Shot("02-login-failed")

	// The right token lands on the page we asked for.
	b.Login(e.acme, chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.WantPath("/opsitems")
	table := b.Text("table.items")
	if !strings.Contains(table, item.Title) || strings.Contains(table, "Globex") {
		t.Errorf("list shows:\n%s", table)
	}
	if hd := b.Text("header.top"); !strings.Contains(hd, "Acme Corp") || !strings.Contains(hd, "viewer") {
		t.Errorf("header shows %q", hd)
	}
	b.Shot("03-opsitems")

	// Click into the OpsItem.
	b.Do("open the OpsItem",
		chromedp.Click(chromedp.Search(`//a[text()="`+item.Title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.WantPath("/opsitems/" + item.ID)
	if h1 := b.Text("main h1"); h1 != item.Title {
		t.Errorf("OpsItem page heading %q", h1)
	}
	if d := b.Text(".description"); !strings.Contains(d, "Growing 2%/day.") {
		t.Errorf("description %q", d)
	}
	b.Shot("04-opsitem")

	// The filter form.
	b.Do("filter",
		chromedp.Navigate(b.Base+"/opsitems"),
		chromedp.SetValue(chromedp.ID("f-severity"), "critical"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("a.button")))
	b.WantPath("/opsitems?status=&severity=critical&category=&resource=&q=")
	if rows := b.Eval(`String(document.querySelectorAll("table.items tbody tr").length)`); rows != "1" {
		t.Errorf("critical filter shows %s rows", rows)
	}

	// Keyboard: the first Tab reaches the skip link, with a visible outline.
	b.Do("tab", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")), chromedp.KeyEvent(kb.Tab))
	if got := b.Eval(`document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	if o := b.Eval(`getComputedStyle(document.activeElement).outlineStyle`); o != "solid" {
		t.Errorf("focused skip link has outline %q", o)
	}
	b.Do("tab on", chromedp.KeyEvent(kb.Tab+kb.Tab))
	b.Shot("05-keyboard-focus")

	// Log out: back to the form, and the pages need a login again.
	b.Do("log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("token")))
	b.WantPath("/login")
	b.Do("after logout", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.ID("token")))
	b.WantPath("/login?next=%2Fopsitems")

	b.Check("status of 401") // the wrong token
}

// TestBrowserPages looks at the other pages — overview, an area, the 404
// page, dark mode, a narrow window, the admin's tenant switcher — and saves
// a screenshot of each.
func TestBrowserPages(t *testing.T) {
	e := newEnv(t)
	b := browsertest.New(t, e.h)
	item := e.items["Disk almost full on db-01"]

	b.Do("login form", chromedp.Navigate(b.Base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(e.acme, chromedp.WaitVisible(chromedp.CSS(".cards")))
	b.WantPath("/")
	if n := b.Text(".cards .num"); n != "3" {
		t.Errorf("overview shows %s open", n)
	}
	b.Shot("06-overview")
	b.Do("area", chromedp.Navigate(b.Base+"/areas/security"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.Shot("07-area-security")
	b.Do("not found", chromedp.Navigate(b.Base+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.Shot("08-not-found")

	b.ColorScheme("dark")
	b.Do("dark list", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	if bg := b.Eval(`getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 18, 23)" {
		t.Errorf("dark mode body background %s", bg)
	}
	b.Shot("09-opsitems-dark")
	b.Do("dark overview", chromedp.Navigate(b.Base+"/"), chromedp.WaitVisible(chromedp.CSS(".cards")))
	b.Shot("10-overview-dark")
	b.Do("dark item", chromedp.Navigate(b.Base+"/opsitems/"+item.ID), chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.Shot("11-opsitem-dark")
	b.ColorScheme("light")

	// Narrow window: the navigation moves above the content.
	b.Do("narrow", chromedp.EmulateViewport(420, 900), chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.Shot("12-opsitems-narrow")
	b.Do("wide", chromedp.EmulateViewport(1280, 900))

	// The platform admin switches tenant from the header.
	globex := e.items["Globex secret outage"]
	b.Do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(e.admin, chromedp.WaitVisible(chromedp.ID("tenant-switch")))
	b.Do("switch tenant",
		chromedp.Navigate(b.Base+"/opsitems"),
		chromedp.SetValue(chromedp.ID("tenant-switch"), "globex"),
		chromedp.Click(chromedp.CSS(`form.switch button`)),
		chromedp.WaitVisible(chromedp.CSS("table.items")))
	b.WantPath("/opsitems?tenant=globex")
	if table := b.Text("table.items"); !strings.Contains(table, globex.Title) {
		t.Errorf("admin's globex list shows:\n%s", table)
	}
	b.Shot("13-admin-tenant-globex")
	b.Do("open globex item",
		chromedp.Click(chromedp.Search(`//a[text()="`+globex.Title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.WantPath("/opsitems/" + globex.ID + "?tenant=globex")

	b.Check("status of 404") // the page that is not there
}
