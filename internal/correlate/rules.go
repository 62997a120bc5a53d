package correlate

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// Rule is one compiled correlation rule. Its fields are read-only.
type Rule struct {
	Name        string
	Description string
	// Tenant is the tenant the rule applies to; empty means every tenant.
	Tenant string
	Origin content.Origin

	Priority int
	// Filter, GroupBy and TitleExpr are the expressions' source text, for
	// display; "" for none.
	Filter    string
	GroupBy   []string
	TitleExpr string
	// FixedCategory is the rule's category, or "" to derive it from the
	// event's kind; Category answers for one event.
	FixedCategory string

	Window   time.Duration
	MaxSpan  time.Duration
	Hold     time.Duration
	Resolve  Resolve
	Flapping Flapping
	// HoldSeverities limits Hold to these severities (empty: all); use
	// HoldFor rather than Hold to ask about one event.
	HoldSeverities []event.Severity
	// Applications: events of a declared Application group by it.
	Applications bool

	c *compiled
}

// FallbackName names the rule Compile adds when the content has no rule
// that matches every event (someone overrode the library's catch-all with
// a filter). No content item can have this name.
const FallbackName = "<fallback>"

// fallback groups by fingerprint with the default timing.
func fallback() *Rule {
	return &Rule{
		Name:        FallbackName,
		Description: "Added by Flywheel: no correlation rule matches every event, so unmatched events group by fingerprint.",
		Priority:    0,
		Window:      DefaultWindow,
		MaxSpan:     DefaultMaxSpan,
		Resolve:     ResolveAll,
		c:           &compiled{},
	}
}

// Rules is a compiled rule set. It is immutable and safe for concurrent use.
type Rules struct {
	rules   []*Rule // in match order
	byName  map[string]*Rule
	tenants map[string]*Rules // each tenant's view: its own rules and the shared ones
	apps    *application.Catalog
	tenant  string // the view's tenant ("" for the shared set)
}

// WithApplications returns the rule set seeing the applications of c: a
// tenant's events read their application as event.application, and rules
// with `applications: true` group them by it.
func (rs *Rules) WithApplications(c *application.Catalog) *Rules {
	out := *rs
	out.apps = c
	out.tenants = make(map[string]*Rules, len(rs.tenants))
	for t, v := range rs.tenants {
		vv := *v
		vv.apps, vv.tenant = c, t
		out.tenants[t] = &vv
	}
	return &out
}

// Compile compiles correlation rule items (content.Set.Items(KindName))
// into a rule set. Items that are not CorrelationRules are an error. If no
// rule without a tenant matches every event, the set gets FallbackName as
// its last rule, so Match always finds one.
func Compile(items []content.Item) (*Rules, error) {
	var (
		all  []*Rule
		errs []error
	)
	for _, it := range items {
		spec, ok := it.Spec.(*Spec)
		if it.Kind != KindName || !ok {
			errs = append(errs, fmt.Errorf("%s: %s %q is not a %s", it.Origin, it.Kind, it.Name, KindName))
			continue
		}
		c, err := compileSpec(spec)
		if err != nil {
			for _, e := range content.Errors(err) {
				errs = append(errs, fmt.Errorf("%s: %s %q: spec.%w", it.Origin, KindName, it.Name, e))
			}
			continue
		}
		all = append(all, &Rule{
			Name: it.Name, Description: it.Description, Tenant: it.Tenant, Origin: it.Origin,
			Priority: spec.Priority, Filter: spec.Filter, GroupBy: slices.Clone(spec.GroupBy),
			Window: spec.Window, MaxSpan: spec.MaxSpan, Hold: spec.Hold, Resolve: spec.Resolve,
			Flapping: spec.Flapping, HoldSeverities: slices.Clone(spec.HoldSeverities),
			TitleExpr: spec.Title, FixedCategory: spec.Category, Applications: spec.Applications, c: c,
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(all, func(a, b *Rule) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Name, b.Name))
	})

	// Names are one per tenant (a pack installed for two tenants has a
	// copy for each); a tenant's rule takes the place of a shared one of
	// the same name in its view.
	rs := &Rules{byName: map[string]*Rule{}, tenants: map[string]*Rules{}}
	seen := map[[2]string]bool{}
	for _, r := range all {
		k := [2]string{r.Tenant, r.Name}
		if seen[k] {
			return nil, fmt.Errorf("%s: %s %q is defined twice", r.Origin, KindName, r.Name)
		}
		seen[k] = true
		if r.Tenant == "" {
			rs.rules = append(rs.rules, r)
			rs.byName[r.Name] = r
		}
	}
	var fb *Rule
	if !slices.ContainsFunc(rs.rules, (*Rule).catchAll) {
		fb = fallback()
		rs.rules = append(rs.rules, fb)
		rs.byName[fb.Name] = fb
	}
	for _, r := range all {
		if r.Tenant == "" || rs.tenants[r.Tenant] != nil {
			continue
		}
		view := &Rules{byName: map[string]*Rule{}}
		for _, s := range all {
			if s.Tenant == r.Tenant || (s.Tenant == "" && !seen[[2]string{r.Tenant, s.Name}]) {
				view.rules = append(view.rules, s)
				view.byName[s.Name] = s
			}
		}
		if fb != nil {
			view.rules = append(view.rules, fb)
			view.byName[fb.Name] = fb
		}
		rs.tenants[r.Tenant] = view
	}
	return rs, nil
}

