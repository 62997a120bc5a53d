package rule

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/schedule"
)

// KindName is the content kind of automation rules.
const KindName = "Rule"

// RunbookKind is the content kind a rule's then.runbook names.
const RunbookKind = "Runbook"

// Spec is a Rule document's spec. docs/rules.md describes each field for
// users.
type Spec struct {
	// Priority orders rules, highest first; ties go by name.
	Priority int `yaml:"priority"`
	// When is a CEL bool over `event` and `opsitem`, or a schedule:
	// `when: {schedule: "cron(0 7 ? * MON *)", timezone: Europe/Berlin}`.
	When When `yaml:"when"`
	// Then is what the rule does when it matches.
	Then Then `yaml:"then"`
	// RateLimit bounds how often the rule acts, per tenant.
	RateLimit RateLimit `yaml:"rate_limit"`
	// CircuitBreaker stops automatic runs after consecutive failures.
	CircuitBreaker CircuitBreaker `yaml:"circuit_breaker"`
	// Cooldown: after the rule acted on an OpsItem, further events on it
	// within this long do not make it act again (the loop guard). 0 turns
	// the cool-down off; the label guard and the rate limit still apply.
	Cooldown time.Duration `yaml:"cooldown"`
	// Stop ends evaluation at this rule when it matches: lower rules are
	// not tried.
	Stop bool `yaml:"stop"`
	// Escalate says what happens when automation is not enough: the rule's
	// run was ineffective (its verify failed), or the rule was blocked (by
	// its cool-down or breaker) on an OpsItem that came back.
	Escalate Escalate `yaml:"escalate"`
	// Tests are offline checks (`flywheel content test`): an event and an
	// OpsItem in, whether the rule matches among all the rules, and what it
	// would pass the runbook.
	Tests []TestSpec `yaml:"tests"`
}

// When is a rule's trigger: a CEL condition over each event (written as
// the string itself), or a schedule (written as a mapping) on which the
// rule runs its runbook without an event — recurring checks and reports.
type When struct {
	Expr string
	// Schedule is a cron or rate expression (package schedule); Timezone
	// the IANA zone its times are read in (default UTC).
	Schedule string
	Timezone string
}

// UnmarshalYAML reads a scalar as the CEL condition and a mapping as a
// schedule, refusing unknown keys.
func (w *When) UnmarshalYAML(n *yaml.Node) error {
	*w = When{}
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&w.Expr)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: when is a CEL condition or {schedule, timezone}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "schedule":
			dst = &w.Schedule
		case "timezone":
			dst = &w.Timezone
		default:
			return fmt.Errorf("line %d: field %s not found in when (schedule, timezone)", k.Line, k.Value)
		}
		if err := v.Decode(dst); err != nil {
			return err
		}
	}
	return nil
}

// ScheduleAnchor is what rate schedules of rules count from: rate(1 hour)
// fires on the hour (UTC).
var ScheduleAnchor = time.Unix(0, 0).UTC()

// Then is a rule's actions. At least one is set.
type Then struct {
	// Runbook names the Runbook to run.
	Runbook string `yaml:"runbook"`
	// Mode is how the runbook runs: auto, approval or suggest. Required
	// with runbook.
	Mode runbook.Mode `yaml:"mode"`
	// Parameters are the runbook's parameters, each a CEL expression over
	// `event` and `opsitem`.
	Parameters map[string]string `yaml:"parameters"`
	// Targets is a CEL list of resource IDs that overrides the runbook's
	// own targeting; empty (or an empty list) leaves it to the runbook,
	// whose `targets: {from: opsitem}` runs it on the OpsItem's resources.
	Targets string `yaml:"targets"`
	// Approvers may approve the start of a run in approval or suggest
	// mode: roles, token IDs (token:<id>) or token names (name:<name>);
	// default operator. Four eyes holds whatever they name.
	Approvers []string `yaml:"approvers"`
	// Set changes the OpsItem's category or severity.
	Set SetFields `yaml:"set"`
	// Notify asks for a notification (the application delivers it).
	Notify *Notify `yaml:"notify"`
	// Suppress marks the OpsItem suppressed (noise) and ends evaluation.
	Suppress bool `yaml:"suppress"`
}

// SetFields are the OpsItem fields a rule may set.
type SetFields struct {
	Category string `yaml:"category"`
	Severity string `yaml:"severity"`
}

// Escalate is what a rule does when its automation is not enough.
type Escalate struct {
	// Severity the OpsItem is raised to (default critical); "none" keeps
	// it as it is.
	Severity string `yaml:"severity"`
	// Channel is notified (default: then.notify.channel; none: no
	// notification).
	Channel string `yaml:"channel"`
}

