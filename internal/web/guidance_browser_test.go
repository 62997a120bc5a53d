package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// TestBrowserGuidance: a tenant with no events sees the onboarding on the
// overview (its intake addresses on this server, the token command, an
// Alertmanager receiver and a curl call); the navigation shows Audit to
// an admin only, as the audit page answers 403 to the others; and the
// keyboard shortcuts of a list work — j and k move the selection, a
// acknowledges the selected OpsItem, / goes to the search field, ? shows
// the help.
func TestBrowserGuidance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var operator string
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		_, operator, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "acme operator", Role: store.RoleOperator}, e.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, e.h, browsertest.Window(1280, 800))
	logout := func() {
		b.Do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	}

	// The operator: onboarding, no Audit in the navigation (and 403 there).
	b.Do("login form", chromedp.Navigate(b.Base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(operator, chromedp.WaitVisible(chromedp.CSS("section.onboarding")))
	on := b.Text("section.onboarding")
	for _, want := range []string{"Tenant acme has received no events yet", b.Base + "/api/v1/intake/alertmanager", b.Base + "/api/v2/alerts",
		"flywheel token create --tenant acme", "webhook_configs:", "credentials_file:", "curl -sS -X POST " + b.Base + "/api/v1/intake/generic"} {
		if !strings.Contains(on, want) {
			t.Errorf("onboarding lacks %q:\n%s", want, on)
		}
	}
	b.Shot("guidance-onboarding")
	nav := b.Text("nav.side")
	if strings.Contains(nav, "Audit") || !strings.Contains(nav, "Silences") {
		t.Errorf("operator's navigation:\n%s", nav)
	}
	b.Do("audit as operator", chromedp.Navigate(b.Base+"/audit"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := b.Text("main h1"); h != "Forbidden" {
		t.Errorf("operator's /audit says %q", h)
	}

	// Keyboard shortcuts on the OpsItems list.
	b.Do("list", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")))
	firstID := b.Eval(`document.querySelector("table.items tbody tr").dataset.opsitem`)
	secondID := b.Eval(`document.querySelectorAll("table.items tbody tr")[1].dataset.opsitem`)
	selected := func() string {
		return b.Eval(`(document.querySelector("tr.kb-selected") || {dataset: {}}).dataset.opsitem || ""`)
	}
	b.Do("j", chromedp.KeyEvent("j"))
	if got := selected(); got != firstID {
		t.Errorf("after j the selected row is %q, want the first (%s)", got, firstID)
	}
	if got := b.Eval(`document.activeElement.closest("tr") ? document.activeElement.closest("tr").dataset.opsitem : ""`); got != firstID {
		t.Errorf("after j the focus is in row %q", got)
	}
	b.Do("j j k", chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"))
	if got := selected(); got != secondID {
		t.Errorf("after j j j k the selected row is %q, want the second (%s)", got, secondID)
	}
	b.Do("/", chromedp.KeyEvent("/"))
	if got := b.Eval(`document.activeElement.id`); got != "f-q" {
		t.Errorf("/ focuses %q, want the search field", got)
	}
	// Typing in the field is the field's: j does not move the selection.
	b.Do("type j", chromedp.KeyEvent("j"))
	if got := selected(); got != secondID {
		t.Errorf("j typed in the search field moved the selection to %q", got)
	}
	b.Do("help", chromedp.Navigate(b.Base+"/opsitems"), chromedp.WaitVisible(chromedp.CSS("table.items")), chromedp.KeyEvent("?"))
	if open := b.Eval(`String(document.getElementById("kb-help").open)`); open != "true" {
		t.Errorf("? did not open the help")
	}
	if h := b.Text("#kb-help"); !strings.Contains(h, "acknowledge the selected OpsItem") {
		t.Errorf("help shows %q", h)
	}
	b.Shot("guidance-keyboard-help")
	b.Do("close help", chromedp.KeyEvent("?"))
	if open := b.Eval(`String(document.getElementById("kb-help").open)`); open != "false" {
		t.Errorf("? did not close the help")
	}
	// a acknowledges the selected open OpsItem and shows it.
	b.Do("j a", chromedp.KeyEvent("j"), chromedp.KeyEvent("a"), chromedp.WaitVisible(chromedp.CSS("dl.fields")))
	b.WantPath("/opsitems/" + firstID)
	if o, err := e.st.GetOpsItem(ctx, "acme", firstID); err != nil || o.Status != "in-progress" || o.AcknowledgedAt == nil {
		t.Errorf("after j a the OpsItem is %+v (%v), want acknowledged", o, err)
	}
	logout()

	// The viewer: no Audit either, and no acknowledging.
	b.Login(e.acme, chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`))) // the login page has a main too
	if nav := b.Text("nav.side"); strings.Contains(nav, "Audit") {
		t.Errorf("viewer's navigation shows Audit:\n%s", nav)
	}
	logout()

	// The admin: Audit is there and opens.
	b.Login(e.admin, chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`))) // the login page has a main too
	if nav := b.Text("nav.side"); !strings.Contains(nav, "Audit") {
		t.Errorf("admin's navigation lacks Audit:\n%s", nav)
	}
	b.Do("audit as admin", chromedp.Click(chromedp.Search(`//nav//a[text()="Audit"]`)), chromedp.WaitVisible(chromedp.CSS("table.audit, p.empty")))
	if h := b.Text("main h1"); h != "Audit log" {
		t.Errorf("admin's /audit says %q", h)
	}
	b.Check("status of 403") // the operator's visit to /audit
}
