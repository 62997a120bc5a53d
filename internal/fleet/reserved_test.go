package fleet

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// TestOwnFingerprintsAreReserved holds the fleet's fingerprints inside the
// namespaces intake refuses from senders (event.OwnNamespace), so a new
// fleet event cannot be forged by posting its fingerprint.
func TestOwnFingerprintsAreReserved(t *testing.T) {
	for _, fp := range []string{NotReportingFingerprint("ag_1"), ServiceStoppedFingerprint("ag_1", "nginx.service"), UnmanagedFingerprint("web-09")} {
		if event.OwnNamespace(fp) == "" {
			t.Errorf("fingerprint %q is in no reserved namespace", fp)
		}
	}
	if !event.IsOwn(EventSource) {
		t.Errorf("source %q is not reserved", EventSource)
	}
	for _, fp := range []string{"", "agent-not", "web-01:disk", "0123456789abcdef"} {
		if ns := event.OwnNamespace(fp); ns != "" {
			t.Errorf("OwnNamespace(%q) = %q", fp, ns)
		}
	}
}
