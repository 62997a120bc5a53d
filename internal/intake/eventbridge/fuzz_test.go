package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// FuzzParse feeds arbitrary bodies to the adapter. The seed corpus in
// testdata/fuzz/FuzzParse holds every shared fixture; f.Add adds edge
// shapes. The adapter must never panic, must fail only with a
// *intake.BadRequest, and must produce only well-formed events.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `null`, `[]`, `[null]`, `{}`, `"x"`, `[{"detail-type":"X","detail":{}}]`,
		`{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":"a"},{"Id":"b","Resources":[{"Type":"AwsAccount","Id":"AWS::::Account:111122223333"}]}]}}`,
		`{"detail-type":"GuardDuty Finding","time":"2026-03-10T10:01:22Z","detail":{"id":"g","type":":/.!","severity":9.5}}`,
		`{"detail-type":"Inspector2 Finding","detail":{"findingArn":"arn:aws:inspector2:::","updatedAt":"Tue Mar 10 11:42:09.318 UTC 2026"}}`,
		`{"detail-type":"AWS Health Event","detail":{"eventArn":"e","statusCode":"closed","endTime":"Tue, 24 Mar 2026 11:00:00 GMT","affectedEntities":[{"entityValue":"arn:aws:s3:::b/k"}]}}`,
		`{"detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"a","state":{"value":"ALARM","reasonData":"{\"x\":1}"},"configuration":{"metrics":[{"metricStat":{"metric":{"dimensions":{"InstanceId":"i-1"}}}}]}}}`,
		`{"detail-type":"Macie Finding","detail":{"id":"m","resourcesAffected":{"s3Object":{"key":"k"}}}}`,
	} {
		f.Add([]byte(s))
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := a.Parse(context.Background(), intake.Request{Body: body})
		if err != nil {
			var br *intake.BadRequest
			if !errors.As(err, &br) || br.Message == "" {
				t.Fatalf("error %v (%T) is not a *intake.BadRequest with a message", err, err)
			}
			return
		}
		if res.Control != nil {
			t.Fatalf("unexpected control %+v", res.Control)
		}
		if len(res.Events) == 0 {
			t.Fatal("no events and no error")
		}
		for _, ev := range res.Events {
			checkEvent(t, ev)
		}
	})
}

// checkEvent asserts the invariants every normalized event must hold.
func checkEvent(t *testing.T, ev event.Event) {
	t.Helper()
	switch {
	case ev.Source == "", ev.Kind == "", ev.Title == "", ev.Fingerprint == "":
		t.Fatalf("event missing source, kind, title or fingerprint: %+v", ev)
	case !ev.Severity.Valid():
		t.Fatalf("invalid severity %q", ev.Severity)
	case ev.Status != event.StatusFiring && ev.Status != event.StatusResolved:
		t.Fatalf("invalid status %q", ev.Status)
	case len(ev.Raw) == 0 || !json.Valid(ev.Raw):
		t.Fatalf("raw is not JSON: %q", ev.Raw)
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Fatalf("event does not encode: %v", err)
	}
}
