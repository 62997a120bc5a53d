package rule

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestSpec is one offline test of a rule.
type TestSpec struct {
	Name string `yaml:"name"`
	// Event is the normalized event, as `flywheel event list` shows it.
	Event TestEvent `yaml:"event"`
	// OpsItem is the OpsItem it reached; fields left out take the event's
	// (title, severity, source), status open and one occurrence.
	OpsItem TestOpsItem `yaml:"opsitem"`
	Expect  TestExpect  `yaml:"expect"`
}

// TestEvent is an event in a rule test.
type TestEvent struct {
	Source      string              `yaml:"source"`
	Kind        event.Kind          `yaml:"kind"`
	Severity    event.Severity      `yaml:"severity"`
	Status      event.Status        `yaml:"status"`
	Title       string              `yaml:"title"`
	Description string              `yaml:"description"`
	Labels      map[string]string   `yaml:"labels"`
	Annotations map[string]string   `yaml:"annotations"`
	Resources   []event.ResourceRef `yaml:"resources"`
	Fingerprint string              `yaml:"fingerprint"`
}

// TestOpsItem is the OpsItem in a rule test.
type TestOpsItem struct {
	Title       string `yaml:"title"`
	Category    string `yaml:"category"`
	Severity    string `yaml:"severity"`
	Status      string `yaml:"status"`
	Source      string `yaml:"source"`
	Occurrences int64  `yaml:"occurrences"`
}

// TestExpect is what a rule test asserts.
type TestExpect struct {
	// Match: whether the rule matches (after the rules before it, with
	// their stop); default true.
	Match *bool `yaml:"match"`
	// Parameters the rule passes; only those listed are compared.
	Parameters map[string]any `yaml:"parameters"`
	// Targets the rule passes, when it has a targets expression.
	Targets []string `yaml:"targets"`
	// Message is the notification text.
	Message string `yaml:"message"`
}

func checkTest(t *TestSpec, field string, s *Spec, fail func(string, error)) {
	e := &t.Event
	if e.Severity != "" && !e.Severity.Valid() {
		fail(field+".event.severity", fmt.Errorf("%q is not one of critical, high, medium, low, info", e.Severity))
	}
	if e.Status != "" && e.Status != event.StatusFiring && e.Status != event.StatusResolved {
		fail(field+".event.status", fmt.Errorf("%q is not firing or resolved", e.Status))
	}
	switch e.Kind {
	case "", event.KindAlert, event.KindFinding, event.KindChange, event.KindCompliance, event.KindHealth:
	default:
		fail(field+".event.kind", fmt.Errorf("%q is not one of alert, finding, change, compliance, health", e.Kind))
	}
	if o := t.OpsItem; o.Status != "" {
		fail(field+".opsitem.status", opsitem.ValidStatus(o.Status))
	}
	if o := t.OpsItem; o.Category != "" {
		fail(field+".opsitem.category", opsitem.ValidCategory(o.Category))
	}
	for name := range t.Expect.Parameters {
		if _, ok := s.Then.Parameters[name]; !ok {
			fail(field+".expect.parameters."+name, errors.New("is not one of the rule's parameters"))
		}
	}
	if len(t.Expect.Targets) > 0 && s.Then.Targets == "" {
		fail(field+".expect.targets", errors.New("is set but the rule has no targets expression"))
	}
	if t.Expect.Message != "" && s.Then.Notify == nil {
		fail(field+".expect.message", errors.New("is set but the rule does not notify"))
	}
}

func (t *TestSpec) event() *event.Event {
	e := t.Event
	ev := &event.Event{Source: e.Source, Kind: e.Kind, Severity: e.Severity, Status: e.Status, Title: e.Title,
		Description: e.Description, Labels: e.Labels, Annotations: e.Annotations, Resources: e.Resources, Fingerprint: e.Fingerprint}
	if ev.Status == "" {
		ev.Status = event.StatusFiring
	}
	return ev
}