func (r *Rule) catchAll() bool { return r.c.filter == nil }

// ForTenant returns the rules that apply to tenant's events: the shared
// rules and the tenant's own (metadata.tenant), in match order.
func (rs *Rules) ForTenant(tenant string) *Rules {
	if v, ok := rs.tenants[tenant]; ok {
		return v
	}
	if rs.apps.Len() > 0 && rs.tenant != tenant {
		// The shared rules, seeing the tenant's applications.
		v := *rs
		v.tenant = tenant
		return &v
	}
	return rs
}

// List returns the rules Match tries, in order.
func (rs *Rules) List() []*Rule { return slices.Clone(rs.rules) }

// Rule returns a rule of this view by name (for settings of a group
// already recorded under that name: ForTenant(tenant).Rule(name)).
func (rs *Rules) Rule(name string) (*Rule, bool) {
	r, ok := rs.byName[name]
	return r, ok
}

// Match is where correlation placed an event.
type Match struct {
	Rule *Rule
	// GroupKey identifies the group within the rule: a hash of the rule's
	// name and the group_by values. The pipeline keys groups by rule name
	// and GroupKey.
	GroupKey string
	// GroupValues are the group_by values (the fingerprint for a rule
	// without group_by), for display: "why are these together?".
	GroupValues []string
	// EvalErrors are expressions that failed on this event: a filter that
	// failed counted as false, a group_by value that failed as "". The
	// match stands; log them so the rule's author can fix the rule.
	EvalErrors []error
	// Application is the declared Application the event belongs to, or "".
	Application string
	// Impact is that application's impact (nil without one).
	Impact *application.Impact
	// Why says what the event shares with the group's other members, for
	// the join's record: "same application orders", "same orders / eu-1".
	Why string
	// Links are other groups of the same rule the event joins when one is
	// open and its own is not: the groups of applications linked to the
	// event's by a dependency, upstream first, nearest first.
	Links []Link
	// Rank is how far upstream the event is: the number of applications
	// that depend on its own, directly or not. The member of an OpsItem
	// with the highest rank (then severity, then the earliest) is its
	// probable root cause.
	Rank int
}

// Link is another group an event may join, and why.
type Link struct {
	GroupKey string
	Why      string
}

// Match returns the first rule whose filter holds for e, and e's group
// under that rule. It fails only for a nil event: Compile guarantees a rule
// that matches everything.
func (rs *Rules) Match(e *event.Event) (Match, error) {
	if e == nil {
		return Match{}, errors.New("correlate: Match of a nil event")
	}
	act := newActivation(e)
	var app *application.App
	if a, ok := rs.apps.Of(rs.tenant, e); ok {
		app = a
		act.WithApplication(a.Name)
	}
	var errs []error
	for _, r := range rs.rules {
		if f := r.c.filter; f != nil {
			if f.sources != nil && !slices.Contains(f.sources, e.Source) {
				continue
			}
			ok, err := f.evalBool(act)
			if err != nil {
				errs = append(errs, &EvalError{Rule: r.Name, Field: "filter", Err: err})
				continue
			}
			if !ok {
				continue
			}
		}
		m := Match{Rule: r}
		if app != nil {
			m.Application = app.Name
			if im, ok := rs.apps.ImpactOf(app.Name); ok {
				m.Impact = &im
			}
		}
		if app != nil && r.Applications {
			rs.byApplication(&m, app)
		} else {
			m.GroupValues, errs = r.groupValues(act, e, errs)
			m.GroupKey = groupKey(r.Name, m.GroupValues)
			m.Why = why(m.GroupValues, len(r.c.groupBy) == 0)
		}
		m.EvalErrors = errs
		return m, nil
	}
	return Match{}, errors.New("correlate: no rule matched (the rule set has no catch-all)")
}

