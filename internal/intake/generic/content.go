package generic

import (
	"github.com/flywheel-ops/flywheel/internal/content"
)

// KindName is the content kind of user-defined intake mappings.
const KindName = "IntakeMapping"

// Kind returns the IntakeMapping content kind: a Mapping whose name is the
// document's metadata.name (a `name` in the spec is ignored in favour of it).
// Every expression is compiled at load, so a typo is a load error naming the
// field.
func Kind() content.Kind {
	return content.Kind{
		Name: KindName,
		New:  func() any { return new(Mapping) },
		Validate: func(spec any) error {
			m := *spec.(*Mapping)
			if m.Name == "" {
				m.Name = "mapping"
			}
			_, err := New(m)
			return err
		},
	}
}

// MappingsFrom returns the mappings of IntakeMapping items, named by their
// metadata, in name order.
func MappingsFrom(items []content.Item) []Mapping {
	out := make([]Mapping, 0, len(items))
	for _, it := range items {
		m := *it.Spec.(*Mapping)
		m.Name = it.Name
		out = append(out, m)
	}
	return out
}
