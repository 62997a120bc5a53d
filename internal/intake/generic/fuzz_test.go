package generic

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// FuzzParseGeneric runs arbitrary bodies through the documented format and
// a set of mappings: no panic, every error a *intake.BadRequest, every event
// complete.
func FuzzParseGeneric(f *testing.F) {
	for _, name := range []string{
		"generic/webhook.json", "alertmanager/webhook-v4-firing.json",
		"bad/truncated.json", "bad/not-json.txt", "bad/wrong-shape.json", "bad/empty.json",
	} {
		f.Add(fixture(f, name))
	}
	f.Add(readFile(f, "testdata/grafana-webhook.json"))
	f.Add([]byte(`[{"title":"a","resource":"arn:aws:s3:::b"},{"title":"b","resource":"[::1]:22","status":"resolved"}]`))
	f.Add([]byte(`{"name":"x","ok":true,"host":"h","n":[1,2]}`))

	a := newAdapter(f, grafanaMapping,
		Mapping{Name: "flat", Match: `has(body.name)`, Title: `body.name`, Status: `body.?ok.orValue(false) ? "resolved" : "firing"`,
			Resource: `body.?host.orValue(null)`, Timestamp: `body.?at.orValue(null)`, Labels: map[string]string{"n": `string(body.?n.orValue(""))`}},
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mapping := range []string{"", "flat"} {
			var res intake.Result
			var err error
			if mapping == "" {
				res, err = a.Parse(context.Background(), intake.Request{Body: body})
			} else {
				res, err = a.ParseWith(context.Background(), intake.Request{Body: body}, mapping)
			}
			if err != nil {
				if _, ok := err.(*intake.BadRequest); !ok {
					t.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
				}
				continue
			}
			for i, ev := range res.Events {
				if ev.Source == "" || ev.Title == "" || ev.Fingerprint == "" || !ev.Severity.Valid() || ev.OccurredAt.IsZero() ||
					(ev.Status != event.StatusFiring && ev.Status != event.StatusResolved) || !json.Valid(ev.Raw) {
					t.Fatalf("event %d incomplete: %+v\nbody: %q", i, ev, body)
				}
			}
		}
	})
}
