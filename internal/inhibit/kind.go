package inhibit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/matcher"
)

// KindName is the content kind of inhibition rules.
const KindName = "InhibitRule"

// Spec is an InhibitRule document's spec:
//
//	apiVersion: flywheel/v1
//	kind: InhibitRule
//	metadata:
//	  name: critical-inhibits-lower
//	spec:
//	  source_matchers: ['flywheel_severity="critical"', 'instance=~".+"']
//	  target_matchers: ['flywheel_severity=~"medium|low"']
//	  equal: [alertname, instance]
type Spec struct {
	// SourceMatchers select the alerts that inhibit, while they fire.
	SourceMatchers []string `yaml:"source_matchers"`
	// TargetMatchers select the alerts that may be inhibited.
	TargetMatchers []string `yaml:"target_matchers"`
	// Equal names the labels source and target must agree on (a label
	// both lack agrees, as in Alertmanager). Empty means any source
	// inhibits every target.
	Equal []string `yaml:"equal"`
}

// Kind returns the InhibitRule content kind.
func Kind() content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      KindName,
		New:       func() any { return new(Spec) },
		Validate:  func(spec any) error { _, _, err := spec.(*Spec).compile(); return err },
	}
}

// compile parses the spec's matchers, returning *content.FieldError values
// that point at the offending entry.
func (s *Spec) compile() (source, target matcher.Matchers, err error) {
	var errs []error
	parse := func(field string, list []string) matcher.Matchers {
		if len(list) == 0 {
			errs = append(errs, content.FieldErrorf(field, "at least one matcher is required"))
			return nil
		}
		out := make(matcher.Matchers, 0, len(list))
		for i, m := range list {
			pm, err := matcher.Parse(m)
			if err != nil {
				errs = append(errs, &content.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Err: err})
				continue
			}
			out = append(out, pm)
		}
		return out
	}
	source = parse("source_matchers", s.SourceMatchers)
	target = parse("target_matchers", s.TargetMatchers)
	if len(source) > 0 && len(source) == len(s.SourceMatchers) && source.MatchesEmpty() {
		errs = append(errs, content.FieldErrorf("source_matchers", "%s would let every alert inhibit; add a matcher that requires a value, e.g. alertname=\"InstanceDown\"", source))
	}
	for i, name := range s.Equal {
		switch {
		case strings.TrimSpace(name) == "":
			errs = append(errs, content.FieldErrorf(fmt.Sprintf("equal[%d]", i), "label name is empty"))
		case slices.Contains(s.Equal[:i], name):
			errs = append(errs, content.FieldErrorf(fmt.Sprintf("equal[%d]", i), "label %q is listed twice", name))
		}
	}
	return source, target, errors.Join(errs...)
}
