package correlate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
)

// KindName is the content kind of correlation rules.
const KindName = "CorrelationRule"

// Spec is a CorrelationRule document's spec. docs/correlation.md describes
// each field for users.
type Spec struct {
	// Priority orders rules, highest first; ties go by name.
	Priority int `yaml:"priority"`
	// Filter is a CEL bool over `event`; empty matches every event.
	Filter string `yaml:"filter"`
	// GroupBy are CEL expressions whose values make the group key; empty
	// groups by the event's fingerprint.
	GroupBy []string `yaml:"group_by"`
	// Window: an event joins an open group whose last event is at most this
	// much older (in event time).
	Window time.Duration `yaml:"window"`
	// MaxSpan: a group never lasts longer than this from its first event.
	MaxSpan time.Duration `yaml:"max_span"`
	// Title is a CEL string over the group's first event; empty uses the
	// event's own title.
	Title string `yaml:"title"`
	// Category is one of the nine OpsItem categories; empty derives it from
	// the event's kind (DefaultCategory).
	Category string `yaml:"category"`
	// Resolve says when the OpsItem resolves as its members resolve.
	Resolve Resolve `yaml:"resolve"`
	// Hold delays opening a new group (transient auto-pause).
	Hold time.Duration `yaml:"hold"`
	// HoldSeverities limits Hold to events of these severities; empty holds
	// every event.
	HoldSeverities []event.Severity `yaml:"hold_severities"`
	// Flapping marks an alert flapping after too many state changes.
	Flapping Flapping `yaml:"flapping"`
	// Applications: an event of a declared Application groups by its
	// application instead of group_by, and joins the open group of an
	// application linked to its own by a dependency (see Match.Links).
	Applications bool `yaml:"applications"`
}

// Resolve is when a group's OpsItem resolves.
type Resolve string

const (
	// ResolveAll resolves the OpsItem when every member has resolved.
	ResolveAll Resolve = "all"
	// ResolveAny resolves it when any member resolves.
	ResolveAny Resolve = "any"
	// ResolveManual leaves it to a person or a runbook.
	ResolveManual Resolve = "manual"
)

// Flapping: more than Changes state changes of one fingerprint within
// Window mark it flapping. Changes 0 turns detection off.
type Flapping struct {
	Changes int           `yaml:"changes"`
	Window  time.Duration `yaml:"window"`
}

// Defaults for fields a rule leaves out.
const (
	DefaultWindow  = 5 * time.Minute
	DefaultMaxSpan = 4 * time.Hour
)

// minDuration is the smallest non-zero duration a rule may set: event
// times are no finer, and "300ms" for a window is surely a slip.
const minDuration = time.Second

// maxGroupBy bounds group_by; real keys use two to four values.
const maxGroupBy = 16

// Kind returns the CorrelationRule content kind. Its Validate checks
// everything Compile would, compiling every expression, so content that
// loads always compiles.
func Kind() content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      KindName,
		New: func() any {
			return &Spec{Window: DefaultWindow, MaxSpan: DefaultMaxSpan, Resolve: ResolveAll}
		},
		Validate: func(spec any) error {
			_, err := compileSpec(spec.(*Spec))
			return err
		},
	}
}

// compiled is a spec's compiled expressions.
type compiled struct {
	filter  *program // nil: every event
	groupBy []*program
	title   *program // nil: the event's title
}

// compileSpec validates s and compiles its expressions. Its errors are
// *content.FieldError values naming the field, joined.
func compileSpec(s *Spec) (*compiled, error) {
	var (
		c    compiled
		errs []error
	)
	fail := func(field string, err error) {
		for _, e := range content.Errors(err) {
			errs = append(errs, &content.FieldError{Field: field, Err: e})
		}
	}
	if s.Filter != "" {
		p, err := compile(s.Filter, cel.BoolType)
		fail("filter", err)
		c.filter = p
	}
	if len(s.GroupBy) > maxGroupBy {
		fail("group_by", fmt.Errorf("has %d expressions; at most %d", len(s.GroupBy), maxGroupBy))
	}
	for i, src := range s.GroupBy {
		p, err := compile(src, cel.StringType, cel.IntType, cel.UintType, cel.DoubleType, cel.BoolType,
			cel.OptionalType(cel.DynType))
		fail("group_by["+strconv.Itoa(i)+"]", err)
		c.groupBy = append(c.groupBy, p)
	}
	if s.Title != "" {
		p, err := compile(s.Title, cel.StringType)
		fail("title", err)
		c.title = p
	}

	if s.Window < minDuration {
		fail("window", fmt.Errorf("%s is too short; at least %s", s.Window, minDuration))
	}
	if s.MaxSpan < s.Window {
		fail("max_span", fmt.Errorf("%s is shorter than window (%s)", s.MaxSpan, s.Window))
	}
	if s.Category != "" {
		fail("category", opsitem.ValidCategory(s.Category))
	}
	switch s.Resolve {
	case ResolveAll, ResolveAny, ResolveManual:
	default:
		fail("resolve", fmt.Errorf("%q is not one of all, any, manual", s.Resolve))
	}
	switch {
	case s.Hold < 0 || (s.Hold > 0 && s.Hold < minDuration):
		fail("hold", fmt.Errorf("%s is not 0 or at least %s", s.Hold, minDuration))
	case s.Hold > s.MaxSpan:
		fail("hold", fmt.Errorf("%s is longer than max_span (%s)", s.Hold, s.MaxSpan))
	}
	for i, sev := range s.HoldSeverities {
		if !sev.Valid() {
			fail("hold_severities["+strconv.Itoa(i)+"]", fmt.Errorf("%q is not one of %s", sev, "critical, high, medium, low, info"))
		} else if slices.Index(s.HoldSeverities, sev) < i {
			fail("hold_severities["+strconv.Itoa(i)+"]", fmt.Errorf("%q is listed twice", sev))
		}
	}
	if len(s.HoldSeverities) > 0 && s.Hold == 0 {
		fail("hold_severities", errors.New("is set but hold is 0"))
	}
	switch f := s.Flapping; {
	case f.Changes < 0:
		fail("flapping.changes", fmt.Errorf("%d is negative; 0 turns flapping detection off", f.Changes))
	case f.Changes == 0 && f.Window != 0:
		fail("flapping.window", errors.New("is set but flapping.changes is 0"))
	case f.Changes > 0 && f.Window < minDuration:
		fail("flapping.window", fmt.Errorf("%s is too short; at least %s", f.Window, minDuration))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}
