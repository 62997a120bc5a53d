package alertmanager

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

func TestSeverityOf(t *testing.T) {
	t.Parallel()
	cases := map[string]event.Severity{
		"critical": event.SeverityCritical, "CRITICAL": event.SeverityCritical, " page ": event.SeverityCritical,
		"emergency": event.SeverityCritical, "P1": event.SeverityCritical,
		"error": event.SeverityHigh, "high": event.SeverityHigh, "Major": event.SeverityHigh, "p2": event.SeverityHigh,
		"warning": event.SeverityMedium, "warn": event.SeverityMedium, "medium": event.SeverityMedium,
		"low": event.SeverityLow, "minor": event.SeverityLow, "notice": event.SeverityLow,
		"info": event.SeverityInfo, "none": event.SeverityInfo, "debug": event.SeverityInfo,
		// Absent or unknown: medium.
		"": event.SeverityMedium, "sev-whatever": event.SeverityMedium, "5": event.SeverityMedium,
	}
	for in, want := range cases {
		if got := severityOf(in); got != want {
			t.Errorf("severityOf(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestInstanceRef(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want event.ResourceRef
	}{
		{"web-03:9100", event.ResourceRef{Type: "host", ID: "web-03"}},
		{"web-03", event.ResourceRef{Type: "host", ID: "web-03"}},
		{"10.20.3.41:9100", event.ResourceRef{Type: "host", ID: "10.20.3.41"}},
		{"10.20.3.41", event.ResourceRef{Type: "host", ID: "10.20.3.41"}},
		{"db-1.example.com.:5432", event.ResourceRef{Type: "host", ID: "db-1.example.com"}},
		{"[2001:db8::7]:9100", event.ResourceRef{Type: "host", ID: "2001:db8::7"}},
		{"[2001:db8::7]", event.ResourceRef{Type: "host", ID: "2001:db8::7"}},
		{"2001:db8::7", event.ResourceRef{Type: "host", ID: "2001:db8::7"}},
		{"fe80::1%eth0", event.ResourceRef{Type: "host", ID: "fe80::1%eth0"}},
		{"[2001:db8::7]:http", event.ResourceRef{Type: "host", ID: "[2001:db8::7]:http"}},
		{"[2001:db8::7", event.ResourceRef{Type: "host", ID: "[2001:db8::7"}},
		{"web-03:metrics", event.ResourceRef{Type: "host", ID: "web-03:metrics"}},
		{":9100", event.ResourceRef{Type: "host", ID: ":9100"}},
		{" web-03:9100 ", event.ResourceRef{Type: "host", ID: "web-03"}},
		{"i-0abc12345def67890:9100", event.ResourceRef{Type: "ec2-instance", ID: "i-0abc12345def67890"}},
		{"https://status.example.com/healthz", event.ResourceRef{Type: "url", ID: "https://status.example.com/healthz"}},
		{"tcp://db.example.com:5432", event.ResourceRef{Type: "url", ID: "tcp://db.example.com:5432"}},
		// A loopback target keeps its port: the exporter's port tells the host.
		{"127.0.0.1:9100", event.ResourceRef{Type: "host", ID: "127.0.0.1:9100"}},
		{"localhost:9100", event.ResourceRef{Type: "host", ID: "localhost:9100"}},
		{"[::1]:9100", event.ResourceRef{Type: "host", ID: "[::1]:9100"}},
		{"127.0.0.1", event.ResourceRef{Type: "host", ID: "127.0.0.1"}},
	}
	for _, c := range cases {
		if got := instanceRef(c.in); got != c.want {
			t.Errorf("instanceRef(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestResourcesOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		labels map[string]string
		want   []event.ResourceRef
	}{
		{"none", map[string]string{"alertname": "Watchdog"}, nil},
		{"node exporter", map[string]string{"instance": "10.0.0.5:9100", "nodename": "web-03"},
			[]event.ResourceRef{{Type: "host", ID: "web-03"}, {Type: "host", ID: "10.0.0.5"}}},
		{"duplicates collapse", map[string]string{"instance": "web-03:9100", "hostname": "web-03", "host": "web-03"},
			[]event.ResourceRef{{Type: "host", ID: "web-03"}}},
		{"ec2 first", map[string]string{"instance": "10.0.0.5:9100", "instance_id": "i-0abc12345def67890", "region": "us-east-1", "account_id": "111122223333"},
			[]event.ResourceRef{{Type: "ec2-instance", ID: "i-0abc12345def67890", Region: "us-east-1", Account: "111122223333"}, {Type: "host", ID: "10.0.0.5"}}},
		{"not an ec2 id", map[string]string{"instance_id": "vm-42"}, nil},
		{"kube-state-metrics instance is the exporter", map[string]string{"job": "kube-state-metrics", "instance": "10.40.12.9:8443", "namespace": "payments", "pod": "api-0", "cluster": "prod"},
			[]event.ResourceRef{{Type: "k8s-pod", ID: "payments/api-0", Account: "prod"}, {Type: "k8s-namespace", ID: "payments", Account: "prod"}}},
		{"workload without namespace", map[string]string{"statefulset": "db"},
			[]event.ResourceRef{{Type: "k8s-statefulset", ID: "db"}}},
		{"probe", map[string]string{"job": "blackbox", "instance": "https://shop.example.com"},
			[]event.ResourceRef{{Type: "url", ID: "https://shop.example.com"}}},
		{"empty values ignored", map[string]string{"instance": "", "host": " ", "pod": ""}, nil},
	}
	for _, c := range cases {
		if got := resourcesOf(c.labels); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: resourcesOf = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestLabelsFingerprint pins the algorithm to prometheus/common's own test
// vectors (model/signature_test.go), so fingerprints we compute match the
// ones Alertmanager sends.
func TestLabelsFingerprint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		labels map[string]string
		want   uint64
	}{
		{map[string]string{"name": "garland, briggs", "fear": "love is not enough"}, 5799056148416392346},
		{map[string]string{"first-label": "first-label-value"}, 5146282821936882169},
		{map[string]string{"first-label": "first-label-value", "second-label": "second-label-value"}, 3195800080984914717},
	}
	for _, c := range cases {
		if got, want := labelsFingerprint(c.labels), fmt.Sprintf("%016x", c.want); got != want {
			t.Errorf("labelsFingerprint(%v) = %s, want %s", c.labels, got, want)
		}
	}
}

func TestAlertNormalization(t *testing.T) {
	t.Parallel()
	v2 := NewAPIv2(WithClock(testClock))
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, ev event.Event)
	}{
		{"no startsAt: now, and no SourceID", `[{"labels":{"alertname":"A"}}]`, func(t *testing.T, ev event.Event) {
			if !ev.OccurredAt.Equal(testNow) || ev.SourceID != "" || ev.Status != event.StatusFiring {
				t.Errorf("occurred %v, source id %q, status %s", ev.OccurredAt, ev.SourceID, ev.Status)
			}
		}},
		{"zero startsAt is unset", `[{"labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z"}]`, func(t *testing.T, ev event.Event) {
			if !ev.OccurredAt.Equal(testNow) || ev.SourceID != "" {
				t.Errorf("occurred %v, source id %q", ev.OccurredAt, ev.SourceID)
			}
		}},
		{"offset times become UTC", `[{"labels":{"alertname":"A"},"startsAt":"2026-03-11T10:00:00+02:00"}]`, func(t *testing.T, ev event.Event) {
			if ev.OccurredAt.Location() != time.UTC || ev.OccurredAt.Hour() != 8 {
				t.Errorf("occurred %v", ev.OccurredAt)
			}
			if want := labelsFingerprint(map[string]string{"alertname": "A"}) + ":2026-03-11T08:00:00Z:firing"; ev.SourceID != want {
				t.Errorf("source id %q, want %q", ev.SourceID, want)
			}
		}},
		{"endsAt equal to now is resolved", `[{"labels":{"alertname":"A"},"endsAt":"2026-03-11T09:00:00Z"}]`, func(t *testing.T, ev event.Event) {
			if ev.Status != event.StatusResolved {
				t.Errorf("status %s", ev.Status)
			}
		}},
		{"endsAt after now is firing", `[{"labels":{"alertname":"A"},"endsAt":"2026-03-11T09:00:01Z"}]`, func(t *testing.T, ev event.Event) {
			if ev.Status != event.StatusFiring || ev.EndsAt.IsZero() {
				t.Errorf("status %s, ends %v", ev.Status, ev.EndsAt)
			}
		}},
		{"no alertname: title is the label set", `[{"labels":{"job":"api","instance":"a:1"}}]`, func(t *testing.T, ev event.Event) {
			if want := `{instance="a:1", job="api"}`; ev.Title != want {
				t.Errorf("title %q, want %q", ev.Title, want)
			}
		}},
		{"description falls back to description", `[{"labels":{"alertname":"A"},"annotations":{"description":"long","message":"m"}}]`, func(t *testing.T, ev event.Event) {
			if ev.Description != "long" {
				t.Errorf("description %q", ev.Description)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := parse(t, v2, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 {
				t.Fatalf("%d events", len(res.Events))
			}
			c.check(t, res.Events[0])
		})
	}
}

func TestWebhookTruncatedAlerts(t *testing.T) {
	t.Parallel()
	body := `{"truncatedAlerts":7,"alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f1"}]}`
	res, err := parse(t, NewWebhook(WithClock(testClock)), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Events[0]
	if ev.Labels[truncatedLabel] != "7" {
		t.Errorf("labels %v: want %s=7", ev.Labels, truncatedLabel)
	}
	if ev.Fingerprint != "f1" {
		t.Errorf("fingerprint %q: the alert's own must win", ev.Fingerprint)
	}
}

// TestSameAlertBothRoutes: an alert relayed by Alertmanager (webhook, with
// its fingerprint) and the same alert sent by Prometheus straight to the v2
// API must share a fingerprint, or they would open two OpsItems.
func TestSameAlertBothRoutes(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"alertname": "A", "instance": "web-03:9100", "job": "node"}
	fp := labelsFingerprint(labels)
	direct, err := parse(t, NewAPIv2(WithClock(testClock)), []byte(`[{"labels":{"alertname":"A","instance":"web-03:9100","job":"node"},"startsAt":"2026-03-11T08:00:00Z"}]`))
	if err != nil {
		t.Fatal(err)
	}
	relayed, err := parse(t, NewWebhook(WithClock(testClock)), []byte(`{"alerts":[{"status":"firing","labels":{"alertname":"A","instance":"web-03:9100","job":"node"},"startsAt":"2026-03-11T08:00:00Z","fingerprint":"`+fp+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	d, r := direct.Events[0], relayed.Events[0]
	if d.Fingerprint != r.Fingerprint || d.SourceID != r.SourceID {
		t.Errorf("direct %s/%s, relayed %s/%s", d.Fingerprint, d.SourceID, r.Fingerprint, r.SourceID)
	}
}
