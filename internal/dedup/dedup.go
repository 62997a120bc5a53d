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
		Name: KindName,
		New:  func() any { return new(Spec) },
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

// Rules apply DedupRules by source.
type Rules struct {
	bySource map[string][]rule
}

type rule struct {
	name   string
	keep   []string
	ignore []string
}

// Compile builds Rules from DedupRule items.
func Compile(items []content.Item) (*Rules, error) {
	r := &Rules{bySource: map[string][]rule{}}
	for _, it := range items {
		s, ok := it.Spec.(*Spec)
		if !ok {
			return nil, fmt.Errorf("%s: not a %s", it.Origin, KindName)
		}
		for _, src := range s.Sources {
			r.bySource[src] = append(r.bySource[src], rule{name: it.Name, keep: s.Labels, ignore: s.IgnoreLabels})
		}
	}
	return r, nil
}

// Apply rewrites e's fingerprint when a rule for its source applies. The
// first rule (by name) for the source wins. It reports whether it did.
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
