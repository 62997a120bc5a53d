package rule_test

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// BenchmarkEvaluate: the built-in rules on a GuardDuty finding (matched
// after several rules), on an alert no rule matches and on a disk alert
// (disk-cleanup), as the pipeline evaluates them for each event that
// reaches an OpsItem.
func BenchmarkEvaluate(b *testing.B) {
	rs := builtinRules(b)
	finding := guardDutyEvent(b, "UnauthorizedAccess:IAMUser/TorIPCaller", "", false)
	alert := event.Event{Source: "alertmanager", Kind: event.KindAlert, Status: event.StatusFiring, Title: "HighCPU",
		Labels: map[string]string{"alertname": "HighCPU", "instance": "web-1:9100", "job": "node"}}
	disk := event.Event{Source: "alertmanager", Kind: event.KindAlert, Status: event.StatusFiring, Title: "NodeFilesystemAlmostFull",
		Labels: map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": "web-1:9100", "job": "node", "mountpoint": "/"}}
	for _, tc := range []struct {
		name string
		ev   *event.Event
		want int
	}{{"guardduty", &finding, 1}, {"alert", &alert, 0}, {"disk-alert", &disk, 1}} {
		o := opsItemFor(tc.ev)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ms, _ := rs.Evaluate(tc.ev, &o); len(ms) != tc.want {
					b.Fatalf("%d matches", len(ms))
				}
			}
		})
	}
}
