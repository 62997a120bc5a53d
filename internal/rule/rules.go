package rule

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Rule is one compiled automation rule. Its fields are read-only.
type Rule struct {
	Name        string
	Description string
	// Tenant is the tenant the rule applies to; empty means every tenant.
	Tenant string
	Origin content.Origin

	Priority int
	// When, Parameters, Targets are the expressions' source text.
	When string
	// Schedule and Timezone are set for a scheduled rule (When is then
	// empty): it runs on Schedule, not on events.
	Schedule, Timezone string
	Runbook            string
	Mode               runbook.Mode
	Parameters         map[string]string
	Targets            string
	// Approvers may approve a run in approval or suggest mode (empty:
	// operators).
	Approvers []string
	Set       SetFields
	Notify    *Notify
	Suppress  bool

	RateLimit      RateLimit
	CircuitBreaker CircuitBreaker
	Cooldown       time.Duration
	Stop           bool
	Escalate       Escalate

	c     *compiled
	tests []TestSpec
}

// Acts reports whether the rule does something beyond classifying the
// OpsItem (set, suppress): runs or suggests a runbook, or notifies. Only
// acting is rate-limited and loop-guarded.
func (r *Rule) Acts() bool { return r.Runbook != "" || r.Notify != nil }

// Rules is a compiled rule set. It is immutable and safe for concurrent use.
type Rules struct {
	rules   []*Rule // shared rules, in evaluation order
	byName  map[string]*Rule
	tenants map[string]*Rules // each tenant's view: its own rules and the shared ones
}

// Compile compiles Rule items (content.Set.Items(KindName)) into a rule
// set. Items that are not Rules are an error.
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
		t := spec.Then
		var notify *Notify
		if t.Notify != nil {
			n := *t.Notify
			notify = &n
		}
		all = append(all, &Rule{
			Name: it.Name, Description: it.Description, Tenant: it.Tenant, Origin: it.Origin,
			Priority: spec.Priority, When: spec.When.Expr, Schedule: spec.When.Schedule, Timezone: spec.When.Timezone, Runbook: t.Runbook, Mode: t.Mode,
			Parameters: maps.Clone(t.Parameters), Targets: t.Targets, Approvers: slices.Clone(t.Approvers), Set: t.Set, Notify: notify, Suppress: t.Suppress,
			RateLimit: spec.RateLimit, CircuitBreaker: spec.CircuitBreaker, Cooldown: spec.Cooldown, Stop: spec.Stop,
			Escalate: spec.Escalate, c: c, tests: spec.Tests,
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
		rs.tenants[r.Tenant] = view
	}
	return rs, nil
}

// ForTenant returns the rules that apply to tenant's events: the shared
// rules and the tenant's own (metadata.tenant), in evaluation order. The
// set Compile returns is the view of a tenant without rules of its own.
func (rs *Rules) ForTenant(tenant string) *Rules {
	if v, ok := rs.tenants[tenant]; ok {
		return v
	}
	return rs
}

// List returns the rules Evaluate tries, in order.
func (rs *Rules) List() []*Rule { return slices.Clone(rs.rules) }

// Rule returns a rule of this view by name.
func (rs *Rules) Rule(name string) (*Rule, bool) {
	r, ok := rs.byName[name]
	return r, ok
}

// Match is a rule whose condition held, with its expressions evaluated.
type Match struct {
	Rule *Rule
	// Parameters are the runbook's parameters, evaluated (nil without a
	// runbook).
	Parameters map[string]any
	// Targets are the evaluated targets expression; nil when the rule has
	// none (the runbook's own targeting applies).
	Targets []string
	// Message is the notification text (the OpsItem's title when the rule
	// has no message expression).
	Message string
	// Errors are the rule's expressions that failed on this event
	// (then.parameters.x, then.targets, then.notify.message). A match with
	// errors starts no runbook: its inputs would be wrong.
	Errors []error
}

// Evaluate returns the rules whose condition holds for the event and the
// OpsItem, in order, up to and including the first with stop (or
// suppress). It is pure: no I/O, no clock, no state. Either argument may
// be nil; its fields then read as empty. The second result lists the
// conditions that failed to evaluate (each counted as false), for the
// rule's author.
func (rs *Rules) Evaluate(ev *event.Event, o *store.OpsItem) ([]Match, []error) {
	return rs.evaluate(ev, o, true)
}

// Admits reports whether any rule's guard lets ev through — whether
// Evaluate could match it at all. It runs no CEL and allocates nothing.
func (rs *Rules) Admits(ev *event.Event) bool {
	for _, r := range rs.rules {
		if r.c.when != nil && r.c.when.guard.admits(ev) {
			return true
		}
	}
	return false
}

// evaluate is Evaluate; guarded says whether rules' guards may skip their
// conditions (tests compare both ways).
func (rs *Rules) evaluate(ev *event.Event, o *store.OpsItem, guarded bool) ([]Match, []error) {
	var (
		act  *activation // built for the first rule the guards let through
		out  []Match
		errs []error
	)
	for _, r := range rs.rules {
		if r.c.when == nil {
			continue // scheduled: runs on its schedule, not on events
		}
		if guarded && !r.c.when.guard.admits(ev) {
			continue
		}
		if act == nil {
			act = newActivation(ev, o)
		}
		ok, err := r.c.when.evalBool(act)
		if err != nil {
			errs = append(errs, &EvalError{Rule: r.Name, Field: "when", Err: err})
			continue
		}
		if !ok {
			continue
		}
		out = append(out, r.match(act, o))
		if r.Stop || r.Suppress {
			break
		}
	}
	return out, errs
}

func (r *Rule) match(act *activation, o *store.OpsItem) Match {
	m := Match{Rule: r}
	fail := func(field string, err error) {
		m.Errors = append(m.Errors, &EvalError{Rule: r.Name, Field: field, Err: err})
	}
	if r.Runbook != "" {
		m.Parameters = make(map[string]any, len(r.c.names))
		for _, name := range r.c.names {
			v, err := r.c.params[name].evalNative(act)
			if err != nil {
				fail("then.parameters."+name, err)
				continue
			}
			m.Parameters[name] = v
		}
		if r.c.targets != nil {
			ts, err := r.c.targets.evalStrings(act)
			if err != nil {
				fail("then.targets", err)
			}
			m.Targets = ts
		}
	}
	if r.Notify != nil {
		if o != nil {
			m.Message = o.Title
		}
		if r.c.message != nil {
			s, err := r.c.message.evalString(act)
			if err != nil {
				fail("then.notify.message", err)
			} else if s != "" {
				m.Message = s
			}
		}
	}
	return m
}

// Route returns the first match that names a runbook: where the event
// goes. ok is false when no rule routes it to a runbook.
func (rs *Rules) Route(ev *event.Event, o *store.OpsItem) (Match, bool) {
	ms, _ := rs.Evaluate(ev, o)
	for _, m := range ms {
		if m.Rule.Runbook != "" {
			return m, true
		}
	}
	return Match{}, false
}

// EvalError is an expression that failed on one event.
type EvalError struct {
	Rule  string // rule name
	Field string // "when", "then.parameters.instance_id", …
	Err   error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("rule %s: spec.%s: %v", e.Rule, e.Field, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }
