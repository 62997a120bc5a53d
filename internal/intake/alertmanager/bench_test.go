package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// BenchmarkParseWebhook measures the intake hot path: the two-alert fixture,
// and a synthetic group of 100 alerts as a busy Alertmanager sends it.
func BenchmarkParseWebhook(b *testing.B) {
	bodies := []struct {
		name string
		body []byte
	}{
		{"fixture-2-alerts", fixture(b, "alertmanager/webhook-v4-firing.json")},
		{"synthetic-100-alerts", syntheticWebhook(100)},
	}
	webhook := NewWebhook(WithClock(testClock))
	for _, c := range bodies {
		b.Run(c.name, func(b *testing.B) {
			req := intake.Request{Body: c.body}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := webhook.Parse(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseAPIv2(b *testing.B) {
	body := fixture(b, "alertmanager/v2-postable-alerts.json")
	v2 := NewAPIv2(WithClock(testClock))
	req := intake.Request{Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v2.Parse(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// syntheticWebhook is a firing notification of n node-exporter alerts, each
// with the label and annotation load of the fixture.
func syntheticWebhook(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"receiver":"flywheel-webhook","status":"firing","alerts":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"NodeFilesystemAlmostFull","cluster":"prod-use1","device":"/dev/nvme1n1","fstype":"ext4","instance":"10.20.%d.%d:9100","job":"node-exporter","mountpoint":"/var/lib/postgresql","nodename":"pg-orders-%d","prometheus":"monitoring/k8s","severity":"warning","team":"data-platform"},`+
			`"annotations":{"description":"Filesystem /dev/nvme1n1 mounted on /var/lib/postgresql on pg-orders-%d has 7.82%% space available and is filling up.","runbook_url":"https://runbooks.ops.example.net/node/NodeFilesystemAlmostFull","summary":"Filesystem has less than 10%% space left and is predicted to fill within 4 hours."},`+
			`"startsAt":"2026-03-10T14:02:17.513Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=node_filesystem_avail_bytes&g0.tab=1","fingerprint":"%016x"}`,
			i/250, i%250, i, i, i)
	}
	b.WriteString(`],"groupLabels":{"alertname":"NodeFilesystemAlmostFull","cluster":"prod-use1"},"commonLabels":{"alertname":"NodeFilesystemAlmostFull","cluster":"prod-use1","severity":"warning"},"commonAnnotations":{},"externalURL":"https://alertmanager.ops.example.net","version":"4","groupKey":"{}:{alertname=\"NodeFilesystemAlmostFull\", cluster=\"prod-use1\"}","truncatedAlerts":0}`)
	return b.Bytes()
}
