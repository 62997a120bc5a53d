// Package application holds the Application content kind: a named group of
// the resources that make one service (AWS AppRegistry-like), with its
// environment, criticality, owners and the applications it depends on.
//
// Correlation (internal/correlate) asks a Catalog which application an
// event belongs to and which applications are linked to it by a
// dependency, so that a database outage and its dependants' symptoms join
// one OpsItem whose probable root cause is the upstream. docs/correlation.md
// is the user's page.
package application

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/matcher"
)

// KindName is the content kind of applications.
const KindName = "Application"

// Environments an application may declare.
var environments = []string{"dev", "stage", "prod"}

// Criticalities, least to most critical.
var criticalities = []string{"low", "medium", "high", "critical"}

// Spec is an Application document's spec.
type Spec struct {
	// Environment is dev, stage or prod.
	Environment string `yaml:"environment"`
	// Criticality is low, medium, high or critical.
	Criticality string `yaml:"criticality"`
	// Owners are the people or teams who answer for it.
	Owners []string `yaml:"owners"`
	// Resources select the application's events; an event belongs to the
	// application when any selector matches it.
	Resources []Selector `yaml:"resources"`
	// DependsOn names the applications this one needs.
	DependsOn []string `yaml:"depends_on"`
}

// Selector picks events by their labels (Alertmanager matchers over the
// event's labels, as silences use: `service="orders"`,
// `app.kubernetes.io/name=~"orders-.*"`), by AWS tags (the event's
// `tag:KEY` labels; inventory tags are not consulted yet) or by resource id (an event's resources, or its
// `instance` label without the port). All parts given must match.
type Selector struct {
	Matchers []string          `yaml:"matchers"`
	Tags     map[string]string `yaml:"tags"`
	IDs      []string          `yaml:"ids"`
}

// Kind returns the Application content kind.
func Kind() content.Kind {
	return content.Kind{
		Name: KindName,
		New:  func() any { return &Spec{Environment: "prod", Criticality: "medium"} },
		Validate: func(spec any) error {
			_, err := compileSpec(spec.(*Spec))
			return err
		},
	}
}

type selector struct {
	ms   matcher.Matchers
	tags map[string]string
	ids  []string
}

func compileSpec(s *Spec) ([]selector, error) {
	var errs []error
	if !slices.Contains(environments, s.Environment) {
		errs = append(errs, content.FieldErrorf("environment", "%q is not one of %s", s.Environment, strings.Join(environments, ", ")))
	}
	if !slices.Contains(criticalities, s.Criticality) {
		errs = append(errs, content.FieldErrorf("criticality", "%q is not one of %s", s.Criticality, strings.Join(criticalities, ", ")))
	}
	if len(s.Resources) == 0 {
		errs = append(errs, content.FieldErrorf("resources", "is empty; an application needs at least one selector"))
	}
	var out []selector
	for i, r := range s.Resources {
		f := "resources[" + strconv.Itoa(i) + "]"
		if len(r.Matchers) == 0 && len(r.Tags) == 0 && len(r.IDs) == 0 {
			errs = append(errs, content.FieldErrorf(f, "selects nothing; give matchers, tags or ids"))
			continue
		}
		ms, err := matcher.ParseAll(r.Matchers)
		if err != nil {
			errs = append(errs, &content.FieldError{Field: f + ".matchers", Err: err})
			continue
		}
		if len(r.Matchers) > 0 && ms.MatchesEmpty() {
			errs = append(errs, content.FieldErrorf(f+".matchers", "match events without any label; name a label value"))
		}
		out = append(out, selector{ms: ms, tags: r.Tags, ids: r.IDs})
	}
	for i, d := range s.DependsOn {
		if d == "" {
			errs = append(errs, content.FieldErrorf("depends_on["+strconv.Itoa(i)+"]", "is empty"))
		} else if slices.Index(s.DependsOn, d) < i {
			errs = append(errs, content.FieldErrorf("depends_on["+strconv.Itoa(i)+"]", "%q is listed twice", d))
		}
	}
	return out, errors.Join(errs...)
}

// CheckRefs is a cross-document check: depends_on names applications the
// set defines, and no application depends on itself through others.
func CheckRefs(set *content.Set) error {
	var errs []error
	deps := map[string][]string{}
	for _, it := range set.Items(KindName) {
		spec, ok := it.Spec.(*Spec)
		if !ok {
			continue
		}
		deps[it.Name] = spec.DependsOn
		for i, d := range spec.DependsOn {
			if !set.Defined(KindName, d) {
				errs = append(errs, &content.Error{Origin: it.Origin,
					Msg: fmt.Sprintf("Application %q: spec.depends_on[%d]: no Application %q", it.Name, i, d)})
			}
		}
	}
	for _, it := range set.Items(KindName) {
		if path := cycle(deps, it.Name); path != nil {
			errs = append(errs, &content.Error{Origin: it.Origin,
				Msg: fmt.Sprintf("Application %q: spec.depends_on makes a cycle: %s", it.Name, strings.Join(path, " -> "))})
		}
	}
	return errors.Join(errs...)
}

