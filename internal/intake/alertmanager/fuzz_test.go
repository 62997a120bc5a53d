package alertmanager

import (
	"encoding/json"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

var fuzzSeeds = []string{
	"alertmanager/webhook-v4-firing.json",
	"alertmanager/webhook-v4-resolved.json",
	"alertmanager/v2-postable-alerts.json",
	"bad/truncated.json",
	"bad/not-json.txt",
	"bad/wrong-shape.json",
	"bad/empty.json",
	"bad/missing-labels.json",
	"bad/bad-timestamp.json",
}

func addSeeds(f *testing.F) {
	for _, name := range fuzzSeeds {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"truncatedAlerts":2,"alerts":[{"labels":{"instance":"[::1]:9100"}}]}`))
	f.Add([]byte(`[{"labels":{"a":"b"},"startsAt":"2026-03-11T08:00:00+02:00","endsAt":"0001-01-01T00:00:00Z"}]`))
}

// checkResult holds for every input: no panic (the fuzzer's job), every
// error a *intake.BadRequest, every event complete and its Raw valid JSON.
func checkResult(t *testing.T, body []byte, res intake.Result, err error) {
	if err != nil {
		if _, ok := err.(*intake.BadRequest); !ok {
			t.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
		}
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		return
	}
	for i, ev := range res.Events {
		switch {
		case ev.Source != Source, ev.Kind != event.KindAlert, !ev.Severity.Valid(),
			ev.Status != event.StatusFiring && ev.Status != event.StatusResolved,
			ev.Title == "", ev.Fingerprint == "", len(ev.Labels) == 0, ev.OccurredAt.IsZero():
			t.Fatalf("event %d incomplete: %+v\nbody: %q", i, ev, body)
		}
		if !json.Valid(ev.Raw) {
			t.Fatalf("event %d Raw is not JSON: %q\nbody: %q", i, ev.Raw, body)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	addSeeds(f)
	webhook := NewWebhook(WithClock(testClock))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parse(t, webhook, body)
		checkResult(t, body, res, err)
		checkReplay(t, webhook, body, res)
	})
}

func FuzzParseAPIv2(f *testing.F) {
	addSeeds(f)
	v2 := NewAPIv2(WithClock(testClock))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parse(t, v2, body)
		checkResult(t, body, res, err)
		checkReplay(t, v2, body, res)
	})
}

// checkReplay: every event can be re-parsed from its Raw alone — a one-alert
// notification for a webhook object, the alert itself (as a one-element
// array) for an array body.
func checkReplay(t *testing.T, a intake.Adapter, body []byte, res intake.Result) {
	for i, ev := range res.Events {
		raw := []byte(ev.Raw)
		if firstByte(body) == '[' {
			raw = append(append([]byte{'['}, raw...), ']')
		}
		replay, err := parse(t, a, raw)
		if err != nil || len(replay.Events) != 1 || !sameEvent(replay.Events[0], ev) {
			t.Fatalf("event %d does not replay from Raw %q: %v\nbody: %q", i, ev.Raw, err, body)
		}
	}
}
