package eventbridge

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

func TestBadRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", "request body is empty"},
		{"not json", "detail-type: nope", "request body is not valid JSON"},
		{"truncated", `{"detail-type": "GuardDuty Finding", "detail": {"id"`, "invalid JSON: unexpected end of input"},
		{"string", `"hello"`, "expected an EventBridge event object (or array of events), got string"},
		{"numbers", `[1, 2, 3, 42]`, "events[0]: expected an EventBridge event object, got number"},
		{"empty array", `[]`, "expected at least one EventBridge event, got empty array"},
		{"no detail-type", `{"detail": {}}`, "detail-type is required"},
		{"empty detail-type", `{"detail-type": "", "detail": {}}`, "detail-type is required"},
		{"detail-type number", `{"detail-type": 5, "detail": {}}`, "detail-type: expected string, got number"},
		{"no detail", `{"detail-type": "X"}`, "detail is required"},
		{"null detail", `{"detail-type": "X", "detail": null}`, "detail is required"},
		{"string detail", `{"detail-type": "X", "detail": "s"}`, "detail: expected an object, got string"},
		{"bad time", `{"detail-type": "X", "detail": {}, "time": "yesterday"}`, `time: invalid timestamp "yesterday"`},
		{"resources not strings", `{"detail-type": "X", "detail": {}, "resources": [1]}`, "resources: expected string, got number"},
		{"second element", `[{"detail-type": "X", "detail": {}}, {"detail": {}}]`, "events[1].detail-type is required"},
		{"guardduty severity type", `{"detail-type": "GuardDuty Finding", "detail": {"id": "x", "severity": "high"}}`, "detail.severity: expected number, got string"},
		{"guardduty nested type", `{"detail-type": "GuardDuty Finding", "detail": {"id": "x", "resource": {"instanceDetails": {"instanceId": 7}}}}`, "detail.resource.instanceDetails.instanceId: expected string, got number"},
		{"guardduty no id", `{"detail-type": "GuardDuty Finding", "detail": {"severity": 5}}`, "detail.id is required"},
		{"securityhub no findings", `{"detail-type": "Security Hub Findings - Imported", "detail": {}}`, "detail.findings is required"},
		{"securityhub empty findings", `{"detail-type": "Security Hub Findings - Imported", "detail": {"findings": []}}`, "detail.findings is empty"},
		{"securityhub no Id", `{"detail-type": "Security Hub Findings - Imported", "detail": {"findings": [{"Id": "a"}, {"Title": "t"}]}}`, "detail.findings[1].Id is required"},
		{"securityhub type in array", `[{"detail-type": "X", "detail": {}}, {"detail-type": "Security Hub Findings - Imported", "detail": {"findings": [{"Id": 1}]}}]`, "events[1].detail.findings[0].Id: expected string, got number"},
		{"config no rule", `{"detail-type": "Config Rules Compliance Change", "detail": {"resourceId": "vol-1"}}`, "detail.configRuleName is required"},
		{"config no resource", `{"detail-type": "Config Rules Compliance Change", "detail": {"configRuleName": "r"}}`, "detail.resourceId is required"},
		{"inspector no arn", `{"detail-type": "Inspector2 Finding", "detail": {}}`, "detail.findingArn is required"},
		{"macie severity number", `{"detail-type": "Macie Finding", "detail": {"id": "m", "severity": 3}}`, "detail.severity: expected object, got number"},
		{"health no arn", `{"detail-type": "AWS Health Event", "detail": {}}`, "detail.eventArn is required"},
		{"ec2 no instance", `{"detail-type": "EC2 Instance State-change Notification", "detail": {"state": "stopped"}}`, "detail.instance-id is required"},
		{"alarm no name", `{"detail-type": "CloudWatch Alarm State Change", "detail": {"state": {"value": "ALARM"}}}`, "detail.alarmName is required"},
		{"alarm no state", `{"detail-type": "CloudWatch Alarm State Change", "detail": {"alarmName": "a"}}`, "detail.state.value is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New().Parse(context.Background(), intake.Request{Body: []byte(tc.body)})
			br, ok := intake.AsBadRequest(err)
			if !ok {
				t.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
			}
			if br.Message != tc.want || br.Status != 400 {
				t.Errorf("got %d %q, want 400 %q", br.Status, br.Message, tc.want)
			}
		})
	}
}

