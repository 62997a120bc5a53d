// Package dedup decides what "the same alert" means for a source: which of
// an event's labels make up its fingerprint. Adapters fingerprint events by
// their full identity (Alertmanager's label set, a finding's ID); a
// DedupRule narrows that, e.g. so two Prometheus replicas that differ only
// in their `prometheus_replica` label count as one alert.
//
// Rules are content (kind DedupRule) and are applied before deduplication;
// a rule matches by source only, so the hot path stays a map lookup.
package dedup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// KindName is the content kind.
const KindName = "DedupRule"

// Spec is a DedupRule's spec. Exactly one of Labels and IgnoreLabels is set.
type Spec struct {
	// Sources the rule applies to (adapter source names, e.g.
	// "alertmanager"); required.
	Sources []string `yaml:"sources"`
	// Labels, when set, are the only labels the fingerprint is made of.
	Labels []string `yaml:"labels"`
	// IgnoreLabels are left out of the fingerprint.
	IgnoreLabels []string `yaml:"ignore_labels"`
}

// Kind returns the DedupRule content kind.
func Kind() content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      KindName,
		New:       func() any { return new(Spec) },
		Validate: func(spec any) error {
			s := spec.(*Spec)
			if len(s.Sources) == 0 {
				return content.FieldErrorf("sources", "is required (e.g. [alertmanager])")
			}
			if (len(s.Labels) == 0) == (len(s.IgnoreLabels) == 0) {
				return content.FieldErrorf("labels", "set exactly one of labels and ignore_labels")
			}
			return nil
		},
	}
}

// Rules apply DedupRules by source: the shared ones, or one tenant's view
// of them (ForTenant).
type Rules struct {
	bySource map[string][]rule
	tenants  map[string]*Rules // each tenant's view: its own rules and the shared ones
}

type rule struct {
	name   string
	tenant string
	keep   []string
	ignore []string
}

// Compile builds Rules from DedupRule items. A rule with a tenant
// (metadata.tenant, or a pack installed for it) applies to that tenant's
// events only, comes before the shared rules for its sources, and takes
// the place of a shared rule of the same name.
func Compile(items []content.Item) (*Rules, error) {
	var all []content.Item
	for _, it := range items {
		if _, ok := it.Spec.(*Spec); !ok {
			return nil, fmt.Errorf("%s: not a %s", it.Origin, KindName)
		}
		all = append(all, it)
	}
	// The first rule for a source wins: a tenant's own rules by name,
	// then the shared ones by name.
	shared := func(it content.Item) int {
		if it.Tenant == "" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(all, func(a, b content.Item) int {
		return cmp.Or(cmp.Compare(shared(a), shared(b)), cmp.Compare(a.Name, b.Name))
	})
	view := func(tenant string) *Rules {
		r := &Rules{bySource: map[string][]rule{}}
		own := map[string]bool{}
		for _, it := range all {
			if it.Tenant != tenant && it.Tenant != "" || own[it.Name] {
				continue
			}
			own[it.Name] = true
			s := it.Spec.(*Spec)
			for _, src := range s.Sources {
				r.bySource[src] = append(r.bySource[src], rule{name: it.Name, tenant: it.Tenant, keep: s.Labels, ignore: s.IgnoreLabels})
			}
		}
		return r
	}
	r := view("")
	r.tenants = map[string]*Rules{}
	for _, it := range all {
		if it.Tenant != "" && r.tenants[it.Tenant] == nil {
			r.tenants[it.Tenant] = view(it.Tenant)
		}
	}
	return r, nil
}

// ForTenant returns the rules that apply to tenant's events.
func (r *Rules) ForTenant(tenant string) *Rules {
	if r == nil {
		return nil
	}
	if v, ok := r.tenants[tenant]; ok {
		return v
	}
	return r
}

// Apply rewrites e's fingerprint when a rule for its source applies. The
// first rule for the source wins (by name; in a tenant's view its own
// rules first). It reports whether it did.
func (r *Rules) Apply(e *event.Event) bool {
	if r == nil || len(r.bySource) == 0 {
		return false
	}
	src := e.Source
	if i := strings.IndexByte(src, ':'); i > 0 {
		src = src[:i] // generic:<name> matches "generic"
	}
	rs := r.bySource[e.Source]
	if len(rs) == 0 {
		rs = r.bySource[src]
	}
	if len(rs) == 0 {
		return false
	}
	ru := rs[0]
	kv := make(map[string]string, len(e.Labels))
	if len(ru.keep) > 0 {
		for _, k := range ru.keep {
			if v, ok := e.Labels[k]; ok {
				kv[k] = v
			}
		}
	} else {
		for k, v := range e.Labels {
			if !slices.Contains(ru.ignore, k) {
				kv[k] = v
			}
		}
	}
	if len(kv) == 0 {
		return false // nothing to key on: keep the adapter's fingerprint
	}
	e.Fingerprint = event.FingerprintOf(e.Source, kv)
	return true
}
