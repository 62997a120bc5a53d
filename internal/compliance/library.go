package compliance

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// Library is the compiled ConfigRules and ConformancePacks of a content
// set; immutable and safe for concurrent use.
type Library struct {
	rules map[ruleKey]*Rule // shared rules under tenant ""
	packs map[string]packDef
}

type ruleKey struct{ tenant, name string }

type packDef struct {
	name, description, tenant string
	spec                      *PackSpec
}

// NewLibrary compiles set's rules and packs. The set has passed CheckRefs
// at load; references that are still missing (a document that failed to
// load) leave their rule out of the pack.
func NewLibrary(set *content.Set) (*Library, error) {
	l := &Library{rules: map[ruleKey]*Rule{}, packs: map[string]packDef{}}
	var errs []error
	for _, it := range set.Items(RuleKindName) {
		spec, ok := it.Spec.(*RuleSpec)
		if !ok {
			continue
		}
		r, err := compileRule(it.Name, spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %q: %w", it.Origin, RuleKindName, it.Name, err))
			continue
		}
		r.Description, r.Tenant = it.Description, it.Tenant
		l.rules[ruleKey{it.Tenant, it.Name}] = r
	}
	for _, it := range set.Items(PackKindName) {
		if spec, ok := it.Spec.(*PackSpec); ok {
			l.packs[it.Name] = packDef{name: it.Name, description: it.Description, tenant: it.Tenant, spec: spec}
		}
	}
	return l, errors.Join(errs...)
}

// Rule returns a compiled shared rule by name.
func (l *Library) Rule(name string) (*Rule, bool) { return l.RuleFor("", name) }

// RuleFor returns the rule named name as tenant sees it: its own (a pack
// installed for it), else the shared one.
func (l *Library) RuleFor(tenant, name string) (*Rule, bool) {
	if r, ok := l.rules[ruleKey{tenant, name}]; ok {
		return r, true
	}
	r, ok := l.rules[ruleKey{"", name}]
	return r, ok
}

// Pack is a conformance pack as one tenant sees it: tailoring applied.
type Pack struct {
	Name        string
	Description string
	// Tenant is the tenant of a tailored pack; "" for a shared one.
	Tenant    string
	Framework string
	// Base is the shared pack a tailored one replaces.
	Base  string
	Rules []PackRule
}

// PackRule is one rule of a pack with its effective parameters and the
// control ids it is reported under in the pack.
type PackRule struct {
	Rule     *Rule
	Params   map[string]any
	Controls []string
}

// Packs returns the packs that apply to tenant, sorted by name: the
// shared packs, each replaced by the tenant's tailoring of it if any, and
// the tenant's own.
func (l *Library) Packs(tenant string) []*Pack {
	replaced := map[string]bool{}
	for _, d := range l.packs {
		if d.tenant == tenant && tenant != "" && d.spec.Base != "" {
			replaced[d.spec.Base] = true
		}
	}
	var out []*Pack
	for _, d := range l.packs {
		if (d.tenant == "" && d.spec.Base == "" && !replaced[d.name]) || (tenant != "" && d.tenant == tenant) {
			out = append(out, l.resolve(d, tenant))
		}
	}
	slices.SortFunc(out, func(a, b *Pack) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PackNames lists every pack of every tenant, sorted.
func (l *Library) PackNames() []string {
	return slices.Sorted(maps.Keys(l.packs))
}

// resolve builds a pack as tenant sees it.
func (l *Library) resolve(d packDef, tenant string) *Pack {
	p := &Pack{Name: d.name, Description: d.description, Tenant: d.tenant, Framework: d.spec.Framework, Base: d.spec.Base}
	names := d.spec.Rules
	overrides := []map[string]map[string]any{d.spec.Parameters}
	disabled := d.spec.DisabledRules
	if base, ok := l.packs[d.spec.Base]; ok && d.spec.Base != "" {
		names = append(slices.Clone(base.spec.Rules), names...)
		overrides = []map[string]map[string]any{base.spec.Parameters, d.spec.Parameters}
		if p.Framework == "" {
			p.Framework = base.spec.Framework
		}
		if p.Description == "" {
			p.Description = base.description
		}
	}
	seen := map[string]bool{}
	for _, name := range names {
		r, ok := l.RuleFor(tenant, name)
		if !ok || seen[name] || slices.Contains(disabled, name) {
			continue
		}
		seen[name] = true
		params := maps.Clone(r.Parameters)
		if params == nil {
			params = map[string]any{}
		}
		for _, o := range overrides {
			maps.Copy(params, o[name])
		}
		controls := frameworkControls(r.Controls, p.Framework)
		if len(controls) == 0 {
			continue // CheckRefs reported it
		}
		p.Rules = append(p.Rules, PackRule{Rule: r, Params: params, Controls: controls})
	}
	return p
}