// TestSharedBadFixtures runs the shared malformed bodies that apply to
// any JSON endpoint.
func TestSharedBadFixtures(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(fixtureDir, "..", "bad")
	for name, want := range map[string]string{
		"truncated.json":   "invalid JSON: unexpected end of input",
		"not-json.txt":     "request body is not valid JSON",
		"empty.json":       "request body is empty",
		"wrong-shape.json": "events[0]: expected an EventBridge event object, got number",
	} {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = New().Parse(context.Background(), intake.Request{Body: body})
		if br, ok := intake.AsBadRequest(err); !ok || br.Message != want {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
}

// TestGenericKeepsUnknown checks that an unknown detail-type becomes a
// generic change event, never an error and never dropped.
func TestGenericKeepsUnknown(t *testing.T) {
	t.Parallel()
	body := `{"version":"0","id":"0c3f2a1e","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"111122223333",
"time":"2026-03-10T16:00:00Z","region":"eu-west-1","resources":["arn:aws:s3:::acme-logs"],"detail":{"eventName":"PutBucketPolicy"}}`
	evs := parse(t, []byte(body))
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	ev := evs[0]
	want := event.Event{
		Source: "eventbridge", SourceID: "0c3f2a1e", Kind: event.KindChange, Severity: event.SeverityInfo,
		Status: event.StatusFiring, Title: "AWS API Call via CloudTrail",
		Resources:   []event.ResourceRef{{Type: "s3-bucket", ID: "acme-logs"}},
		Fingerprint: event.FingerprintOf("eventbridge", map[string]string{"id": "0c3f2a1e"}),
	}
	if ev.Source != want.Source || ev.SourceID != want.SourceID || ev.Kind != want.Kind || ev.Severity != want.Severity ||
		ev.Status != want.Status || ev.Title != want.Title || ev.Fingerprint != want.Fingerprint ||
		len(ev.Resources) != 1 || ev.Resources[0] != want.Resources[0] {
		t.Errorf("got %+v\nwant %+v", ev, want)
	}
	if ev.Labels["detail_type"] != "AWS API Call via CloudTrail" || ev.Labels["event_source"] != "aws.s3" || ev.Labels["region"] != "eu-west-1" {
		t.Errorf("labels = %v", ev.Labels)
	}
	if string(ev.Raw) != body || ev.OccurredAt.Format("15:04:05") != "16:00:00" {
		t.Errorf("raw/time not kept: %s %v", ev.Raw, ev.OccurredAt)
	}

	// Without an id the fingerprint still identifies the payload.
	noID := parse(t, []byte(`{"detail-type":"Custom","detail":{}}`))[0]
	if noID.Fingerprint == "" || noID.Title != "Custom" {
		t.Errorf("no-id event = %+v", noID)
	}
}

// TestStatusFromPayload checks the resolved paths the fixtures do not
// cover.
func TestStatusFromPayload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       event.Status
	}{
		{"guardduty archived", `{"detail-type":"GuardDuty Finding","detail":{"id":"g","severity":8,"service":{"archived":true}}}`, event.StatusResolved},
		{"securityhub archived", `{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":"s","RecordState":"ARCHIVED"}]}}`, event.StatusResolved},
		{"securityhub passed", `{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":"s","Compliance":{"Status":"PASSED"}}]}}`, event.StatusResolved},
		{"inspector closed", `{"detail-type":"Inspector2 Finding","detail":{"findingArn":"arn:aws:inspector2:us-east-1:1:finding/x","status":"CLOSED"}}`, event.StatusResolved},
		{"inspector suppressed", `{"detail-type":"Inspector2 Finding","detail":{"findingArn":"f","status":"SUPPRESSED"}}`, event.StatusResolved},
		{"macie archived", `{"detail-type":"Macie Finding","detail":{"id":"m","archived":true}}`, event.StatusResolved},
		{"health closed", `{"detail-type":"AWS Health Event","detail":{"eventArn":"h","statusCode":"closed"}}`, event.StatusResolved},
		{"config compliant", `{"detail-type":"Config Rules Compliance Change","detail":{"configRuleName":"r","resourceId":"vol-1","newEvaluationResult":{"complianceType":"COMPLIANT"}}}`, event.StatusResolved},
		{"alarm ok", `{"detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"a","state":{"value":"OK"}}}`, event.StatusResolved},
		{"ec2 running", `{"detail-type":"EC2 Instance State-change Notification","detail":{"instance-id":"i-1","state":"running"}}`, event.StatusResolved},
	} {
		evs := parse(t, []byte(tc.body))
		if len(evs) != 1 || evs[0].Status != tc.want {
			t.Errorf("%s: got %+v, want one %s event", tc.name, evs, tc.want)
		}
	}
}