// cycle returns a dependency path from name back to name, or nil.
func cycle(deps map[string][]string, name string) []string {
	seen := map[string]bool{}
	var walk func(n string, path []string) []string
	walk = func(n string, path []string) []string {
		for _, d := range deps[n] {
			if d == name {
				return append(append(path, n), d)
			}
			if !seen[d] {
				seen[d] = true
				if p := walk(d, append(path, n)); p != nil {
					return p
				}
			}
		}
		return nil
	}
	return walk(name, nil)
}

// App is one compiled application.
type App struct {
	Name string
	// Tenant is the tenant the application belongs to; "" is every tenant.
	Tenant      string
	Environment string
	Criticality string
	Owners      []string
	DependsOn   []string
	sel         []selector
}

// Catalog is a compiled set of applications; immutable, safe for
// concurrent use. A nil Catalog has no applications.
type Catalog struct {
	apps   []*App // by name
	byName map[string]*App
	// dependants: name -> applications that depend on it
	dependants map[string][]string
}

// Compile compiles Application items (content.Set.Items(KindName)).
func Compile(items []content.Item) (*Catalog, error) {
	c := &Catalog{byName: map[string]*App{}, dependants: map[string][]string{}}
	var errs []error
	for _, it := range items {
		spec, ok := it.Spec.(*Spec)
		if it.Kind != KindName || !ok {
			errs = append(errs, fmt.Errorf("%s: %s %q is not an %s", it.Origin, it.Kind, it.Name, KindName))
			continue
		}
		sel, err := compileSpec(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %q: %w", it.Origin, KindName, it.Name, err))
			continue
		}
		a := &App{Name: it.Name, Tenant: it.Tenant, Environment: spec.Environment, Criticality: spec.Criticality,
			Owners: slices.Clone(spec.Owners), DependsOn: slices.Clone(spec.DependsOn), sel: sel}
		c.apps = append(c.apps, a)
		c.byName[a.Name] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(c.apps, func(a, b *App) int { return strings.Compare(a.Name, b.Name) })
	for _, a := range c.apps {
		for _, d := range a.DependsOn {
			c.dependants[d] = append(c.dependants[d], a.Name)
		}
	}
	return c, nil
}

// Len is the number of applications.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.apps)
}

// Get returns an application by name.
func (c *Catalog) Get(name string) (*App, bool) {
	if c == nil {
		return nil, false
	}
	a, ok := c.byName[name]
	return a, ok
}

// Of returns the application a tenant's event e belongs to: the first by
// name, of the tenant's own and the shared ones, whose selectors match it.
func (c *Catalog) Of(tenant string, e *event.Event) (*App, bool) {
	if c.Len() == 0 {
		return nil, false
	}
	labels := matcher.EventLabels(e)
	for _, a := range c.apps {
		if (a.Tenant == "" || a.Tenant == tenant) && a.matches(e, labels) {
			return a, true
		}
	}
	return nil, false
}

func (a *App) matches(e *event.Event, labels map[string]string) bool {
	for _, s := range a.sel {
		if s.matches(e, labels) {
			return true
		}
	}
	return false
}

func (s selector) matches(e *event.Event, labels map[string]string) bool {
	if len(s.ms) > 0 && !s.ms.Matches(labels) {
		return false
	}
	for k, v := range s.tags {
		if labels["tag:"+k] != v {
			return false
		}
	}
	if len(s.ids) > 0 && !slices.ContainsFunc(eventIDs(e), func(id string) bool { return slices.Contains(s.ids, id) }) {
		return false
	}
	return true
}

// eventIDs are the ids an event names: its resources' and its instance
// label's host (without the port).
func eventIDs(e *event.Event) []string {
	var ids []string
	for _, r := range e.Resources {
		ids = append(ids, r.ID)
	}
	if in := e.Labels["instance"]; in != "" {
		host, _, _ := strings.Cut(in, ":")
		ids = append(ids, host)
	}
	return ids
}

// Upstream returns every application name depends on, directly or not,
// with its distance (1 for a direct dependency).
func (c *Catalog) Upstream(name string) map[string]int {
	return c.walk(name, func(a string) []string {
		if x, ok := c.Get(a); ok {
			return x.DependsOn
		}
		return nil
	})
}

// Downstream returns every application that depends on name, directly or
// not, with its distance.
func (c *Catalog) Downstream(name string) map[string]int {
	if c == nil {
		return nil
	}
	return c.walk(name, func(a string) []string { return c.dependants[a] })
}

func (c *Catalog) walk(name string, next func(string) []string) map[string]int {
	out := map[string]int{}
	frontier := []string{name}
	for d := 1; len(frontier) > 0; d++ {
		var nf []string
		for _, n := range frontier {
			for _, m := range next(n) {
				if _, ok := out[m]; !ok && m != name {
					out[m] = d
					nf = append(nf, m)
				}
			}
		}
		frontier = nf
	}
	return out
}
