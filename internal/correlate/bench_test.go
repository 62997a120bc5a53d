package correlate_test

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// BenchmarkMatch measures the hot path with the built-in rules: a
// synthetic Alertmanager alert (the commonest event), every fixture event
// in turn, and an event only the catch-all takes (every filter tried).
func BenchmarkMatch(b *testing.B) {
	rs := builtinRules(b)
	var fixtures []event.Event
	for _, name := range fixtureNames(b) {
		fixtures = append(fixtures, fixtureEvents(b, name)...)
	}
	am := alert("NodeFilesystemAlmostFull", "prod-use1", "10.20.3.41:9100", event.SeverityMedium)
	unknown := event.Event{Source: "nagios", Kind: event.KindAlert, Title: "check_disk", Fingerprint: "f00d"}
	cases := []struct {
		name string
		evs  []event.Event
	}{
		{"alertmanager", []event.Event{am}},
		{"fixtures", fixtures},
		{"catch-all", []event.Event{unknown}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := rs.Match(&c.evs[i%len(c.evs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkTitle is the cost of a title, paid when a group opens.
func BenchmarkTitle(b *testing.B) {
	rs := builtinRules(b)
	am := alert("NodeFilesystemAlmostFull", "prod-use1", "10.20.3.41:9100", event.SeverityMedium)
	r, _ := rs.Rule("prometheus-alerts")
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Title(&am)
	}
}
