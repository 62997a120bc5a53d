package web

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/alertmanager"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// eventFixture reads a recorded request body from testdata/events at the
// module root.
func eventFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewLink: only absolute http and https URLs become links; every other
// scheme browsers run or load (RFC 3986 schemes, WHATWG URL parsing) stays
// text.
func TestNewLink(t *testing.T) {
	t.Parallel()
	for raw, safe := range map[string]bool{
		"https://runbooks.example.net/node/Disk":   true,
		"http://prometheus:9090/graph?g0.expr=up":  true,
		"HTTPS://Example.org/a":                    true,
		"javascript:alert(1)":                      false,
		"JavaScript:alert(1)":                      false,
		" javascript:alert(1)":                     false,
		"data:text/html,<script>alert(1)</script>": false,
		"vbscript:msgbox(1)":                       false,
		"//evil.example/x":                         false,
		"/relative/path":                           false,
		"https://user:pass@example.org/":           false,
		"https:///no-host":                         false,
		"file:///etc/passwd":                       false,
		"":                                         false,
	} {
		l := newLink("Runbook", raw)
		if l.Safe != safe {
			t.Errorf("%q: safe %v, want %v", raw, l.Safe, safe)
		}
		if !l.Safe && l.URL != raw {
			t.Errorf("%q: shown as %q, want it as sent", raw, l.URL)
		}
	}
}

// storedEvents parses a fixture with the real adapter and stores its
// events as the pipeline does (labels, resources, raw payload), as events
// of an OpsItem.
func storedEvents(t *testing.T, a intake.Adapter, body []byte) []store.Event {
	t.Helper()
	res, err := a.Parse(context.Background(), intake.Request{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, e := range res.Events {
		se := store.Event{ID: store.NewID("ev", e.OccurredAt), Source: e.Source, Fingerprint: e.Fingerprint, Kind: string(e.Kind),
			Severity: string(e.Severity), Status: string(e.Status), Title: e.Title, Description: e.Description, Labels: e.Labels, Raw: e.Raw}
		se.Resources, _ = json.Marshal(e.Resources)
		out = append(out, se)
	}
	return out
}

// TestAlertViewsFromFixtures: what the page says of recorded alerts is what
// they carry — each Alertmanager alert's annotations, labels and links,
// through the webhook and the v2 API alike.
func TestAlertViewsFromFixtures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file    string
		adapter intake.Adapter
		list    func([]byte) []map[string]any
	}{
		{"alertmanager/webhook-v4-firing.json", alertmanager.NewWebhook(), func(b []byte) []map[string]any {
			var n struct{ Alerts []map[string]any }
			_ = json.Unmarshal(b, &n)
			return n.Alerts
		}},
		{"alertmanager/v2-postable-alerts.json", alertmanager.NewAPIv2(), func(b []byte) []map[string]any {
			var l []map[string]any
			_ = json.Unmarshal(b, &l)
			return l
		}},
	} {
		body := eventFixture(t, c.file)
		alerts, evs := c.list(body), storedEvents(t, c.adapter, body)
		if len(alerts) == 0 || len(alerts) != len(evs) {
			t.Fatalf("%s: %d alerts, %d events", c.file, len(alerts), len(evs))
		}
		for i, ev := range evs {
			v := alertViewOf(ev)
			ann, _ := alerts[i]["annotations"].(map[string]any)
			if v.Summary != ann["summary"] || v.Description != ann["description"] {
				t.Errorf("%s alert %d: summary %q description %q; annotations %v", c.file, i, v.Summary, v.Description, ann)
			}
			labels, _ := alerts[i]["labels"].(map[string]any)
			for k, val := range labels {
				if !slices.Contains(v.Labels, pair{k, val.(string)}) {
					t.Errorf("%s alert %d: label %s=%v not shown (%v)", c.file, i, k, val, v.Labels)
				}
			}
			var want []safeLink
			if u, ok := ann["runbook_url"].(string); ok {
				want = append(want, safeLink{Label: "Runbook", URL: u, Safe: true})
			}
			if u, ok := alerts[i]["generatorURL"].(string); ok {
				want = append(want, safeLink{Label: "Source (generatorURL)", URL: u, Safe: true})
			}
			for j := range v.Links {
				v.Links[j].Text = "" // compared below by URL
			}
			if !slices.Equal(v.Links, want) {
				t.Errorf("%s alert %d: links %+v, want %+v", c.file, i, v.Links, want)
			}
		}
	}
}

