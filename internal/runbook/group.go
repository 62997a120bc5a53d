package runbook

import (
	"errors"
	"fmt"
	"slices"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// GroupKindName is the content kind of resource groups: a named set of
// inventory resources a runbook targets with `targets: {group: NAME}`.
const GroupKindName = "ResourceGroup"

// GroupSpec is a ResourceGroup document's spec. The group's members are the
// listed resources plus every inventory resource carrying all of Tags (of
// one of Types, when Types is given) at the moment a run resolves them.
type GroupSpec struct {
	Resources []string          `yaml:"resources"`
	Tags      map[string]string `yaml:"tags"`
	Types     []string          `yaml:"types"`
}

// GroupKind returns the ResourceGroup content kind.
func GroupKind() content.Kind {
	return content.Kind{
		Name: GroupKindName,
		New:  func() any { return new(GroupSpec) },
		Validate: func(spec any) error {
			s := spec.(*GroupSpec)
			if len(s.Resources) == 0 && len(s.Tags) == 0 {
				return errors.New("a resource group needs resources, tags or both")
			}
			if len(s.Types) > 0 && len(s.Tags) == 0 {
				return errors.New("types narrows the resources tags select: give tags too")
			}
			for i, id := range s.Resources {
				if id == "" {
					return fmt.Errorf("resources[%d] is empty", i)
				}
			}
			for k := range s.Tags {
				if k == "" {
					return errors.New("tags has an empty key")
				}
			}
			return nil
		},
	}
}

// Groups finds resource groups by tenant and name.
type Groups struct {
	set  *content.Set
	live func() *content.Set // NewLiveGroups: the content in force
}

// NewGroups returns the resource groups of set (nil: none).
func NewGroups(set *content.Set) Groups { return Groups{set: set} }

// NewLiveGroups returns the resource groups of the content current
// returns at each look-up, so a content reload reaches holders of Groups.
func NewLiveGroups(current func() *content.Set) Groups { return Groups{live: current} }

func (g Groups) content() *content.Set {
	if g.live != nil {
		return g.live()
	}
	return g.set
}

// Get returns the group name as tenant sees it: a group scoped to another
// tenant does not exist for it.
func (g Groups) Get(tenant, name string) (*GroupSpec, bool) {
	set := g.content()
	if set == nil {
		return nil, false
	}
	it, ok := set.Get(GroupKindName, name)
	if !ok || (it.Tenant != "" && it.Tenant != tenant) {
		return nil, false
	}
	return it.Spec.(*GroupSpec), true
}

// Selects reports whether a resource with type typ and tags is a member by
// the group's tag selector (the listed Resources are members regardless).
func (s *GroupSpec) Selects(typ string, tags map[string]string) bool {
	return len(s.Tags) > 0 && (len(s.Types) == 0 || slices.Contains(s.Types, typ)) && HasTags(tags, s.Tags)
}

// HasTags reports whether have carries every key of want with its value.
func HasTags(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// CheckGroupRefs: a runbook whose targets name a group defined nowhere
// fails at load, not at its first run.
func CheckGroupRefs(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(KindName) {
		s := it.Spec.(*Spec)
		if g := s.Targets.Group; g != "" && !set.Defined(GroupKindName, g) {
			errs = append(errs, &content.Error{Origin: it.Origin,
				Msg: fmt.Sprintf("Runbook %q: targets.group names resource group %q, which does not exist", it.Name, g)})
		}
	}
	return errors.Join(errs...)
}
