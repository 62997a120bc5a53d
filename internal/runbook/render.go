package runbook

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

// Render evaluates the step's inputs in s: an I/O action's with, or a
// control action's fields with templates rendered and conditions shown as
// written. It is what the executor hands to an action and what a dry run
// records.
func (st *Step) Render(ctx context.Context, s *Scope) (map[string]any, error) {
	if st.Control == nil {
		return st.With.RenderMap(ctx, s)
	}
	str := func(v *Value) (any, error) { return v.Render(ctx, s) }
	switch c := st.Control.(type) {
	case *Sleep:
		d, err := str(c.Duration)
		return map[string]any{"duration": d}, err
	case *WaitFor:
		with, err := c.ProbeWith.RenderMap(ctx, s)
		return map[string]any{"condition": c.Condition.String(), "probe": map[string]any{"action": c.Probe, "with": with},
			"interval": c.Interval.String(), "timeout": c.Timeout.String()}, err
	case *Approve:
		msg, err := str(c.Message)
		return map[string]any{"approvers": toAny(c.Approvers), "min_approvals": int64(c.MinApprovals),
			"timeout": c.Timeout.String(), "message": msg}, err
	case *Branch:
		var cases []any
		for _, cs := range c.Cases {
			cases = append(cases, map[string]any{"when": cs.When.String(), "goto": cs.Target})
		}
		return map[string]any{"cases": cases, "default": c.DefaultName}, nil
	case *Assert:
		msg, err := str(c.Message)
		return map[string]any{"that": c.That.String(), "message": msg}, err
	case *Collect:
		return map[string]any{"name": c.Name, "value": c.Value.String()}, nil
	case *Nested:
		p, err := c.Parameters.RenderMap(ctx, s)
		return map[string]any{"name": c.Runbook, "parameters": p}, err
	case *OpsItemUpdate:
		note, err := str(c.Note)
		if err != nil {
			return nil, err
		}
		sev, err := c.RenderSeverity(ctx, s)
		return map[string]any{"status": c.Status, "severity": sev, "note": note, "resolve": c.Resolve}, err
	}
	return nil, fmt.Errorf("step %s: unknown control %T", st.Name, st.Control)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// RenderedStep is one step of a dry run: the inputs it would get, for one
// target of a per-target step.
type RenderedStep struct {
	Index  int            `json:"index"`
	Step   string         `json:"step"`
	Action string         `json:"action"`
	Target string         `json:"target,omitempty"`
	With   map[string]any `json:"with"`
	// When is the step's condition when it could be evaluated now.
	When *bool `json:"when,omitempty"`
	// Note says what could not be rendered before the run (inputs that
	// use earlier steps' outputs); With then holds the inputs as written.
	Note string `json:"note,omitempty"`
}

// DryRun renders every step with the given scope (parameters, OpsItem,
// execution) for each of targets, running nothing. Inputs that depend on
// outputs of earlier steps cannot be known; those steps show their inputs
// as written, with a note.
func (rb *Runbook) DryRun(ctx context.Context, s Scope, targets []action.Target) []RenderedStep {
	var out []RenderedStep
	for _, st := range rb.Steps {
		tgts := []*action.Target{nil}
		if st.PerTarget {
			tgts = tgts[:0]
			for i := range targets {
				tgts = append(tgts, &targets[i])
			}
		}
		for _, t := range tgts {
			sc := s
			r := RenderedStep{Index: st.Index, Step: st.Name, Action: st.Action}
			if t != nil {
				r.Target = t.ID
				sc.Target = TargetScope(*t)
			}
			if st.When != nil {
				if ok, err := st.When.EvalBool(ctx, &sc); err == nil {
					r.When = &ok
				}
			}
			with, err := st.Render(ctx, &sc)
			if err != nil {
				r.Note = "not rendered before the run: " + err.Error()
				with = st.renderPartial(ctx, &sc)
			}
			r.With = with
			out = append(out, r)
		}
	}
	return out
}

// renderPartial renders each top-level input of an I/O step on its own,
// keeping those that fail as written.
func (st *Step) renderPartial(ctx context.Context, s *Scope) map[string]any {
	if st.With == nil || st.With.kind != mapValue {
		return st.SourceWith()
	}
	out := map[string]any{}
	for k, v := range st.With.m {
		r, err := v.Render(ctx, s)
		if err != nil {
			r = v.Source()
		}
		out[k] = r
	}
	return out
}

// SourceWith returns the step's with as written.
func (st *Step) SourceWith() map[string]any {
	if st.Source.With == nil {
		return map[string]any{}
	}
	return st.Source.With
}

// TargetScope is how expressions see a target.
func TargetScope(t action.Target) map[string]any {
	tags := map[string]any{}
	for k, v := range t.Tags {
		tags[k] = v
	}
	return map[string]any{"id": t.ID, "type": t.Type, "tags": tags}
}

// Library holds the compiled runbooks of a content set, by tenant and
// name: the shared ones under tenant "", a tenant's own (its packs,
// metadata.tenant) under its ID.
type Library struct {
	byName map[libKey]*Runbook
}

type libKey struct{ tenant, name string }

// NewLibrary compiles every Runbook item of set.
func NewLibrary(set *content.Set, actions ActionLookup) (*Library, error) {
	l := &Library{byName: map[libKey]*Runbook{}}
	if set == nil {
		return l, nil
	}
	var errs []error
	for _, it := range set.Items(KindName) {
		rb, err := FromItem(it, actions)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.Origin, err))
			continue
		}
		l.byName[libKey{it.Tenant, it.Name}] = rb
	}
	return l, errors.Join(errs...)
}

