package fleet

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

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

// FuzzIdentityClaims feeds agent-supplied inventory host sections and
// hostnames to the identity check's parsing: it never panics, reads only
// a string hostname, and any name claiming an own namespace is recognised
// whatever its case.
func FuzzIdentityClaims(f *testing.F) {
	for _, s := range []string{`{"hostname":"web-01"}`, `{"hostname":7}`, `[]`, `{"hostname":"AGENT-NOT-REPORTING:x"}`, `{`, `null`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := inventoryHostname(map[string]json.RawMessage{"host": raw})
		var h struct {
			Hostname any `json:"hostname"`
		}
		if json.Unmarshal(raw, &h) == nil {
			if s, ok := h.Hostname.(string); ok && got != s {
				t.Errorf("inventoryHostname(%q) = %q, want %q", raw, got, s)
			}
		} else if got != "" {
			t.Errorf("inventoryHostname(%q) = %q from invalid JSON", raw, got)
		}
		if ns := event.OwnNamespace(got); ns != "" && !strings.HasPrefix(strings.ToLower(got), ns) {
			t.Errorf("OwnNamespace(%q) = %q", got, ns)
		}
		if c := clipName(got); len(c) > maxHostField || !utf8.ValidString(c) {
			t.Errorf("clipName(%q) = %q", got, c)
		}
	})
}
