package pipeline

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// RuleCorrelator correlates with CorrelationRule content (internal/correlate).
type RuleCorrelator struct {
	// Logger reports rule expressions that failed on an event.
	Logger    *slog.Logger
	rules     *correlate.Rules
	perTenant sync.Map // tenant -> *correlate.Rules
}

var _ Correlator = (*RuleCorrelator)(nil)

// NewRuleCorrelator wraps compiled correlation rules.
func NewRuleCorrelator(r *correlate.Rules) *RuleCorrelator { return &RuleCorrelator{rules: r} }

func (c *RuleCorrelator) forTenant(tenant string) *correlate.Rules {
	if v, ok := c.perTenant.Load(tenant); ok {
		return v.(*correlate.Rules)
	}
	r := c.rules.ForTenant(tenant)
	c.perTenant.Store(tenant, r)
	return r
}

// Correlate implements Correlator.
func (c *RuleCorrelator) Correlate(tenant string, e *event.Event) (Group, error) {
	m, err := c.forTenant(tenant).Match(e)
	if err != nil {
		return Group{}, err
	}
	if len(m.EvalErrors) > 0 && c.Logger != nil {
		c.Logger.Warn("correlation rule expression failed; treated as false or empty", "tenant", tenant,
			"fingerprint", e.Fingerprint, "errors", errors.Join(m.EvalErrors...))
	}
	r := m.Rule
	p := paramsOf(r)
	p.Hold = r.HoldFor(e)
	g := Group{Rule: r.Name, Key: m.GroupKey, Title: r.Title(e), Category: r.Category(e), Params: p, Why: m.Why, Rank: m.Rank, Impact: m.Impact}
	for _, l := range m.Links {
		g.Links = append(g.Links, Link{Key: l.GroupKey, Why: l.Why})
	}
	return g, nil
}

// Params implements Correlator.
func (c *RuleCorrelator) Params(tenant, rule string) (Params, bool) {
	r, ok := c.forTenant(tenant).Rule(rule)
	if !ok {
		return Params{}, false
	}
	return paramsOf(r), true
}

func paramsOf(r *correlate.Rule) Params {
	return Params{Window: r.Window, MaxSpan: r.MaxSpan, Hold: r.Hold, Resolve: string(r.Resolve),
		FlapChanges: r.Flapping.Changes, FlapWindow: r.Flapping.Window}
}