func (t *TestSpec) opsItem(ev *event.Event) *store.OpsItem {
	o := t.OpsItem
	out := &store.OpsItem{ID: "oi_test", Title: o.Title, Category: o.Category, Severity: o.Severity, Status: o.Status,
		Source: o.Source, Occurrences: o.Occurrences}
	if out.Title == "" {
		out.Title = ev.Title
	}
	if out.Severity == "" {
		out.Severity = string(ev.Severity)
	}
	if out.Source == "" {
		out.Source = ev.Source
	}
	if out.Status == "" {
		out.Status = opsitem.StatusOpen
	}
	if out.Occurrences == 0 {
		out.Occurrences = 1
	}
	return out
}

// TestResult is the outcome of one rule test.
type TestResult struct {
	Rule   string
	Test   string
	Origin content.Origin
	// Err says what did not hold; nil when the test passed.
	Err error
}

// Test runs every rule's tests, each rule among the rules of its tenant
// (shared rules among the shared ones), and returns one result per test in
// rule order. It is offline and pure, like Evaluate.
func (rs *Rules) Test() []TestResult {
	var out []TestResult
	views := []*Rules{rs}
	for _, v := range rs.tenants {
		views = append(views, v)
	}
	seen := map[*Rule]bool{} // a shared rule is in every view; tested once
	for _, view := range views {
		for _, r := range view.rules {
			if seen[r] {
				continue
			}
			seen[r] = true
			for i := range r.tests {
				t := &r.tests[i]
				name := t.Name
				if name == "" {
					name = fmt.Sprintf("tests[%d]", i)
				}
				out = append(out, TestResult{Rule: r.Name, Test: name, Origin: r.Origin, Err: view.runTest(r, t)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b TestResult) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Origin.Source, b.Origin.Source))
	})
	return out
}

func (rs *Rules) runTest(r *Rule, t *TestSpec) error {
	ev := t.event()
	o := t.opsItem(ev)
	ms, evalErrs := rs.Evaluate(ev, o)
	want := t.Expect.Match == nil || *t.Expect.Match
	i := slices.IndexFunc(ms, func(m Match) bool { return m.Rule == r })
	switch {
	case i < 0 && want:
		for _, e := range evalErrs {
			var ee *EvalError
			if errors.As(e, &ee) && ee.Rule == r.Name {
				return fmt.Errorf("does not match: %w", e)
			}
		}
		if len(ms) > 0 && (ms[len(ms)-1].Rule.Stop || ms[len(ms)-1].Rule.Suppress) && rs.before(ms[len(ms)-1].Rule, r) {
			return fmt.Errorf("does not match: rule %s matched first and stops evaluation", ms[len(ms)-1].Rule.Name)
		}
		return errors.New("does not match: its condition is false")
	case i >= 0 && !want:
		return errors.New("matches, but the test expects it not to")
	case i < 0:
		return nil
	}
	m := ms[i]
	var errs []error
	if len(m.Errors) > 0 {
		errs = append(errs, m.Errors...)
	}
	for name, wantV := range t.Expect.Parameters {
		got, ok := m.Parameters[name]
		if !ok || !sameValue(got, wantV) {
			errs = append(errs, fmt.Errorf("parameter %s = %s, want %s", name, jsonText(got), jsonText(wantV)))
		}
	}
	if t.Expect.Targets != nil && !slices.Equal(m.Targets, t.Expect.Targets) {
		errs = append(errs, fmt.Errorf("targets = %q, want %q", m.Targets, t.Expect.Targets))
	}
	if t.Expect.Message != "" && m.Message != t.Expect.Message {
		errs = append(errs, fmt.Errorf("message = %q, want %q", m.Message, t.Expect.Message))
	}
	return errors.Join(errs...)
}

// before reports whether a comes before b in evaluation order.
func (rs *Rules) before(a, b *Rule) bool {
	return slices.Index(rs.rules, a) < slices.Index(rs.rules, b)
}

// sameValue compares a parameter with its expected value as JSON, so a
// YAML 1 equals a CEL int64 1 and a timestamp its RFC 3339 text.
func sameValue(got, want any) bool { return jsonText(got) == jsonText(want) }

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
