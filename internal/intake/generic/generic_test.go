package generic

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	cases := map[string]event.Severity{
		"critical": event.SeverityCritical, "CRIT": event.SeverityCritical, "fatal": event.SeverityCritical, "P1": event.SeverityCritical,
		"high": event.SeverityHigh, "error": event.SeverityHigh, "Major": event.SeverityHigh,
		"medium": event.SeverityMedium, "warning": event.SeverityMedium, " warn ": event.SeverityMedium,
		"low": event.SeverityLow, "minor": event.SeverityLow,
		"info": event.SeverityInfo, "debug": event.SeverityInfo, "none": event.SeverityInfo,
		"": event.SeverityMedium,
	}
	for in, want := range cases {
		if got, err := parseSeverity(in); err != nil || got != want {
			t.Errorf("parseSeverity(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := parseSeverity("purple"); err == nil || !strings.Contains(err.Error(), `got "purple"`) {
		t.Errorf("parseSeverity(purple): %v", err)
	}
}

func TestInferResource(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want event.ResourceRef
	}{
		{"https://status.shop.example.com/healthz", event.ResourceRef{Type: "url", ID: "https://status.shop.example.com/healthz"}},
		{"tcp://db.example.com:5432", event.ResourceRef{Type: "url", ID: "tcp://db.example.com:5432"}},
		{"i-0abc12345def67890", event.ResourceRef{Type: "ec2-instance", ID: "i-0abc12345def67890"}},
		{"i-1a2b3c4d", event.ResourceRef{Type: "ec2-instance", ID: "i-1a2b3c4d"}},
		{"vol-0123456789abcdef0", event.ResourceRef{Type: "ebs-volume", ID: "vol-0123456789abcdef0"}},
		{"sg-0123456789abcdef0", event.ResourceRef{Type: "security-group", ID: "sg-0123456789abcdef0"}},
		{"arn:aws:s3:::acme-logs", event.ResourceRef{Type: "s3-bucket", ID: "acme-logs"}},
		{"arn:aws:s3:::acme-logs/2026/03/a.gz", event.ResourceRef{Type: "s3-object", ID: "acme-logs/2026/03/a.gz"}},
		{"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc12345def67890", event.ResourceRef{Type: "ec2-instance", ID: "i-0abc12345def67890", Region: "us-east-1", Account: "111122223333"}},
		{"arn:aws:ec2:us-east-1:111122223333:volume/vol-0123456789abcdef0", event.ResourceRef{Type: "ebs-volume", ID: "vol-0123456789abcdef0", Region: "us-east-1", Account: "111122223333"}},
		{"arn:aws:rds:eu-west-1:111122223333:db:orders", event.ResourceRef{Type: "rds", ID: "arn:aws:rds:eu-west-1:111122223333:db:orders", Region: "eu-west-1", Account: "111122223333"}},
		{"arn:aws:lambda:eu-west-1:111122223333:function/resize", event.ResourceRef{Type: "lambda-function", ID: "arn:aws:lambda:eu-west-1:111122223333:function/resize", Region: "eu-west-1", Account: "111122223333"}},
		{"arn:broken", event.ResourceRef{Type: "host", ID: "arn:broken"}},
		{"web-03", event.ResourceRef{Type: "host", ID: "web-03"}},
		{"web-03:9100", event.ResourceRef{Type: "host", ID: "web-03"}},
		{"10.1.2.3", event.ResourceRef{Type: "host", ID: "10.1.2.3"}},
		{"[2001:db8::1]:22", event.ResourceRef{Type: "host", ID: "2001:db8::1"}},
		{"2001:db8::1", event.ResourceRef{Type: "host", ID: "2001:db8::1"}},
		{"i-notanid", event.ResourceRef{Type: "host", ID: "i-notanid"}},
	}
	for _, c := range cases {
		if got := inferResource(c.in); got != c.want {
			t.Errorf("inferResource(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestDocumentedFormat(t *testing.T) {
	t.Parallel()
	a := newAdapter(t)
	t.Run("defaults", func(t *testing.T) {
		res, err := parse(a, []byte(`{"title":"Disk full","resource":"web-03:9100"}`))
		if err != nil {
			t.Fatal(err)
		}
		ev := res.Events[0]
		want := event.Event{
			Source: "generic", Kind: event.KindAlert, Severity: event.SeverityMedium, Status: event.StatusFiring,
			Title: "Disk full", Resources: []event.ResourceRef{{Type: "host", ID: "web-03"}}, OccurredAt: testNow,
			Fingerprint: fingerprint("generic", "Disk full", "web-03:9100", nil),
		}
		ev.Raw = nil
		if !equalEvents(ev, want) {
			t.Errorf("got %+v\nwant %+v", ev, want)
		}
	})
	t.Run("resolution shares the fingerprint", func(t *testing.T) {
		res, err := parse(a, []byte(`[{"source":"cron","title":"Backup","labels":{"db":"orders"},"timestamp":"2026-03-11T10:00:00+01:00"},
			{"source":"cron","title":"Backup","labels":{"db":"orders"},"status":"RESOLVED","id":"run-42","kind":"health","resource_type":"database","resource":"orders"}]`))
		if err != nil {
			t.Fatal(err)
		}
		fire, res2 := res.Events[0], res.Events[1]
		if fire.Source != "generic:cron" || !fire.OccurredAt.Equal(testNow) || fire.OccurredAt.Location() != time.UTC {
			t.Errorf("firing: %+v", fire)
		}
		if res2.Status != event.StatusResolved || res2.SourceID != "run-42" || res2.Kind != event.KindHealth ||
			res2.Resources[0] != (event.ResourceRef{Type: "database", ID: "orders"}) {
			t.Errorf("resolved: %+v", res2)
		}
		if string(res2.Raw) == "" || res2.Raw[0] != '{' {
			t.Errorf("Raw of a batch element: %s", res2.Raw)
		}
		// Different resource, so different fingerprints here; same labels
		// and no resource must agree:
		again, _ := parse(a, []byte(`{"source":"cron","title":"Backup","labels":{"db":"orders"},"status":"resolved"}`))
		if again.Events[0].Fingerprint != fire.Fingerprint {
			t.Errorf("resolution fingerprint %s, firing %s", again.Events[0].Fingerprint, fire.Fingerprint)
		}
	})
	t.Run("given fingerprint", func(t *testing.T) {
		res, err := parse(a, []byte(`{"title":"x","fingerprint":"chk_7f3a91"}`))
		if err != nil || res.Events[0].Fingerprint != "chk_7f3a91" {
			t.Errorf("%+v %v", res.Events, err)
		}
	})
}

func TestBadDocumented(t *testing.T) {
	t.Parallel()
	a := newAdapter(t)
	withMapping := newAdapter(t, grafanaMapping)
	cases := []struct {
		name string
		a    *Adapter
		body string
		want string
	}{
		{"empty", a, "", "request body is empty"},
		{"not json", a, "disk full on db-3", "request body is not valid JSON"},
		{"truncated", a, `{"title":"x",`, "invalid JSON: unexpected end of input"},
		{"trailing", a, `{"title":"x"} {}`, "invalid JSON at byte 15: invalid character '{' after top-level value"},
		{"no title", a, `{"severity":"high"}`, "title: is required"},
		{"blank title", a, `{"title":"  "}`, "title: is required"},
		{"severity", a, `{"title":"x","severity":"purple"}`, `severity: must be critical, high, medium, low or info (or a common word such as warning or error), got "purple"`},
		{"status", a, `{"title":"x","status":"ok"}`, `status: must be "firing" or "resolved", got "ok"`},
		{"kind", a, `{"title":"x","kind":"incident"}`, `kind: must be alert, finding, change, compliance or health, got "incident"`},
		{"timestamp", a, `{"title":"x","timestamp":"yesterday"}`, `timestamp: invalid RFC 3339 timestamp "yesterday"`},
		{"resource_type alone", a, `{"title":"x","resource_type":"host"}`, "resource_type: given without resource"},
		{"batch element", a, `[{"title":"x"},{"title":"y","status":"maybe"}]`, `[1].status: must be "firing" or "resolved", got "maybe"`},
		{"unknown field", a, `{"title":"x","sevrity":"high"}`, `unknown field "sevrity"`},
		{"label type", a, `{"title":"x","labels":{"n":1}}`, "labels: expected string, got JSON number"},
		{"number", a, `42`, "expected a generic alert object (or array of them), got number"},
		{"batch shape", a, `[{"title":"x"}, 3]`, "[1]: expected a generic alert object (or array of them), got number"},
		{"no mapping matched", withMapping, `{"title":"x","state":"alerting"}`,
			`body is not a generic alert (unknown field "state") and no mapping matched it`},
		{"match error is no match", withMapping, `[1]`,
			`body is not a generic alert ([0]: expected a generic alert object (or array of them), got number) and no mapping matched it (mapping "grafana": match: unsupported index type 'string' in list)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := parse(c.a, []byte(c.body))
			if err == nil {
				t.Fatalf("no error: %+v", res.Events)
			}
			if got := badRequest(t, err); got != c.want {
				t.Errorf("message %q\nwant    %q", got, c.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	ok := Mapping{Name: "ok", Title: `body.title`}
	cases := []struct {
		name     string
		mappings []Mapping
		want     []string // substrings, all required
	}{
		{"no name", []Mapping{{Title: "body.t"}}, []string{"mappings[0]: name is required"}},
		{"bad name", []Mapping{{Name: "has space", Title: "body.t"}}, []string{`mapping "has space": name must be`}},
		{"duplicate", []Mapping{ok, ok}, []string{`mapping "ok": name used twice`}},
		{"no title", []Mapping{{Name: "m"}}, []string{`mapping "m": title is required`}},
		{"syntax", []Mapping{{Name: "m", Title: "body.title +"}}, []string{`mapping "m": title: ERROR: <input>:1:`}},
		{"undeclared", []Mapping{{Name: "m", Title: "bdy.title"}}, []string{`mapping "m": title: `, "undeclared reference to 'bdy'"}},
		{"title type", []Mapping{{Name: "m", Title: "1 + 2"}}, []string{`mapping "m": title: expression gives int, want string`}},
		{"match type", []Mapping{{Name: "m", Match: `"yes"`, Title: "body.t"}}, []string{`mapping "m": match: expression gives string, want bool`}},
		{"timestamp type", []Mapping{{Name: "m", Title: "body.t", Timestamp: "42"}}, []string{`mapping "m": timestamp: expression gives int, want string or google.protobuf.Timestamp`}},
		{"label", []Mapping{{Name: "m", Title: "body.t", Labels: map[string]string{"a": "body.a", "b": "true"}}}, []string{`mapping "m": labels.b: expression gives bool, want string`}},
		{"empty label name", []Mapping{{Name: "m", Title: "body.t", Labels: map[string]string{"": "body.a"}}}, []string{`mapping "m": labels: empty label name`}},
		{"all reported", []Mapping{{Name: "a", Title: "1"}, {Name: "b", Title: "body.t", Severity: "body.s +"}},
			[]string{`mapping "a": title:`, `mapping "b": severity:`}},
	}
	for _, c := range cases {
		_, err := New(c.mappings...)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
	}
	if _, err := New(ok, grafanaMapping); err != nil {
		t.Errorf("valid mappings: %v", err)
	}
}

func TestMappingEvalErrors(t *testing.T) {
	t.Parallel()
	a := newAdapter(t,
		Mapping{Name: "strict", Title: `body.name`, Severity: `body.sev`, Labels: map[string]string{"n": `body.n`}},
		Mapping{Name: "ts", Title: `"t"`, Timestamp: `body.at`},
		Mapping{Name: "guarded", Match: `body.kind == "x"`, Title: `"t"`},
	)
	cases := []struct {
		mapping, body, want string
	}{
		{"strict", `{"sev":"high","n":"1"}`, `mapping "strict": title: no such key: name`},
		{"strict", `{"name":7}`, `mapping "strict": title: expected a string, got double`},
		{"strict", `{"name":"x","sev":"purple","n":"1"}`, `mapping "strict": severity: must be critical, high, medium, low or info (or a common word such as warning or error), got "purple"`},
		{"strict", `{"name":"x","sev":"high","n":1}`, `mapping "strict": labels.n: expected a string, got double`},
		{"ts", `{"at":"yesterday"}`, `mapping "ts": timestamp: invalid RFC 3339 timestamp "yesterday"`},
		{"ts", `{"at":true}`, `mapping "ts": timestamp: expected a string or timestamp, got bool`},
		{"guarded", `{"kind":"y"}`, `mapping "guarded": body does not match (its match expression is false)`},
		{"guarded", `{}`, `mapping "guarded": match: no such key: kind`},
		{"guarded", `not json`, `request body is not valid JSON`},
	}
	for _, c := range cases {
		_, err := a.ParseWith(context.Background(), intake.Request{Body: []byte(c.body)}, c.mapping)
		if err == nil {
			t.Errorf("%s %s: no error", c.mapping, c.body)
			continue
		}
		if got := badRequest(t, err); got != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.mapping, c.body, got, c.want)
		}
	}

	_, err := a.ParseWith(context.Background(), intake.Request{Body: []byte(`{}`)}, "nope")
	var br *intake.BadRequest
	if !errors.As(err, &br) || br.Status != http.StatusNotFound || br.Message != `no intake mapping named "nope"` {
		t.Errorf("unknown mapping: %v", err)
	}
}

func TestParseWith(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, Mapping{Name: "flat", Title: `body.name`, Status: `body.ok ? "resolved" : "firing"`, Resource: `body.host`,
		Labels: map[string]string{"team": `body.?team.orValue(null)`}})
	res, err := a.ParseWith(context.Background(), intake.Request{Body: []byte(`{"name":"Job failed","ok":true,"host":"i-0abc12345def67890"}`)}, "flat")
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Events[0]
	if ev.Source != "generic:flat" || ev.Title != "Job failed" || ev.Status != event.StatusResolved || ev.Labels != nil ||
		ev.Resources[0] != (event.ResourceRef{Type: "ec2-instance", ID: "i-0abc12345def67890"}) || !ev.OccurredAt.Equal(testNow) {
		t.Errorf("%+v", ev)
	}
	// Parse prefers the documented format even when a catch-all mapping exists.
	res, err = parse(a, []byte(`{"title":"documented"}`))
	if err != nil || res.Events[0].Source != "generic" {
		t.Errorf("documented body went to %+v, %v", res.Events, err)
	}
	res, err = parse(a, []byte(`{"name":"mapped","ok":false,"host":"h"}`))
	if err != nil || res.Events[0].Source != "generic:flat" {
		t.Errorf("foreign body went to %+v, %v", res.Events, err)
	}
}

func TestCostLimit(t *testing.T) {
	t.Parallel()
	a, err := NewFromConfig(Config{Clock: testClock, CostLimit: 1000, Mappings: []Mapping{{
		Name:  "heavy",
		Title: `body.items.map(x, body.items.map(y, string(x) + string(y))).size() > 0 ? "t" : "f"`,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"items":[` + strings.Repeat(`1,`, 200) + `1]}`
	_, err = a.ParseWith(context.Background(), intake.Request{Body: []byte(body)}, "heavy")
	if msg := badRequest(t, err); !strings.Contains(msg, `mapping "heavy": title:`) || !strings.Contains(msg, "cost limit exceeded") {
		t.Errorf("message %q", msg)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	a := newAdapter(t, Mapping{Name: "m", Title: `body.items.map(x, string(x)).join(",")`})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := `{"items":[` + strings.Repeat(`"a",`, 500) + `"a"]}`
	_, err := a.ParseWith(ctx, intake.Request{Body: []byte(body)}, "m")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v (%T), want context.Canceled, not a BadRequest", err, err)
	}
}

// TestMappingYAML: a mapping decodes from its content form with unknown
// fields rejected, as the content loader will decode it.
func TestMappingYAML(t *testing.T) {
	t.Parallel()
	doc := `
name: grafana
match: has(body.orgId)
title: body.commonLabels.alertname
severity: 'body.commonLabels.?severity.orValue("warning")'
status: body.status
resource: body.alerts[0].labels.instance
fingerprint: body.alerts[0].fingerprint
description: body.message
id: body.groupKey
timestamp: body.alerts[0].startsAt
labels:
  team: body.commonLabels.team
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "grafana" || m.Labels["team"] != "body.commonLabels.team" || m.Timestamp == "" || m.ID == "" {
		t.Errorf("%+v", m)
	}
	if _, err := New(m); err != nil {
		t.Errorf("decoded mapping does not compile: %v", err)
	}
	dec = yaml.NewDecoder(strings.NewReader("name: x\ntitel: body.t\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&Mapping{}); err == nil || !strings.Contains(err.Error(), "titel") {
		t.Errorf("unknown field: %v", err)
	}
}

func equalEvents(a, b event.Event) bool {
	a.Raw, b.Raw = nil, nil
	return eventJSON(a) == eventJSON(b)
}