// Notify is a notification request.
type Notify struct {
	// Channel names where it goes (a notification channel the application
	// knows: "security-oncall", "slack-ops").
	Channel string `yaml:"channel"`
	// Message is a CEL string over `event` and `opsitem`; empty uses the
	// OpsItem's title.
	Message string `yaml:"message"`
}

// RateLimit: at most Max actions per Per, per rule and tenant.
type RateLimit struct {
	Max int           `yaml:"max"`
	Per time.Duration `yaml:"per"`
}

// CircuitBreaker: Failures consecutive failed executions stop the rule's
// automatic runs and open an OpsItem saying so.
type CircuitBreaker struct {
	Failures int `yaml:"failures"`
}

// Defaults for fields a rule leaves out. Every automated action is bounded,
// so a rule cannot turn its rate limit or breaker off, only
// widen them.
const (
	DefaultRateMax  = 10
	DefaultRatePer  = time.Hour
	DefaultFailures = 3
	DefaultCooldown = time.Hour
)

const (
	minDuration   = time.Second
	maxParameters = 64
	maxApprovers  = 20
)

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Kind returns the Rule content kind. Its Validate checks everything
// Compile would, compiling every expression, so content that loads always
// compiles.
func Kind() content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      KindName,
		New: func() any {
			return &Spec{
				RateLimit:      RateLimit{Max: DefaultRateMax, Per: DefaultRatePer},
				CircuitBreaker: CircuitBreaker{Failures: DefaultFailures},
				Cooldown:       DefaultCooldown,
			}
		},
		Validate: func(spec any) error {
			_, err := compileSpec(spec.(*Spec))
			return err
		},
	}
}

// compiled is a spec's compiled expressions.
type compiled struct {
	when     *program          // nil for a scheduled rule
	schedule schedule.Schedule // set for a scheduled rule
	params   map[string]*program
	names    []string // parameter names, sorted
	targets  *program // nil: the runbook's own targeting
	message  *program // nil: the OpsItem's title
}

