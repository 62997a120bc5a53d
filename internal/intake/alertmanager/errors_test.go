package alertmanager

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// TestBadFixtures checks the documented 400 messages for the shared
// malformed payloads, on both routes.
func TestBadFixtures(t *testing.T) {
	t.Parallel()
	webhook := NewWebhook(WithClock(testClock))
	v2 := NewAPIv2(WithClock(testClock))
	cases := []struct {
		fixture string
		adapter intake.Adapter
		want    string
	}{
		{"bad/truncated.json", webhook, "invalid JSON: unexpected end of input"},
		{"bad/not-json.txt", webhook, "request body is not valid JSON"},
		{"bad/wrong-shape.json", webhook, "expected an Alertmanager webhook object (or array of alerts), got array of numbers"},
		{"bad/empty.json", webhook, "request body is empty"},
		{"bad/missing-labels.json", webhook, "alerts[0].labels is required"},
		{"bad/bad-timestamp.json", webhook, `alerts[0].startsAt: invalid RFC 3339 timestamp "yesterday"`},

		{"bad/truncated.json", v2, "invalid JSON: unexpected end of input"},
		{"bad/not-json.txt", v2, "request body is not valid JSON"},
		{"bad/wrong-shape.json", v2, "expected an array of alerts, got array of numbers"},
		{"bad/empty.json", v2, "request body is empty"},
		{"bad/missing-labels.json", v2, "alerts[0].labels is required"},
		{"bad/bad-timestamp.json", v2, `alerts[0].startsAt: invalid RFC 3339 timestamp "yesterday"`},
	}
	for _, c := range cases {
		t.Run(c.adapter.Name()+"/"+c.fixture, func(t *testing.T) {
			t.Parallel()
			res, err := parse(t, c.adapter, fixture(t, c.fixture))
			if err == nil {
				t.Fatalf("no error; %d events", len(res.Events))
			}
			if got := badRequest(t, err); got != c.want {
				t.Errorf("message %q, want %q", got, c.want)
			}
		})
	}
}

// TestBadPayloads covers the other ways a payload can be wrong; every one is
// a 400 naming the field.
func TestBadPayloads(t *testing.T) {
	t.Parallel()
	webhook := NewWebhook(WithClock(testClock))
	v2 := NewAPIv2(WithClock(testClock))
	cases := []struct {
		name    string
		adapter intake.Adapter
		body    string
		want    string
	}{
		{"v2 object", v2, `{"alerts":[]}`, "expected an array of alerts, got object"},
		{"v2 string", v2, `"hi"`, "expected an array of alerts, got string"},
		{"v2 null element", v2, `[null]`, "expected an array of alerts, got array of nulls"},
		{"v2 mixed", v2, `[{"labels":{"a":"b"}}, 1]`, "expected an array of alerts, got array of mixed values"},
		{"webhook number", webhook, `42`, "expected an Alertmanager webhook object (or array of alerts), got number"},
		{"webhook null", webhook, `null`, "expected an Alertmanager webhook object (or array of alerts), got null"},
		{"webhook whitespace", webhook, " \n\t ", "request body is empty"},
		{"webhook no alerts", webhook, `{"receiver":"x"}`, "alerts is required: expected an Alertmanager webhook object (or array of alerts)"},
		{"webhook alerts object", webhook, `{"alerts":{}}`, "alerts: expected array, got JSON object"},
		{"webhook alert not object", webhook, `{"alerts":[{"labels":{"a":"b"}}, "x"]}`, "alerts[1]: expected an alert object, got string"},
		{"webhook truncatedAlerts", webhook, `{"truncatedAlerts":"3","alerts":[]}`, "truncatedAlerts: expected integer, got JSON string"},
		{"empty labels", v2, `[{"labels":{}}]`, "alerts[0].labels is required"},
		{"null labels", v2, `[{"labels":null}]`, "alerts[0].labels is required"},
		{"labels array", v2, `[{"labels":["a"]}]`, "alerts[0].labels: expected object, got JSON array"},
		{"label value number", v2, `[{"labels":{"severity":3}}]`, "alerts[0].labels.severity: expected string, got JSON number"},
		{"annotation value object", v2, `[{"labels":{"a":"b"},"annotations":{"x":{}}}]`, "alerts[0].annotations.x: expected string, got JSON object"},
		{"label value null", v2, `[{"labels":{"a":null}}]`, "alerts[0].labels.a: expected string, got JSON null"},
		{"second alert", webhook, `[{"labels":{"a":"b"}},{"labels":{"a":"b","c":true}}]`, "alerts[1].labels.c: expected string, got JSON bool"},
		{"startsAt number", v2, `[{"labels":{"a":"b"},"startsAt":1}]`, "alerts[0].startsAt: expected string, got JSON number"},
		{"endsAt bad", v2, `[{"labels":{"a":"b"}},{"labels":{"a":"b"},"endsAt":"2026-13-01T00:00:00Z"}]`, `alerts[1].endsAt: invalid RFC 3339 timestamp "2026-13-01T00:00:00Z"`},
		{"status bad", webhook, `{"alerts":[{"labels":{"a":"b"},"status":"pending"}]}`, `alerts[0].status: must be "firing" or "resolved", got "pending"`},
		{"trailing garbage", webhook, `{"alerts":[]} x`, "invalid JSON at byte 15: invalid character 'x' after top-level value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := parse(t, c.adapter, []byte(c.body))
			if err == nil {
				t.Fatalf("no error; %d events", len(res.Events))
			}
			if got := badRequest(t, err); got != c.want {
				t.Errorf("message %q, want %q", got, c.want)
			}
		})
	}
}

func TestEmptyBatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		adapter intake.Adapter
		body    string
	}{
		{NewAPIv2(), `[]`},
		{NewWebhook(), `[]`},
		{NewWebhook(), `{"alerts":[]}`},
	} {
		res, err := parse(t, c.adapter, []byte(c.body))
		if err != nil || len(res.Events) != 0 {
			t.Errorf("%s %s: %d events, %v; want none and no error", c.adapter.Name(), c.body, len(res.Events), err)
		}
	}
}
