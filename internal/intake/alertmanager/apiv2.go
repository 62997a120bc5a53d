package alertmanager

import (
	"context"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// APIv2 parses the body of Alertmanager's POST /api/v2/alerts: a JSON array
// of postable alerts (labels required; annotations, startsAt, endsAt,
// generatorURL optional). Prometheus re-sends every active alert each
// evaluation with endsAt pushed into the future, and sends a resolved alert
// with endsAt in the past; status is derived from endsAt and the clock.
type APIv2 struct {
	p parser
}

var _ intake.Adapter = (*APIv2)(nil)

// NewAPIv2 returns the "alertmanager-v2" adapter.
func NewAPIv2(opts ...Option) *APIv2 {
	return &APIv2{p: newParser(opts)}
}

// Name implements intake.Adapter.
func (*APIv2) Name() string { return "alertmanager-v2" }

const apiv2Shape = "expected an array of alerts, got %s"

// Parse implements intake.Adapter: one event per alert.
func (a *APIv2) Parse(_ context.Context, req intake.Request) (intake.Result, error) {
	if firstByte(req.Body) != '[' {
		return intake.Result{}, notJSONOr(req.Body, apiv2Shape)
	}
	return a.p.parseArray(req.Body, apiv2Shape)
}