// compileSpec validates s and compiles its expressions. Its errors are
// *content.FieldError values naming the field, joined.
func compileSpec(s *Spec) (*compiled, error) {
	var (
		c    = compiled{params: map[string]*program{}}
		errs []error
	)
	fail := func(field string, err error) {
		for _, e := range content.Errors(err) {
			errs = append(errs, &content.FieldError{Field: field, Err: e})
		}
	}
	switch {
	case s.When.Schedule != "":
		loc, err := recurrence.LoadLocation(s.When.Timezone)
		if err != nil {
			fail("when.timezone", err)
			loc = time.UTC
		}
		c.schedule, err = schedule.Parse(s.When.Schedule, schedule.Options{Location: loc, Anchor: ScheduleAnchor})
		fail("when.schedule", err)
		t := &s.Then
		if t.Runbook == "" {
			fail("then.runbook", errors.New("is required with when.schedule: a scheduled rule runs a runbook"))
		}
		if t.Mode == runbook.ModeSuggest {
			fail("then.mode", errors.New("suggest needs an OpsItem; a scheduled rule runs in auto or approval mode"))
		}
		if t.Set != (SetFields{}) || t.Notify != nil || t.Suppress {
			fail("then", errors.New("a scheduled rule has no OpsItem to set, notify about or suppress; it runs a runbook"))
		}
	case s.When.Timezone != "":
		fail("when.timezone", errors.New("goes with when.schedule"))
	case s.When.Expr == "":
		fail("when", errors.New(`is required (a CEL condition; "true" matches everything; or {schedule: …})`))
	default:
		p, err := compile(s.When.Expr, cel.BoolType)
		fail("when", err)
		c.when = p
	}

	t := &s.Then
	if t.Runbook == "" && t.Set == (SetFields{}) && t.Notify == nil && !t.Suppress {
		fail("then", errors.New("does nothing: set runbook, set, notify or suppress"))
	}
	if t.Runbook != "" {
		if !validName(t.Runbook) {
			fail("then.runbook", fmt.Errorf("%q is not a content name (letters, digits, '.', '_', '-')", t.Runbook))
		}
		switch t.Mode {
		case runbook.ModeAuto, runbook.ModeApproval, runbook.ModeSuggest:
		case "":
			fail("then.mode", errors.New("is required with runbook: auto, approval or suggest"))
		default:
			fail("then.mode", fmt.Errorf("%q is not one of auto, approval, suggest", t.Mode))
		}
		if t.Suppress {
			fail("then.suppress", errors.New("cannot be combined with runbook: a suppressed OpsItem is noise, nothing runs for it"))
		}
		if len(t.Approvers) > 0 && t.Mode == runbook.ModeAuto {
			fail("then.approvers", errors.New("is set but mode auto asks no one: use approval or suggest"))
		}
		if len(t.Approvers) > maxApprovers {
			fail("then.approvers", fmt.Errorf("has %d entries; at most %d", len(t.Approvers), maxApprovers))
		}
		for i, who := range t.Approvers {
			if !runbook.ValidApprover(who) {
				fail(fmt.Sprintf("then.approvers[%d]", i), errors.New(runbook.ApproverProblem(who)))
			}
		}
	} else {
		if t.Mode != "" {
			fail("then.mode", errors.New("is set but runbook is not"))
		}
		if len(t.Parameters) > 0 {
			fail("then.parameters", errors.New("is set but runbook is not"))
		}
		if t.Targets != "" {
			fail("then.targets", errors.New("is set but runbook is not"))
		}
		if len(t.Approvers) > 0 {
			fail("then.approvers", errors.New("is set but runbook is not"))
		}
	}
	if len(t.Parameters) > maxParameters {
		fail("then.parameters", fmt.Errorf("has %d entries; at most %d", len(t.Parameters), maxParameters))
	}
	for name := range t.Parameters {
		c.names = append(c.names, name)
	}
	slices.Sort(c.names)
	for _, name := range c.names {
		field := "then.parameters." + name
		if !paramName.MatchString(name) {
			fail(field, errors.New("is not a parameter name (letters, digits and '_', not starting with a digit)"))
			continue
		}
		p, err := compile(t.Parameters[name])
		fail(field, err)
		c.params[name] = p
	}
	if t.Targets != "" {
		p, err := compile(t.Targets, cel.ListType(cel.StringType), cel.ListType(cel.DynType), cel.OptionalType(cel.DynType))
		fail("then.targets", err)
		c.targets = p
	}
	if t.Set.Category != "" {
		fail("then.set.category", opsitem.ValidCategory(t.Set.Category))
	}
	if t.Set.Severity != "" && !event.Severity(t.Set.Severity).Valid() {
		fail("then.set.severity", fmt.Errorf("%q is not one of %s", t.Set.Severity, strings.Join(opsitem.Severities, ", ")))
	}
	if n := t.Notify; n != nil {
		if n.Channel == "" {
			fail("then.notify.channel", errors.New("is required"))
		} else if !validName(n.Channel) {
			fail("then.notify.channel", fmt.Errorf("%q is not a channel name (letters, digits, '.', '_', '-')", n.Channel))
		}
		if n.Message != "" {
			p, err := compile(n.Message, cel.StringType)
			fail("then.notify.message", err)
			c.message = p
		}
	}

	if s.RateLimit.Max < 1 {
		fail("rate_limit.max", fmt.Errorf("%d: a rule must act at least once per period (every automated action is bounded; raise max instead of turning the limit off)", s.RateLimit.Max))
	}
	if s.RateLimit.Per < minDuration {
		fail("rate_limit.per", fmt.Errorf("%s is too short; at least %s", s.RateLimit.Per, minDuration))
	}
	if s.CircuitBreaker.Failures < 1 {
		fail("circuit_breaker.failures", fmt.Errorf("%d: at least 1 (every automated action is bounded; raise it instead of turning the breaker off)", s.CircuitBreaker.Failures))
	}
	if sev := s.Escalate.Severity; sev != "" && sev != "none" && !event.Severity(sev).Valid() {
		fail("escalate.severity", fmt.Errorf("%q is not none or one of %s", sev, strings.Join(opsitem.Severities, ", ")))
	}
	if ch := s.Escalate.Channel; ch != "" && !validName(ch) {
		fail("escalate.channel", fmt.Errorf("%q is not a channel name (letters, digits, '.', '_', '-')", ch))
	}
	if s.Cooldown < 0 || (s.Cooldown > 0 && s.Cooldown < minDuration) {
		fail("cooldown", fmt.Errorf("%s is not 0 or at least %s", s.Cooldown, minDuration))
	}
	for i := range s.Tests {
		checkTest(&s.Tests[i], fmt.Sprintf("tests[%d]", i), s, fail)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// validName is the content name syntax (internal/content): letters and
// digits, then also '.', '_' and '-', at most 253 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 253 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
