package alertmanager

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// TestWebhookRaw: each event's Raw is the notification with alerts narrowed
// to that alert — every group field kept — and replays to the same event.
func TestWebhookRaw(t *testing.T) {
	t.Parallel()
	webhook := NewWebhook(WithClock(testClock))
	for _, name := range []string{"alertmanager/webhook-v4-firing.json", "alertmanager/webhook-v4-resolved.json"} {
		body := fixture(t, name)
		res, err := parse(t, webhook, body)
		if err != nil {
			t.Fatal(err)
		}
		var whole map[string]any
		if err := json.Unmarshal(body, &whole); err != nil {
			t.Fatal(err)
		}
		alerts := whole["alerts"].([]any)
		for i, ev := range res.Events {
			var got map[string]any
			if err := json.Unmarshal(ev.Raw, &got); err != nil {
				t.Fatalf("%s event %d: Raw is not JSON: %v", name, i, err)
			}
			want := map[string]any{}
			for k, v := range whole {
				want[k] = v
			}
			want["alerts"] = []any{alerts[i]}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s event %d: Raw is not the single-alert notification:\n%s", name, i, ev.Raw)
			}

			replay, err := parse(t, webhook, ev.Raw)
			if err != nil {
				t.Fatalf("%s event %d: Raw does not parse: %v", name, i, err)
			}
			if len(replay.Events) != 1 || !sameEvent(replay.Events[0], ev) {
				t.Errorf("%s event %d: Raw replays to %+v, want %+v", name, i, replay.Events, ev)
			}
		}
	}
}

// TestAPIv2Raw: each event's Raw is its alert as sent, in memory of its own.
func TestAPIv2Raw(t *testing.T) {
	t.Parallel()
	body := fixture(t, "alertmanager/v2-postable-alerts.json")
	res, err := parse(t, NewAPIv2(WithClock(testClock)), body)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []json.RawMessage
	if err := json.Unmarshal(body, &alerts); err != nil {
		t.Fatal(err)
	}
	for i, ev := range res.Events {
		if string(ev.Raw) != string(alerts[i]) {
			t.Errorf("event %d Raw:\n%s\nwant\n%s", i, ev.Raw, alerts[i])
		}
	}
	for i := range body {
		body[i] = 'x' // the caller may reuse its buffer
	}
	if !json.Valid(res.Events[0].Raw) {
		t.Error("Raw aliases the request body")
	}
}

// sameEvent compares everything but Raw.
func sameEvent(a, b event.Event) bool {
	a.Raw, b.Raw = nil, nil
	return reflect.DeepEqual(a, b)
}
