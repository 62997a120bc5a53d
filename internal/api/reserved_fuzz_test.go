package api

import (
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// FuzzReserved: intake refuses an event exactly when its source is
// Flywheel's own or its fingerprint is in an own namespace, and the 400
// names the event and stays short.
func FuzzReserved(f *testing.F) {
	for _, s := range [][2]string{{"generic:fleet", "x"}, {"fleet", ""}, {"alertmanager", "agent-not-reporting:agt_1"},
		{"generic:nagios", "Service-Stopped:a:b"}, {"generic", "0123456789abcdef"}, {"generic:FLEET", "host-without-agent"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, source, fp string) {
		err := reserved([]event.Event{{Source: "generic", Fingerprint: "ok"}, {Source: source, Fingerprint: fp}})
		want := event.IsOwn(source) || event.OwnNamespace(fp) != ""
		if (err != nil) != want {
			t.Fatalf("reserved(%q, %q) = %v, want refused %v", source, fp, err, want)
		}
		if err != nil {
			msg := asError(err).Message
			if asError(err).Status != 400 || !strings.HasPrefix(msg, "event 1: ") || len(msg) > 300 {
				t.Errorf("reserved(%q, %q): %d %q", source, fp, asError(err).Status, msg)
			}
		}
	})
}
