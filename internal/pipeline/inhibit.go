package pipeline

import (
	"sync"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/inhibit"
	"github.com/flywheel-ops/flywheel/internal/matcher"
)

// RuleInhibitor inhibits with InhibitRule content (internal/inhibit); the
// keys firing sources assert are kept in the store, so every replica sees
// them.
type RuleInhibitor struct {
	rules     *inhibit.Rules
	perTenant sync.Map // tenant -> *inhibit.Rules
}

var _ Inhibitor = (*RuleInhibitor)(nil)

// NewRuleInhibitor wraps compiled inhibition rules.
func NewRuleInhibitor(r *inhibit.Rules) *RuleInhibitor { return &RuleInhibitor{rules: r} }

func (i *RuleInhibitor) forTenant(tenant string) *inhibit.Rules {
	if v, ok := i.perTenant.Load(tenant); ok {
		return v.(*inhibit.Rules)
	}
	r := i.rules.ForTenant(tenant)
	i.perTenant.Store(tenant, r)
	return r
}

// SourceKeys implements Inhibitor.
func (i *RuleInhibitor) SourceKeys(tenant string, e *event.Event) []string {
	return keyStrings(i.forTenant(tenant).SourceKeys(matcher.EventLabels(e)))
}

// TargetKeys implements Inhibitor.
func (i *RuleInhibitor) TargetKeys(tenant string, e *event.Event) []string {
	return keyStrings(i.forTenant(tenant).TargetKeys(matcher.EventLabels(e)))
}

func keyStrings(ks []inhibit.Key) []string {
	if len(ks) == 0 {
		return nil
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	return out
}
