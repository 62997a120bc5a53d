package web_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/flywheel-ops/flywheel/internal/web/browsertest"
)

// TestAxeAndOverflowChecksFindProblems shows the two checks of
// TestEveryPage can fail: on a page with known faults — an image without
// a text alternative, a button without a name, light grey text on white
// (1.6:1), a table wider than its box — axe-core reports the three
// accessibility faults as serious or critical, and the overflow check names
// the table; a cell cut with an ellipsis that carries its full text in a
// title is not reported.
func TestAxeAndOverflowChecksFindProblems(t *testing.T) {
	axe, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	page := `<!doctype html><html lang="en"><head><title>faults</title></head><body><main>
<h1>Faults</h1>
<img src="/x.png" width="10" height="10">
<button></button>
<p style="color:#cccccc;background:#ffffff">Hard to read</p>
<div id="wrap" style="width:300px;overflow-x:auto"><table class="wide"><tr><td style="white-space:nowrap">` + strings.Repeat("wide ", 100) + `</td></tr></table></div>
<div style="width:200px"><p title="full text" style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">` + strings.Repeat("cut ", 100) + `</p></div>
</main></body></html>`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	b := browsertest.New(t, h, browsertest.Window(1280, 800))
	b.Do("open", chromedp.Navigate(b.Base+"/"), chromedp.WaitVisible(chromedp.CSS("main")))
	found := strings.Join(b.Axe(string(axe)), "\n")
	for _, rule := range []string{"image-alt", "button-name", "color-contrast"} {
		if !strings.Contains(found, " "+rule+" ") {
			t.Errorf("axe-core did not report %s; it reported:\n%s", rule, found)
		}
	}
	over := b.Overflows()
	if len(over) != 1 || !strings.Contains(over[0], "div#wrap in table.wide") {
		t.Errorf("overflows: %q, want only div#wrap in table.wide", over)
	}
}
