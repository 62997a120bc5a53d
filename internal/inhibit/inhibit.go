// Package inhibit implements inhibition rules: while an alert matching a
// rule's source matchers fires, alerts matching its target matchers that
// agree with it on the rule's equal labels are muted — a critical alert
// mutes the warnings of the same problem, an InstanceDown alert mutes the
// symptoms from that instance. The semantics are Alertmanager's.
//
// Rules are operational content (kind InhibitRule; see Spec). Evaluation
// is split so that the pipeline can keep the state in the database, where
// every replica sees it:
//
//   - while an alert fires, the pipeline stores its SourceKeys;
//   - an alert is inhibited when any other firing alert has stored one of
//     its TargetKeys.
//
// Both take the alert's labels as matcher.EventLabels returns them. A key
// names the rule and a hash of the equal labels' values, and says whether
// the source alert also matches the rule's target. TargetKeys of an alert
// that matches both sides of a rule leave out the keys of such two-sided
// sources, which is Alertmanager's rule: an alert never inhibits itself,
// and two alerts that each match both sides do not inhibit each other. So
// the pipeline needs no fingerprint check of its own; excluding the alert's
// own rows is harmless but not required.
package inhibit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/matcher"
)

// Rule is one compiled inhibition rule.
type Rule struct {
	// Name is the content item's name.
	Name string
	// Tenant is the tenant the rule belongs to; "" for every tenant.
	Tenant string
	Source matcher.Matchers
	Target matcher.Matchers
	Equal  []string
}

// Key is what a firing source alert asserts and what a target alert looks
// for.
type Key struct {
	Rule string
	// Equal is a hash of the values of the rule's equal labels.
	Equal string
	// AlsoTarget is set when the source alert also matches the rule's
	// target matchers.
	AlsoTarget bool
}

// String is the key's stable text form, for storage: "rule:hash", with
// ":also-target" appended for a two-sided source.
func (k Key) String() string {
	s := k.Rule + ":" + k.Equal
	if k.AlsoTarget {
		s += ":also-target"
	}
	return s
}

// Rules is a compiled set of inhibition rules; immutable and safe for
// concurrent use.
type Rules struct {
	rules []Rule
}

// Compile compiles InhibitRule content items (as content.Set.Items returns
// them). Items of another kind are an error.
func Compile(items []content.Item) (*Rules, error) {
	out := &Rules{}
	var errs []error
	for _, it := range items {
		spec, ok := it.Spec.(*Spec)
		if it.Kind != KindName || !ok {
			errs = append(errs, fmt.Errorf("%s: %s %q is not an %s", it.Origin, it.Kind, it.Name, KindName))
			continue
		}
		source, target, err := spec.compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %q: %w", it.Origin, KindName, it.Name, err))
			continue
		}
		out.rules = append(out.rules, Rule{Name: it.Name, Tenant: it.Tenant, Source: source, Target: target, Equal: spec.Equal})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// NewRules returns a set of already compiled rules.
func NewRules(rules ...Rule) *Rules { return &Rules{rules: rules} }

// Rules returns the rules, in order.
func (r *Rules) Rules() []Rule { return append([]Rule(nil), r.rules...) }

// Len returns the number of rules.
func (r *Rules) Len() int { return len(r.rules) }

// ForTenant returns the rules that apply to tenant: its own and those of
// every tenant, but for a shared rule whose name one of its own takes.
func (r *Rules) ForTenant(tenant string) *Rules {
	own := map[string]bool{}
	for _, rule := range r.rules {
		if rule.Tenant == tenant && tenant != "" {
			own[rule.Name] = true
		}
	}
	out := &Rules{}
	for _, rule := range r.rules {
		if rule.Tenant == tenant || (rule.Tenant == "" && !own[rule.Name]) {
			out.rules = append(out.rules, rule)
		}
	}
	return out
}

// SourceKeys returns the keys an alert with these labels asserts while it
// fires: one per rule whose source matchers it matches.
func (r *Rules) SourceKeys(labels map[string]string) []Key {
	var out []Key
	for i := range r.rules {
		rule := &r.rules[i]
		if rule.Source.Matches(labels) {
			out = append(out, Key{Rule: rule.Name, Equal: equalHash(rule.Equal, labels), AlsoTarget: rule.Target.Matches(labels)})
		}
	}
	return out
}

// TargetKeys returns the keys whose presence (asserted by some firing
// alert) inhibits an alert with these labels. For a rule whose both sides
// the alert matches, only sources that do not match the target count.
func (r *Rules) TargetKeys(labels map[string]string) []Key {
	var out []Key
	for i := range r.rules {
		rule := &r.rules[i]
		if !rule.Target.Matches(labels) {
			continue
		}
		k := Key{Rule: rule.Name, Equal: equalHash(rule.Equal, labels)}
		out = append(out, k)
		if !rule.Source.Matches(labels) {
			k.AlsoTarget = true
			out = append(out, k)
		}
	}
	return out
}

// equalHash hashes the values of names in labels; a missing label hashes
// as the empty string, so two alerts that both lack it agree.
func equalHash(names []string, labels map[string]string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[n]))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// Inhibits reports whether a firing alert with labels source inhibits an
// alert with labels target, and by which key: the two sets of keys meet.
// It is the pairwise form of SourceKeys and TargetKeys, for tests and
// offline checks; the pipeline stores keys instead.
func (r *Rules) Inhibits(source, target map[string]string) (Key, bool) {
	want := r.TargetKeys(target)
	for _, k := range r.SourceKeys(source) {
		for _, w := range want {
			if k == w {
				return k, true
			}
		}
	}
	return Key{}, false
}