// LibraryOf builds a library from compiled runbooks (tests, tools).
func LibraryOf(rbs ...*Runbook) *Library {
	l := &Library{byName: map[libKey]*Runbook{}}
	for _, rb := range rbs {
		l.byName[libKey{rb.Tenant, rb.Name}] = rb
	}
	return l
}

// Get returns the runbook named name as tenant sees it: its own if it has
// one of that name, else the shared one; another tenant's never.
func (l *Library) Get(tenant, name string) (*Runbook, bool) {
	if l == nil {
		return nil, false
	}
	if tenant != "" {
		if rb, ok := l.byName[libKey{tenant, name}]; ok {
			return rb, true
		}
	}
	rb, ok := l.byName[libKey{"", name}]
	return rb, ok
}

// List returns the runbooks tenant may use, by name (its own in place of
// a shared one of the same name).
func (l *Library) List(tenant string) []*Runbook {
	if l == nil {
		return nil
	}
	var out []*Runbook
	for k, rb := range l.byName {
		if k.tenant == tenant && tenant != "" {
			out = append(out, rb)
		} else if k.tenant == "" {
			if _, own := l.byName[libKey{tenant, k.name}]; !own || tenant == "" {
				out = append(out, rb)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckRefs is a content set check: every nested runbook step names a
// runbook that exists, and nesting has no cycle.
func CheckRefs(set *content.Set) error {
	var errs []error
	edges := map[string][]string{}
	for _, it := range set.Items(KindName) {
		s := it.Spec.(*Spec)
		for i, st := range s.Steps {
			if st.Action != ActionRunbook {
				continue
			}
			name, _ := st.With["name"].(string)
			if name == "" {
				continue
			}
			edges[it.Name] = append(edges[it.Name], name)
			if !set.Defined(KindName, name) {
				errs = append(errs, &content.Error{Origin: it.Origin,
					Msg: fmt.Sprintf("Runbook %q: steps[%d] runs runbook %q, which does not exist", it.Name, i, name)})
			}
		}
	}
	for _, it := range set.Items(KindName) {
		if path := cycle(it.Name, edges, nil); path != nil {
			errs = append(errs, &content.Error{Origin: it.Origin,
				Msg: fmt.Sprintf("Runbook %q: nested runbooks form a cycle: %v", it.Name, path)})
		}
	}
	return errors.Join(errs...)
}

func cycle(name string, edges map[string][]string, stack []string) []string {
	for i, s := range stack {
		if s == name {
			if i == 0 {
				return append(append([]string(nil), stack...), name)
			}
			return nil // a cycle not through the start; reported for its own members
		}
	}
	stack = append(stack, name)
	for _, next := range edges[name] {
		if p := cycle(next, edges, stack); p != nil {
			return p
		}
	}
	return nil
}
