package pipeline

import (
	"time"

	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// ByFingerprint is the simplest Correlator: every fingerprint is its own
// group, titled by the event, categorised by its kind. It is the fallback
// when no correlation content is loaded, and a baseline for tests.
type ByFingerprint struct {
	P Params
}

var _ Correlator = ByFingerprint{}

// Correlate implements Correlator.
func (b ByFingerprint) Correlate(_ string, e *event.Event) (Group, error) {
	return Group{Rule: "by-fingerprint", Key: e.Fingerprint, Title: e.Title, Category: correlate.DefaultCategory(e.Kind), Params: b.params()}, nil
}

// Params implements Correlator.
func (b ByFingerprint) Params(string, string) (Params, bool) { return b.params(), true }

func (b ByFingerprint) params() Params {
	p := b.P
	if p.Resolve == "" {
		p.Resolve = "all"
	}
	if p.FlapWindow == 0 {
		p.FlapWindow = 15 * time.Minute
	}
	return p
}
