package web_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// itemRunbooks is the content of the OpsItem page's browser test: a runbook
// that waits for a person's approval first.
const itemRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: ui-gated-check, description: Check after a person agrees}
spec:
  steps:
    - {name: ask, action: approve, with: {message: "Check the volume on the primary?"}}
    - {name: verify, action: assert, with: {that: "true"}}
`

// fixture reads a recorded request body from testdata/events at the
// module root.
func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// amAlert is what the test reads of an Alertmanager alert in a fixture.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL"`
}

// intake posts a body to an intake path with the admin token.
func (x *acceptance) intake(path string, body []byte) {
	x.t.Helper()
	x.call("POST", path, json.RawMessage(body), nil)
}

// opsItemOf waits until the pipeline has stored an event matching keep
// that went to an OpsItem, and returns that OpsItem's ID.
func (x *acceptance) opsItemOf(source string, keep func(store.Event) bool) (string, store.Event) {
	x.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var evs api.List[store.Event]
		x.call("GET", "/api/v1/events?"+url.Values{"source": {source}}.Encode(), nil, &evs)
		for _, e := range evs.Items {
			if keep(e) && e.OpsItemID != "" {
				return e.OpsItemID, e
			}
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("no %s event reached an OpsItem: %+v", source, evs.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// docValueJS finds, under scope, the table row whose header is key and
// returns its cell's text ("" when there is none).
func docValueJS(scope, key string) string {
	return `(() => {
  for (const th of document.querySelectorAll(` + "`" + scope + ` th` + "`" + `)) {
    if (th.textContent.trim() === ` + "`" + key + "`" + `) { const td = th.nextElementSibling; return td ? td.textContent.trim() : ""; }
  }
  return "";
})()`
}

// TestBrowserOpsItemPage is the acceptance of issue 22's OpsItem page and
// events page, through a whole server and a real browser, with alerts from
// the recorded fixtures: a Prometheus alert's summary, description,
// labels and links; an unsafe runbook_url shown as text; a GuardDuty
// finding's key facts; the runbook a rule suggests offered first;
// "silence this" prefilled; an execution waiting for approval approved on
// the page (and audited); from the OpsItem to its events and back, and
// the events page's filter form.
func TestBrowserOpsItemPage(t *testing.T) {
	x := newAcceptanceWith(t, itemRunbooks)
	b := x.b

	// A Prometheus alert as Alertmanager's webhook sends it.
	var webhook struct{ Alerts []amAlert }
	firing := fixture(t, "alertmanager/webhook-v4-firing.json")
	if err := json.Unmarshal(firing, &webhook); err != nil {
		t.Fatal(err)
	}
	alert := webhook.Alerts[0]
	x.intake("/api/v1/intake/alertmanager", firing)
	diskID, _ := x.opsItemOf("alertmanager", func(e store.Event) bool { return e.Labels["nodename"] == alert.Labels["nodename"] })

	b.Do("open the OpsItem", chromedp.Navigate(b.Base+"/opsitems/"+diskID), chromedp.WaitVisible(chromedp.ID("token")))
	b.Login(x.token, chromedp.WaitVisible(chromedp.CSS("article.said")))
	said := b.Text("#alert-said")
	for _, want := range []string{alert.Annotations["summary"], alert.Annotations["description"]} {
		if !strings.Contains(said, want) {
			t.Errorf("the page does not say %q; it says:\n%s", want, said)
		}
	}
	fp := diskFingerprint(t, x, diskID, alert)
	for _, k := range []string{"alertname", "mountpoint", "nodename", "severity"} {
		if got := b.Eval(docValueJS(`article.said[data-fingerprint="`+fp+`"] table.labels`, k)); got != alert.Labels[k] {
			t.Errorf("label %s shows %q, want %q", k, got, alert.Labels[k])
		}
	}
	for name, u := range map[string]string{"runbook_url": alert.Annotations["runbook_url"], "generatorURL": alert.GeneratorURL} {
		want, _ := url.Parse(u)
		sel := `a[href="` + want.String() + `"]`
		if got := b.Eval(`(() => { const a = document.querySelector(` + "`#alert-said " + sel + "`" + `); return a ? a.rel : "missing"; })()`); got != "noopener noreferrer" {
			t.Errorf("%s link %s: rel %q", name, u, got)
		}
	}
	// The library's disk-cleanup rule names a runbook for this alert: it
	// comes first, not the alphabetically first runbook.
	if first := b.Eval(`document.querySelector("#run-runbook option").value`); first != "disk-cleanup" {
		t.Errorf("the run menu offers %q first; want the rule's disk-cleanup", first)
	}
	if g := b.Eval(`document.querySelector("#run-runbook optgroup").label`); g != "Suggested by rules" {
		t.Errorf("first group of the run menu: %q", g)
	}
	b.Shot("item-01-prometheus-alert")

	// "Silence this": the silence form with the members' shared labels.
	b.Do("silence this", chromedp.Click(chromedp.ID("silence-this")), chromedp.WaitVisible(chromedp.ID("sil-matchers")))
	matchers := b.Eval(`document.getElementById("sil-matchers").value`)
	for _, k := range []string{"alertname", "mountpoint", "cluster"} {
		if want := k + `="` + alert.Labels[k] + `"`; !strings.Contains(matchers, want) {
			t.Errorf("silence form matchers lack %s:\n%s", want, matchers)
		}
	}
	b.Shot("item-02-silence-prefilled")

	// Approve inline: an on-call operator starts a gated runbook for the
	// OpsItem; the admin approves it on the OpsItem's page (four eyes).
	var oncall api.CreatedToken
	x.call("POST", "/api/v1/tokens", api.TokenInput{Name: "on-call", Role: store.RoleOperator}, &oncall)
	var ex api.ExecutionView
	x.callAs(oncall.Secret, "POST", "/api/v1/opsitems/"+diskID+"/runbooks/ui-gated-check", api.RunInput{}, &ex)
	b.Do("the OpsItem with its pending approval", chromedp.Navigate(b.Base+"/opsitems/"+diskID), chromedp.WaitVisible(chromedp.ID("comment-"+ex.ID)))
	if p := b.Text("section.pending"); !strings.Contains(p, "Check the volume on the primary?") || !strings.Contains(p, "ui-gated-check") {
		t.Errorf("pending approval shows:\n%s", p)
	}
	if st := b.Text("article.exec .badge"); st != "waiting for approval" {
		t.Errorf("execution status reads %q", st)
	}
	b.Shot("item-03-approval-pending")
	b.Do("approve on the page",
		chromedp.SendKeys(chromedp.ID("comment-"+ex.ID), "looked at the graph"),
		chromedp.Click(chromedp.CSS(`section.pending form.decide button.primary`)),
		chromedp.WaitNotPresent(chromedp.ID("comment-"+ex.ID)))
	b.WantPath("/opsitems/" + diskID)
	for deadline := time.Now().Add(60 * time.Second); ex.Status != "succeeded"; {
		if time.Now().After(deadline) {
			t.Fatalf("approved execution is %s", ex.Status)
		}
		time.Sleep(50 * time.Millisecond)
		x.call("GET", "/api/v1/executions/"+ex.ID, nil, &ex)
	}
	if len(ex.Approvals) != 1 || ex.Approvals[0].Comment != "looked at the graph" {
		t.Errorf("approvals %+v", ex.Approvals)
	}
	var audit api.List[store.AuditRecord]
	x.call("GET", "/api/v1/audit?action=execution.approve", nil, &audit)
	if len(audit.Items) != 1 || !strings.Contains(audit.Items[0].Target, ex.ID) || audit.Items[0].Actor == "token:"+oncall.ID {
		t.Errorf("audit of the approval: %+v", audit.Items)
	}

	// From the OpsItem to its events, and back.
	b.Do("its events", chromedp.Click(chromedp.ID("oi-events")), chromedp.WaitVisible(chromedp.CSS("table.events")))
	b.WantPath("/events?opsitem=" + diskID)
	if rows := b.Text("table.events tbody"); !strings.Contains(rows, alert.Labels["alertname"]) || !strings.Contains(rows, "opened a new OpsItem") {
		t.Errorf("the OpsItem's events:\n%s", rows)
	}
	b.Shot("item-04-events-of-opsitem")
	b.Do("back to the OpsItem", chromedp.Click(chromedp.CSS(`table.events a[href="/opsitems/`+diskID+`"]`)), chromedp.WaitVisible(chromedp.CSS("article.said")))
	b.WantPath("/opsitems/" + diskID)

	// An unsafe runbook_url (a v2 alert as Prometheus sends it, with its
	// runbook_url made a script) is text, never a link.
	var v2 []amAlert
	if err := json.Unmarshal(fixture(t, "alertmanager/v2-postable-alerts.json"), &v2); err != nil {
		t.Fatal(err)
	}
	unsafe := v2[0]
	unsafe.Labels["alertname"] = "UnsafeRunbookLink"
	unsafe.Annotations["runbook_url"] = "javascript:alert(document.domain)"
	unsafe.EndsAt = "" // firing
	body, _ := json.Marshal([]amAlert{unsafe})
	x.intake("/api/v2/alerts", body) // where Prometheus posts
	unsafeID, _ := x.opsItemOf("alertmanager", func(e store.Event) bool { return e.Title == "UnsafeRunbookLink" })
	b.Do("open the unsafe alert", chromedp.Navigate(b.Base+"/opsitems/"+unsafeID), chromedp.WaitVisible(chromedp.CSS("article.said")))
	if n := b.Eval(`String(document.querySelectorAll('a[href^="javascript"], a[href*="alert(document"]').length)`); n != "0" {
		t.Errorf("%s links with the unsafe runbook_url", n)
	}
	if got := b.Text("#alert-said .unsafe-link"); got != unsafe.Annotations["runbook_url"] {
		t.Errorf("unsafe runbook_url shown as %q", got)
	}
	if got := b.Text("#alert-said .said-description"); got != unsafe.Annotations["description"] {
		t.Errorf("v2 alert description %q, want %q", got, unsafe.Annotations["description"])
	}
	b.Shot("item-05-unsafe-link")

	// A GuardDuty finding through EventBridge: its key facts.
	gdBody := fixture(t, "eventbridge/guardduty-iam-anomalous.json")
	var gd struct {
		Detail struct {
			AccountID, Region, Type string
			Resource                struct {
				ResourceType     string
				AccessKeyDetails struct{ UserName, AccessKeyID string }
			}
			Service struct {
				Action struct {
					ActionType       string
					AWSAPICallAction struct {
						API, ServiceName string
						RemoteIPDetails  struct{ IPAddressV4 string } `json:"remoteIpDetails"`
					} `json:"awsApiCallAction"`
				}
			}
		}
	}
	if err := json.Unmarshal(gdBody, &gd); err != nil {
		t.Fatal(err)
	}
	x.intake("/api/v1/intake/eventbridge", gdBody)
	gdID, gdEvent := x.opsItemOf("guardduty", func(store.Event) bool { return true })
	b.Do("open the finding", chromedp.Navigate(b.Base+"/opsitems/"+gdID), chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	facts := b.Text("dl.facts")
	d := gd.Detail
	call := d.Service.Action.AWSAPICallAction
	for _, want := range []string{d.Type, d.AccountID, d.Region, d.Resource.ResourceType, d.Resource.AccessKeyDetails.AccessKeyID,
		d.Resource.AccessKeyDetails.UserName, call.API, call.ServiceName, call.RemoteIPDetails.IPAddressV4} {
		if want == "" || !strings.Contains(facts, want) {
			t.Errorf("the finding's facts lack %q:\n%s", want, facts)
		}
	}
	b.Shot("item-06-guardduty-facts")

	// The events page's filter form: the finding's fingerprint alone
	// shows its event, the decision menu narrows to a decision.
	b.Do("filter by fingerprint", chromedp.Navigate(b.Base+"/events"), chromedp.WaitVisible(chromedp.ID("ev-fingerprint")),
		chromedp.SetValue(chromedp.ID("ev-fingerprint"), gdEvent.Fingerprint),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		// The answer's form carries the filter in its value attribute (the
		// page before the submit has a table too).
		chromedp.WaitVisible(chromedp.CSS(`#ev-fingerprint[value="`+gdEvent.Fingerprint+`"]`)), chromedp.WaitVisible(chromedp.CSS("table.events")))
	if n := b.Eval(`String(document.querySelectorAll("table.events tbody tr").length)`); n != "1" {
		t.Errorf("fingerprint filter shows %s rows:\n%s", n, b.Text("table.events"))
	}
	if row := b.Text("table.events tbody tr"); !strings.Contains(row, gdEvent.Title) {
		t.Errorf("fingerprint filter shows %q", row)
	}
	b.Do("filter by source", chromedp.Navigate(b.Base+"/events"), chromedp.WaitVisible(chromedp.ID("ev-source")),
		chromedp.SetValue(chromedp.ID("ev-source"), "alertmanager"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ev-source[value="alertmanager"]`)), chromedp.WaitVisible(chromedp.CSS("table.events")))
	if rows := b.Text("table.events tbody"); strings.Contains(rows, gdEvent.Title) || !strings.Contains(rows, "UnsafeRunbookLink") {
		t.Errorf("source filter shows:\n%s", rows)
	}
	b.Shot("item-07-events-filtered")
	b.ColorScheme("dark")
	b.Do("dark OpsItem", chromedp.Navigate(b.Base+"/opsitems/"+diskID), chromedp.WaitVisible(chromedp.CSS("article.said")))
	b.Shot("item-08-opsitem-dark")
	b.Check()
}

// diskFingerprint is the stored fingerprint of the fixture's alert on the
// OpsItem ("<source>/<Alertmanager fingerprint>").
func diskFingerprint(t *testing.T, x *acceptance, id string, a amAlert) string {
	t.Helper()
	var evs api.List[store.Event]
	x.call("GET", "/api/v1/events?opsitem="+id, nil, &evs)
	for _, e := range evs.Items {
		if e.Labels["nodename"] == a.Labels["nodename"] {
			return e.Fingerprint
		}
	}
	t.Fatalf("no event of %s on %s", a.Labels["nodename"], id)
	return ""
}