// TestGuardDutyFacts: a finding's key facts come from what the recorded
// findings carry, for each kind of action.
func TestGuardDutyFacts(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"guardduty-ssh-bruteforce.json", "guardduty-cryptocurrency.json", "guardduty-iam-anomalous.json", "guardduty-s3.json"} {
		body := eventFixture(t, "eventbridge/"+file)
		var f struct {
			Detail struct {
				AccountID, Region, Type string
				Severity                float64
				Resource                struct{ ResourceType string }
				Service                 struct {
					Action struct {
						ActionType              string
						NetworkConnectionAction struct{ RemoteIPDetails struct{ IPAddressV4 string } }
						AWSAPICallAction        struct{ API string } `json:"awsApiCallAction"`
						DNSRequestAction        struct{ Domain string }
					}
				}
			}
		}
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatal(err)
		}
		evs := storedEvents(t, eventbridge.New(), body)
		v := alertViewOf(evs[0])
		facts := map[string]string{}
		for _, p := range v.Facts {
			facts[p.Key] = p.Value
		}
		d := f.Detail
		a := d.Service.Action
		for k, want := range map[string]string{"Finding type": d.Type, "Account": d.AccountID, "Region": d.Region} {
			if facts[k] != want {
				t.Errorf("%s: %s %q, want %q", file, k, facts[k], want)
			}
		}
		if !strings.HasPrefix(facts["Severity"], jsonNum(d.Severity)+" (") {
			t.Errorf("%s: severity %q, finding says %v", file, facts["Severity"], d.Severity)
		}
		if !strings.HasPrefix(facts["Resource"], d.Resource.ResourceType+": ") {
			t.Errorf("%s: resource %q, finding's type %s", file, facts["Resource"], d.Resource.ResourceType)
		}
		for _, want := range []string{a.NetworkConnectionAction.RemoteIPDetails.IPAddressV4, a.AWSAPICallAction.API, a.DNSRequestAction.Domain} {
			if !strings.Contains(facts["Action"], want) {
				t.Errorf("%s: action %q lacks %q", file, facts["Action"], want)
			}
		}
		if facts["Action"] == "" {
			t.Errorf("%s: no action summary (%s)", file, a.ActionType)
		}
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

// TestSilenceMatchers: "silence this" names the labels every member shares,
// as matchers that parse back to a silence matching each member.
func TestSilenceMatchers(t *testing.T) {
	t.Parallel()
	evs := storedEvents(t, alertmanager.NewWebhook(), eventFixture(t, "alertmanager/webhook-v4-firing.json"))
	views := []alertView{alertViewOf(evs[0]), alertViewOf(evs[1])}
	ms := silenceMatchers(views)
	parsed, err := matcher.ParseAll(ms)
	if err != nil {
		t.Fatalf("matchers %q: %v", ms, err)
	}
	for i, ev := range evs {
		if !parsed.Matches(ev.Labels) {
			t.Errorf("matchers %q do not match member %d", ms, i)
		}
	}
	// The two alerts differ in instance and nodename: those are left out.
	for _, m := range parsed {
		if evs[0].Labels[m.Name] != evs[1].Labels[m.Name] {
			t.Errorf("matcher %s names a label the members do not share", m)
		}
	}
	if len(parsed) == 0 || silenceMatchers(nil) != nil {
		t.Errorf("matchers %q", ms)
	}
}

// FuzzDecodeAlertmanager: any stored payload reads without panic, and the
// page's link check never lets a non-http(s) URL through.
func FuzzDecodeAlertmanager(f *testing.F) {
	for _, rel := range []string{"alertmanager/webhook-v4-firing.json", "alertmanager/v2-postable-alerts.json", "bad/wrong-shape.json", "bad/truncated.json"} {
		f.Add(eventFixture(f, rel))
	}
	f.Add([]byte(`{"annotations":{"runbook_url":"javascript:alert(1)"},"generatorURL":"data:,x"}`))
	f.Add([]byte(`[{"labels":null}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v := alertViewOf(store.Event{Source: "alertmanager", Raw: raw})
		for _, l := range v.Links {
			if l.Safe && !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
				t.Errorf("link %q marked safe", l.URL)
			}
		}
	})
}