func (r *Rule) groupValues(act *activation, e *event.Event, errs []error) ([]string, []error) {
	if len(r.c.groupBy) == 0 {
		return []string{e.Fingerprint}, errs
	}
	vals := make([]string, len(r.c.groupBy))
	for i, p := range r.c.groupBy {
		v, err := p.evalString(act)
		if err != nil {
			errs = append(errs, &EvalError{Rule: r.Name, Field: fmt.Sprintf("group_by[%d]", i), Err: err})
		}
		vals[i] = v
	}
	return vals, errs
}

// byApplication groups m's event by its application and links it to the
// groups of the applications it depends on and that depend on it.
func (rs *Rules) byApplication(m *Match, app *application.App) {
	name := m.Rule.Name
	m.GroupValues = []string{"application", app.Name}
	m.GroupKey = groupKey(name, m.GroupValues)
	m.Why = "same application " + app.Name
	up, down := rs.apps.Upstream(app.Name), rs.apps.Downstream(app.Name)
	m.Rank = len(down)
	for _, l := range []struct {
		dist map[string]int
		why  func(other string) string
	}{
		{up, func(o string) string { return "application " + app.Name + " depends on " + o }},
		{down, func(o string) string { return "application " + o + " depends on " + app.Name }},
	} {
		others := make([]string, 0, len(l.dist))
		for o := range l.dist {
			others = append(others, o)
		}
		slices.SortFunc(others, func(a, b string) int { return cmp.Or(cmp.Compare(l.dist[a], l.dist[b]), cmp.Compare(a, b)) })
		for _, o := range others {
			w := l.why(o)
			if d := l.dist[o]; d > 1 {
				w += fmt.Sprintf(" (through %d dependencies)", d)
			}
			m.Links = append(m.Links, Link{GroupKey: groupKey(name, []string{"application", o}), Why: w})
		}
	}
}

// why describes a group by its values: "same orders / eu-1", or "same
// alert" for a group by fingerprint.
func why(values []string, byFingerprint bool) string {
	if byFingerprint {
		return "same alert"
	}
	var vs []string
	for _, v := range values {
		if v != "" {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return "same group"
	}
	return "same " + strings.Join(vs, " / ")
}

// groupKey hashes the rule name and values, each length-prefixed so that
// no two different lists of values encode alike.
func groupKey(rule string, values []string) string {
	var stack [256]byte
	b := binary.AppendUvarint(stack[:0], uint64(len(rule)))
	b = append(b, rule...)
	for _, v := range values {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// EvalError is an expression that failed on one event.
type EvalError struct {
	Rule  string // rule name
	Field string // "filter", "group_by[1]", "title"
	Err   error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("correlation rule %s: spec.%s: %v", e.Rule, e.Field, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// Title is the title of an OpsItem the rule opens with e as its first
// event: the rule's title expression, or e's own title when the rule has
// none or it fails or comes out empty.
func (r *Rule) Title(e *event.Event) string {
	if r.c.title == nil {
		return e.Title
	}
	s, err := r.c.title.evalString(newActivation(e))
	if err != nil || s == "" {
		return e.Title
	}
	return s
}

// Category is the OpsItem category for a group the rule opens with e: the
// rule's category, or DefaultCategory of e's kind.
func (r *Rule) Category(e *event.Event) string {
	if r.FixedCategory != "" {
		return r.FixedCategory
	}
	return DefaultCategory(e.Kind)
}

// HoldFor is how long a new group opened by e waits before its OpsItem
// opens: Hold, or 0 when HoldSeverities leaves out e's severity.
func (r *Rule) HoldFor(e *event.Event) time.Duration {
	if len(r.HoldSeverities) > 0 && !slices.Contains(r.HoldSeverities, e.Severity) {
		return 0
	}
	return r.Hold
}

// DefaultCategory is the OpsItem category for an event kind when the rule
// sets none: findings are security, compliance is guardrails, health is
// service, changes are operations, and alerts (and anything else) are
// monitoring.
func DefaultCategory(k event.Kind) string {
	switch k {
	case event.KindFinding:
		return "security"
	case event.KindCompliance:
		return "guardrails"
	case event.KindHealth:
		return "service"
	case event.KindChange:
		return "operations"
	}
	return "monitoring"
}
