package eventbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the adapter's output")

// fixtureDir is testdata/events/eventbridge at the module root.
const fixtureDir = "../../../testdata/events/eventbridge"

// fixtures returns every EventBridge fixture body by file name.
func fixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in %s (err %v)", fixtureDir, err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// marshalGolden writes events as indented JSON without HTML escaping, so
// golden files read as the payloads do.
func marshalGolden(tb testing.TB, evs []event.Event) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(evs); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func parse(tb testing.TB, body []byte) []event.Event {
	tb.Helper()
	res, err := New().Parse(context.Background(), intake.Request{Body: body})
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	if res.Control != nil {
		tb.Fatalf("Parse returned a control message %+v", res.Control)
	}
	return res.Events
}

// TestGolden compares each fixture's events, without Raw (tested by
// TestRawReplays), to testdata/golden/<fixture>.json.
func TestGolden(t *testing.T) {
	t.Parallel()
	for name, body := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evs := parse(t, body)
			for i := range evs {
				evs[i].Raw = nil
			}
			got := marshalGolden(t, evs)
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (run go test -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

// TestRawReplays checks that each event's Raw is an envelope that parses
// back to exactly that event, so stored raw payloads can be replayed.
func TestRawReplays(t *testing.T) {
	t.Parallel()
	for name, body := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i, ev := range parse(t, body) {
				again := parse(t, ev.Raw)
				if len(again) != 1 || !reflect.DeepEqual(again[0], ev) {
					t.Errorf("event %d: Raw replays to %d events; first differs:\n got %+v\nwant %+v", i, len(again), again, ev)
				}
			}
		})
	}
}

// TestArray checks that an array of envelopes yields each envelope's
// events in order, with each element as Raw.
func TestArray(t *testing.T) {
	t.Parallel()
	fx := fixtures(t)
	names := sortedKeys(fx)
	var body bytes.Buffer
	var want []event.Event
	body.WriteString("[")
	for i, n := range names {
		if i > 0 {
			body.WriteString(",\n")
		}
		body.Write(fx[n])
		want = append(want, parse(t, fx[n])...)
	}
	body.WriteString("]")
	got := parse(t, body.Bytes())
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d (%s) differs from the envelope parsed alone", i, want[i].Title)
		}
	}
}

// TestFixtureFacts pins the facts the brief calls out, independently of
// the golden files, so a careless -update cannot hide a regression.
func TestFixtureFacts(t *testing.T) {
	t.Parallel()
	fx := fixtures(t)
	one := func(name string) event.Event {
		evs := parse(t, fx[name])
		if len(evs) != 1 {
			t.Fatalf("%s: got %d events, want 1", name, len(evs))
		}
		return evs[0]
	}
	check := func(name, field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s = %v, want %v", name, field, got, want)
		}
	}

	ev := one("guardduty-ssh-bruteforce.json")
	check("ssh", "severity", ev.Severity, event.SeverityLow)
	check("ssh", "source", ev.Source, "guardduty")
	check("ssh", "kind", ev.Kind, event.KindFinding)
	check("ssh", "resources", ev.Resources, []event.ResourceRef{{Type: "ec2-instance", ID: "i-05617b8c8cc2687e3", Region: "us-east-1", Account: "111122223333"}})
	check("ssh", "threat_purpose", ev.Labels["threat_purpose"], "UnauthorizedAccess")
	check("ssh", "occurred_at", ev.OccurredAt.Format("2006-01-02T15:04:05.000Z07:00"), "2026-03-10T05:16:11.048Z")
	check("crypto", "severity", one("guardduty-cryptocurrency.json").Severity, event.SeverityHigh)
	check("crypto", "artifact", one("guardduty-cryptocurrency.json").Labels["artifact"], "DNS")
	iam := one("guardduty-iam-anomalous.json")
	check("iam", "severity", iam.Severity, event.SeverityMedium)
	check("iam", "resource[0]", iam.Resources[0].Type+"/"+iam.Resources[0].ID, "access-key/AKIAYIZDXYS5N5GXCDN3")
	check("s3", "resource[0]", one("guardduty-s3.json").Resources[0].ID, "acme-prod-invoices-111122223333")

	sh := parse(t, fx["securityhub-findings-imported.json"])
	check("securityhub", "count", len(sh), 2)
	check("securityhub", "severities", []event.Severity{sh[0].Severity, sh[1].Severity}, []event.Severity{event.SeverityHigh, event.SeverityMedium})
	check("securityhub", "resource[0]", sh[0].Resources[0].Type+"/"+sh[0].Resources[0].ID, "security-group/sg-0a9b404505ca54ef5")
	check("securityhub", "resource[1]", sh[1].Resources[0].Type+"/"+sh[1].Resources[0].ID, "s3-bucket/acme-dev-scratch-exports")
	check("securityhub", "control", sh[0].Labels["security_control_id"], "EC2.13")
	check("securityhub", "source_id", sh[1].SourceID, "arn:aws:securityhub:us-east-1:111122223333:security-control/S3.4/finding/3bb38e99-822c-4fd3-b56d-e7e463f645f3")

	cfg := one("config-compliance-change.json")
	check("config", "status", cfg.Status, event.StatusFiring)
	check("config", "kind", cfg.Kind, event.KindCompliance)
	check("config", "resource", cfg.Resources[0].Type+"/"+cfg.Resources[0].ID, "ebs-volume/vol-00278b1fedd84cff1")

	insp := one("inspector2-finding.json")
	check("inspector", "severity", insp.Severity, event.SeverityHigh)
	check("inspector", "updated_at", insp.UpdatedAt.Format("2006-01-02T15:04:05.000Z07:00"), "2026-03-10T11:42:09.318Z")

	check("macie", "severity", one("macie-finding.json").Severity, event.SeverityHigh)
	h := one("health-event.json")
	check("health", "kind", h.Kind, event.KindHealth)
	check("health", "resource", h.Resources[0].Type+"/"+h.Resources[0].ID, "ec2-instance/i-057dc66874541d46c")
	check("health", "occurred_at", h.OccurredAt.Format("2006-01-02T15:04:05Z07:00"), "2026-03-10T07:25:58Z")

	ec2 := one("ec2-state-change.json")
	check("ec2", "severity", ec2.Severity, event.SeverityLow)
	check("ec2", "kind", ec2.Kind, event.KindChange)

	cw := one("cloudwatch-alarm-state-change.json")
	check("cloudwatch", "fingerprint", cw.Fingerprint, AlarmFingerprint("arn:aws:cloudwatch:us-east-1:111122223333:alarm:prod-batch-02-root-disk-used"))
	check("cloudwatch", "resource", cw.Resources[0].ID, "i-05f4970699c911406")
	check("cloudwatch", "status", cw.Status, event.StatusFiring)
	if !strings.Contains(cw.Annotations["reason_data"], `"threshold":90.0`) {
		t.Errorf("cloudwatch: reasonData not decoded into annotations: %q", cw.Annotations["reason_data"])
	}
}
