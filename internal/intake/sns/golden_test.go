package sns

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the adapter's output")

// TestGolden compares each fixture's events, without Raw (always the SNS
// body, checked in TestFixtureFacts), to testdata/golden/<fixture>.json.
// Fixture signatures are random bytes, so verification is skipped here and
// tested with re-signed bodies in verify_test.go.
func TestGolden(t *testing.T) {
	t.Parallel()
	for name, body := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evs := mustParse(t, unverified(t, nil), body).Events
			if evs == nil {
				evs = []event.Event{}
			}
			for i := range evs {
				evs[i].Raw = nil
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(evs); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("events differ from %s (run go test -update and review the diff):\n%s", golden, buf.Bytes())
			}
		})
	}
}

// TestFixtureFacts pins what the brief calls out, independently of the
// golden files.
func TestFixtureFacts(t *testing.T) {
	t.Parallel()
	var confirmed []string
	a := unverified(t, &confirmed)
	alarmBody := fixture(t, "sns-alarm-notification.json")
	alarm := mustParse(t, a, alarmBody).Events
	ok := mustParse(t, a, fixture(t, "sns-alarm-ok.json")).Events
	if len(alarm) != 1 || len(ok) != 1 {
		t.Fatalf("got %d and %d events, want 1 each", len(alarm), len(ok))
	}
	fire, res := alarm[0], ok[0]
	const arn = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:prod-web-03-cpu-utilization-high"
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"fingerprints equal", fire.Fingerprint, res.Fingerprint},
		{"fingerprint shared with EventBridge", fire.Fingerprint, eventbridge.AlarmFingerprint(arn)},
		{"ALARM status", fire.Status, event.StatusFiring},
		{"OK status", res.Status, event.StatusResolved},
		{"severity", fire.Severity, event.SeverityHigh},
		{"source", fire.Source, "cloudwatch"},
		{"kind", fire.Kind, event.KindAlert},
		{"source id", fire.SourceID, "9b50cf2d-886a-4516-8b83-0b2bb830592a"},
		{"occurred at", fire.OccurredAt, time.Date(2026, 3, 10, 15, 0, 41, 187e6, time.UTC)},
		{"resolved at", res.OccurredAt, time.Date(2026, 3, 10, 15, 45, 38, 904e6, time.UTC)},
		{"resources", fire.Resources, []event.ResourceRef{{Type: "ec2-instance", ID: "i-0f08a3e3274fdda62", Region: "us-east-1", Account: "111122223333"}}},
		{"region", fire.Labels["region"], "us-east-1"},
		{"raw", string(fire.Raw), string(alarmBody)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}

	conf := mustParse(t, a, fixture(t, "sns-subscription-confirmation.json"))
	if len(conf.Events) != 0 || conf.Control == nil {
		t.Fatalf("confirmation: got %+v", conf)
	}
	want := "subscription confirmed for " + fixtureTopic
	if conf.Control.Type != "SubscriptionConfirmation" || conf.Control.Status != 200 || conf.Control.Message != want {
		t.Errorf("control = %+v, want 200 %q", conf.Control, want)
	}
	if len(confirmed) != 1 || confirmed[0] != "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:111122223333:flywheel-cloudwatch-alarms&Token=0035b7f024c135c0250d5278a6768880783d01aa4ee54132a2e784e040b7f869afda4b4c40241339b740304e3a17dbfebdc4f39854a49c89fb0442857e9c8bef1737b2230ee88763ba0aba9227e2e21a5bec3d896b604e4827c503916a4c6dd0e4bbf582b39b65278b8b894c7dc013837c4c683a00ee7d8884484634578b78a2" {
		t.Errorf("confirmed %v", confirmed)
	}
}
