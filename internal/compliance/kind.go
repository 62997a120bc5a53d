package compliance

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// Content kinds this package defines.
const (
	RuleKindName = "ConfigRule"
	PackKindName = "ConformancePack"
	// runbookKind is the kind a remediation names (internal/runbook's).
	runbookKind = "Runbook"
)

// Remediation modes: auto runs the runbook on non-compliance (within
// max_resources per run); approval queues it for a person to approve;
// manual only offers it on the OpsItem.
const (
	ModeAuto     = "auto"
	ModeApproval = "approval"
	ModeManual   = "manual"
)

var modes = []string{ModeAuto, ModeApproval, ModeManual}

// Limits on a rule's remediation, as AWS Config's RemediationConfiguration
// bounds MaximumAutomaticAttempts (1–25) and RetryAttemptSeconds (1–2678000).
const (
	maxAttempts      = 25
	maxRetryInterval = 31 * 24 * time.Hour
	maxMaxResources  = 1000
)

// controlID is FRAMEWORK:CONTROL, e.g. CIS-AWS-3.0:2.1.1 or NIST-800-53:AC-6.
var controlID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][A-Za-z0-9._()-]*$`)

// paramName is a parameter's name: an identifier CEL can select.
var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// RuleSpec is a ConfigRule document's spec: a check over resources of one
// type, the controls it satisfies and how to remediate it.
type RuleSpec struct {
	// ResourceType is the inventory type the rule checks, e.g.
	// AWS::S3::Bucket or linux-host.
	ResourceType string `yaml:"resource_type"`
	// Applies, if set, is a CEL bool over resource and params; false makes
	// the resource NOT_APPLICABLE.
	Applies string `yaml:"applies"`
	// Check is a CEL bool over resource and params: true is COMPLIANT,
	// false NON_COMPLIANT.
	Check string `yaml:"check"`
	// Annotation, if set, is a CEL string explaining a NON_COMPLIANT
	// result; without it the annotation is the rule's description.
	Annotation string `yaml:"annotation"`
	// Controls are the control ids the rule satisfies, FRAMEWORK:ID.
	Controls []string `yaml:"controls"`
	// Severity is critical, high, medium, low or info.
	Severity string `yaml:"severity"`
	// Parameters are the rule's tunables with their defaults, read as
	// params.NAME; packs and tenants override them.
	Parameters map[string]any `yaml:"parameters"`
	// Remediation is the runbook that fixes a NON_COMPLIANT resource.
	Remediation *Remediation `yaml:"remediation"`
}

// Remediation is a rule's fix, as AWS Config's RemediationConfiguration.
type Remediation struct {
	// Runbook names the Runbook to run, once per NON_COMPLIANT resource.
	Runbook string `yaml:"runbook"`
	// Mode is auto, approval or manual.
	Mode string `yaml:"mode"`
	// Parameters map the runbook's parameters to CEL over resource and
	// params, e.g. bucket: resource.name.
	Parameters map[string]string `yaml:"parameters"`
	// Attempts is how many times a failed remediation of one resource is
	// tried before the resource is left to people.
	Attempts int `yaml:"attempts"`
	// RetryInterval is the wait between attempts.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// MaxResources is the blast radius: at most this many resources are
	// remediated automatically in one run; the rest wait for the next.
	MaxResources int `yaml:"max_resources"`
}

// PackSpec is a ConformancePack document's spec: rules reported under one
// framework's control ids, with parameter overrides.
type PackSpec struct {
	// Framework, if set, is the control-id prefix the pack reports under
	// (CIS-AWS-3.0); every rule must map to one of its controls. Without
	// it the pack reports each rule under all its control ids.
	Framework string `yaml:"framework"`
	// Base, for a tenant's tailored pack (metadata.tenant set), names the
	// shared pack it replaces for that tenant: its rules and parameters
	// are the base's, plus this document's.
	Base string `yaml:"base"`
	// Rules name the ConfigRules of the pack.
	Rules []string `yaml:"rules"`
	// Parameters override rule parameters: rule name → parameter → value.
	Parameters map[string]map[string]any `yaml:"parameters"`
	// DisabledRules are rules of the pack (or its base) not evaluated.
	DisabledRules []string `yaml:"disabled_rules"`
}

// RuleKind returns the ConfigRule content kind.
func RuleKind() content.Kind {
	return content.Kind{
		PerTenant: true, // a pack installed for several tenants has a copy for each
		Name:      RuleKindName,
		New: func() any {
			return &RuleSpec{Severity: string(event.SeverityMedium)}
		},
		Validate: func(spec any) error {
			_, err := compileRule("", spec.(*RuleSpec))
			return err
		},
	}
}

// PackKind returns the ConformancePack content kind.
func PackKind() content.Kind {
	return content.Kind{
		Name: PackKindName,
		New:  func() any { return &PackSpec{} },
		Validate: func(spec any) error {
			return validatePack(spec.(*PackSpec))
		},
	}
}

// withDefaults fills a remediation's unset limits: AWS Config's defaults
// of 5 attempts 60 s apart, and Cloud Custodian's habit of a small
// max-resources.
func (r *Remediation) withDefaults() {
	if r.Mode == "" {
		r.Mode = ModeManual
	}
	if r.Attempts == 0 {
		r.Attempts = 5
	}
	if r.RetryInterval == 0 {
		r.RetryInterval = time.Minute
	}
	if r.MaxResources == 0 {
		r.MaxResources = 10
	}
}

func validateRuleShape(s *RuleSpec) []error {
	var errs []error
	if strings.TrimSpace(s.ResourceType) == "" {
		errs = append(errs, content.FieldErrorf("resource_type", "is required (an inventory type such as AWS::S3::Bucket or linux-host)"))
	}
	if !event.Severity(s.Severity).Valid() {
		errs = append(errs, content.FieldErrorf("severity", "%q is not one of critical, high, medium, low, info", s.Severity))
	}
	if len(s.Controls) == 0 {
		errs = append(errs, content.FieldErrorf("controls", "is empty; name the control ids the rule satisfies, e.g. CIS-AWS-3.0:2.1.1"))
	}
	for i, c := range s.Controls {
		f := "controls[" + strconv.Itoa(i) + "]"
		if !controlID.MatchString(c) {
			errs = append(errs, content.FieldErrorf(f, "%q is not FRAMEWORK:CONTROL, e.g. CIS-AWS-3.0:2.1.1 or NIST-800-53:AC-6", c))
		} else if slices.Index(s.Controls, c) < i {
			errs = append(errs, content.FieldErrorf(f, "%q is listed twice", c))
		}
	}
	for name := range s.Parameters {
		if !paramName.MatchString(name) {
			errs = append(errs, content.FieldErrorf("parameters."+name, "is not a valid parameter name (letters, digits, _)"))
		}
	}
	if r := s.Remediation; r != nil {
		r.withDefaults()
		if r.Runbook == "" {
			errs = append(errs, content.FieldErrorf("remediation.runbook", "is required"))
		}
		if !slices.Contains(modes, r.Mode) {
			errs = append(errs, content.FieldErrorf("remediation.mode", "%q is not one of %s", r.Mode, strings.Join(modes, ", ")))
		}
		if r.Attempts < 1 || r.Attempts > maxAttempts {
			errs = append(errs, content.FieldErrorf("remediation.attempts", "%d is not between 1 and %d", r.Attempts, maxAttempts))
		}
		if r.RetryInterval < time.Second || r.RetryInterval > maxRetryInterval {
			errs = append(errs, content.FieldErrorf("remediation.retry_interval", "%s is not between 1s and %s", r.RetryInterval, maxRetryInterval))
		}
		if r.MaxResources < 1 || r.MaxResources > maxMaxResources {
			errs = append(errs, content.FieldErrorf("remediation.max_resources", "%d is not between 1 and %d", r.MaxResources, maxMaxResources))
		}
	}
	return errs
}

func validatePack(s *PackSpec) error {
	var errs []error
	if s.Framework != "" && !controlID.MatchString(s.Framework+":x") {
		errs = append(errs, content.FieldErrorf("framework", "%q is not a control-id prefix such as CIS-AWS-3.0", s.Framework))
	}
	if len(s.Rules) == 0 && s.Base == "" {
		errs = append(errs, content.FieldErrorf("rules", "is empty; a pack needs rules (or a base pack to tailor)"))
	}
	for i, r := range s.Rules {
		f := "rules[" + strconv.Itoa(i) + "]"
		if r == "" {
			errs = append(errs, content.FieldErrorf(f, "is empty"))
		} else if slices.Index(s.Rules, r) < i {
			errs = append(errs, content.FieldErrorf(f, "%q is listed twice", r))
		}
	}
	for rule, ps := range s.Parameters {
		for name := range ps {
			if !paramName.MatchString(name) {
				errs = append(errs, content.FieldErrorf("parameters."+rule+"."+name, "is not a valid parameter name (letters, digits, _)"))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckRefs is a cross-document check: a pack's rules, parameters and
// disabled rules name ConfigRules (and parameters they declare), its base
// a shared pack, its framework a control of every rule; a rule's
// remediation names a Runbook.
func CheckRefs(set *content.Set) error {
	var errs []error
	fail := func(it content.Item, format string, args ...any) {
		errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf("%s %q: ", it.Kind, it.Name) + fmt.Sprintf(format, args...)})
	}
	for _, it := range set.Items(RuleKindName) {
		s, ok := it.Spec.(*RuleSpec)
		if ok && s.Remediation != nil && s.Remediation.Runbook != "" && !set.Defined(runbookKind, s.Remediation.Runbook) {
			fail(it, "spec.remediation.runbook: no %s named %q", runbookKind, s.Remediation.Runbook)
		}
	}
	for _, it := range set.Items(PackKindName) {
		s, ok := it.Spec.(*PackSpec)
		if !ok {
			continue
		}
		framework := s.Framework
		if s.Base != "" {
			base, ok := set.Get(PackKindName, s.Base)
			switch {
			case !ok:
				if !set.Defined(PackKindName, s.Base) {
					fail(it, "spec.base: no %s named %q", PackKindName, s.Base)
				}
			case it.Tenant == "":
				fail(it, "spec.base: only a tenant's pack (metadata.tenant) tailors a base pack")
			case base.Tenant != "":
				fail(it, "spec.base: %q belongs to tenant %q; a base pack is shared", s.Base, base.Tenant)
			default:
				if framework == "" {
					framework = base.Spec.(*PackSpec).Framework
				}
			}
		}
		for i, name := range s.Rules {
			r, ok := set.GetFor(RuleKindName, name, it.Tenant)
			if !ok {
				if !set.Defined(RuleKindName, name) {
					fail(it, "spec.rules[%d]: no %s named %q", i, RuleKindName, name)
				}
				continue
			}
			if framework != "" && len(frameworkControls(r.Spec.(*RuleSpec).Controls, framework)) == 0 {
				fail(it, "spec.rules[%d]: %s %q maps to no %s control", i, RuleKindName, name, framework)
			}
		}
		for rule, ps := range s.Parameters {
			r, ok := set.GetFor(RuleKindName, rule, it.Tenant)
			if !ok {
				if !set.Defined(RuleKindName, rule) {
					fail(it, "spec.parameters.%s: no %s named %q", rule, RuleKindName, rule)
				}
				continue
			}
			for p := range ps {
				if _, ok := r.Spec.(*RuleSpec).Parameters[p]; !ok {
					fail(it, "spec.parameters.%s.%s: the rule has no parameter %q", rule, p, p)
				}
			}
		}
		for i, name := range s.DisabledRules {
			if !set.Defined(RuleKindName, name) {
				fail(it, "spec.disabled_rules[%d]: no %s named %q", i, RuleKindName, name)
			}
		}
	}
	return errors.Join(errs...)
}

// frameworkControls are the controls of ids under framework (all of them
// when framework is "").
func frameworkControls(ids []string, framework string) []string {
	if framework == "" {
		return ids
	}
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, framework+":") {
			out = append(out, id)
		}
	}
	return out
}
