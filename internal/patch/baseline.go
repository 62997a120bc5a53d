// Package patch is Flywheel's patch management, modelled on AWS Systems
// Manager Patch Manager: patch baselines (which updates are approved, with
// which compliance level), patch groups (which hosts follow which baseline,
// with expiring exceptions), compliance computed from the agents' scans,
// and expedited critical updates with a next-business-day SLA in the
// tenant's business calendar.
//
// Scans and installs run on hosts through the agent (internal/patch/apt
// is its Debian/Ubuntu backend) as steps of the `patch` runbook action,
// and installs run as tasks of a MaintenanceWindow (internal/windowrun);
// this package decides, the agent does. docs/patching.md is the user's
// page.
package patch

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// BaselineKind is the content kind of patch baselines.
const BaselineKind = "PatchBaseline"

// Operating-system families a baseline is for.
var operatingSystems = []string{"debian", "ubuntu", "rhel"}

// Compliance levels, most severe first (SSM's PatchComplianceLevel).
var Levels = []string{"critical", "high", "medium", "low", "informational", "unspecified"}

// Rejected-patches actions (SSM's PatchAction).
const (
	RejectBlock             = "block"
	RejectAllowAsDependency = "allow_as_dependency"
)

// filterKeys are the filter keys a rule may use (SSM's PatchFilterKey,
// lower-cased): classification is "security" or "other"; section and
// priority are Debian's, severity the vendor's (RHEL advisories); name
// takes shell patterns.
var filterKeys = []string{"classification", "section", "priority", "severity", "name"}

// BaselineSpec is a PatchBaseline document's spec.
type BaselineSpec struct {
	// OperatingSystem is debian, ubuntu or rhel (the RHEL family: RHEL,
	// Rocky, Alma, CentOS, Amazon Linux).
	OperatingSystem string `yaml:"operating_system" json:"operating_system,omitempty"`
	Description     string `yaml:"description" json:"description,omitempty"`
	// ApprovalRules approve updates by their attributes; the first rule
	// that matches an update decides it.
	ApprovalRules []Rule `yaml:"approval_rules" json:"approval_rules,omitempty"`
	// ApprovedPatches are always approved: "name" or "name=version".
	ApprovedPatches                []string `yaml:"approved_patches" json:"approved_patches,omitempty"`
	ApprovedPatchesComplianceLevel string   `yaml:"approved_patches_compliance_level" json:"approved_patches_compliance_level,omitempty"`
	// RejectedPatches are never approved, even by a rule or the approved
	// list; RejectedPatchesAction says whether one may still come in as a
	// dependency of an approved update (allow_as_dependency) or blocks
	// that update (block).
	RejectedPatches       []string `yaml:"rejected_patches" json:"rejected_patches,omitempty"`
	RejectedPatchesAction string   `yaml:"rejected_patches_action" json:"rejected_patches_action,omitempty"`
	// Sources are repository lines the baseline expects on its hosts
	// (documentation for now: the agent patches from the host's own).
	Sources []Source `yaml:"sources" json:"sources,omitempty"`
}

// Rule is one approval rule (SSM's PatchRule).
type Rule struct {
	// Filters: every key given must match one of its values.
	Filters map[string][]string `yaml:"filters" json:"filters,omitempty"`
	// ApproveAfterDays approves an update that many days after it was
	// released (first seen by Flywheel: apt repositories carry no
	// per-package release date). ApproveUntilDate instead approves the
	// updates released on or before a date. At most one is set.
	ApproveAfterDays *int   `yaml:"approve_after_days" json:"approve_after_days,omitempty"`
	ApproveUntilDate string `yaml:"approve_until_date" json:"approve_until_date,omitempty"`
	// ComplianceLevel is how severe missing an update it approves is
	// (default unspecified).
	ComplianceLevel string `yaml:"compliance_level" json:"compliance_level,omitempty"`
	// EnableNonSecurity lets the rule approve updates that are not from a
	// security repository; without it the rule sees security updates only.
	EnableNonSecurity bool `yaml:"enable_non_security" json:"enable_non_security,omitempty"`
}

// Source is a package repository.
type Source struct {
	Name          string `yaml:"name" json:"name,omitempty"`
	Configuration string `yaml:"configuration" json:"configuration,omitempty"`
}

// BaselineKindDef returns the PatchBaseline content kind.
func BaselineKindDef() content.Kind {
	return content.Kind{
		Name: BaselineKind,
		New: func() any {
			return &BaselineSpec{RejectedPatchesAction: RejectBlock, ApprovedPatchesComplianceLevel: "unspecified"}
		},
		Validate: func(spec any) error { return spec.(*BaselineSpec).Validate() },
	}
}

// Validate checks a baseline.
func (s *BaselineSpec) Validate() error {
	var errs []error
	if !slices.Contains(operatingSystems, s.OperatingSystem) {
		errs = append(errs, content.FieldErrorf("operating_system", "%q is not one of %s", s.OperatingSystem, strings.Join(operatingSystems, ", ")))
	}
	if !slices.Contains(Levels, s.ApprovedPatchesComplianceLevel) {
		errs = append(errs, content.FieldErrorf("approved_patches_compliance_level", "%q is not one of %s", s.ApprovedPatchesComplianceLevel, strings.Join(Levels, ", ")))
	}
	if s.RejectedPatchesAction != RejectBlock && s.RejectedPatchesAction != RejectAllowAsDependency {
		errs = append(errs, content.FieldErrorf("rejected_patches_action", "%q is not %s or %s", s.RejectedPatchesAction, RejectBlock, RejectAllowAsDependency))
	}
	for i, r := range s.ApprovalRules {
		f := "approval_rules[" + strconv.Itoa(i) + "]"
		if err := r.validate(); err != nil {
			errs = append(errs, &content.FieldError{Field: f, Err: err})
		}
	}
	for i, p := range s.ApprovedPatches {
		name, _, _ := strings.Cut(p, "=")
		if !wire.ValidPackageName(name) {
			errs = append(errs, content.FieldErrorf("approved_patches["+strconv.Itoa(i)+"]", "%q is not a package name (name or name=version)", p))
		}
	}
	for i, p := range s.RejectedPatches {
		if !wire.ValidPackageName(p) {
			errs = append(errs, content.FieldErrorf("rejected_patches["+strconv.Itoa(i)+"]", "%q is not a package name", p))
		}
	}
	return errors.Join(errs...)
}

func (r Rule) validate() error {
	var errs []error
	if len(r.Filters) == 0 {
		errs = append(errs, errors.New("filters: empty; a rule needs at least one filter"))
	}
	for k, vs := range r.Filters {
		if !slices.Contains(filterKeys, k) {
			errs = append(errs, fmt.Errorf("filters: key %q is not one of %s", k, strings.Join(filterKeys, ", ")))
		}
		if len(vs) == 0 {
			errs = append(errs, fmt.Errorf("filters.%s: no values", k))
		}
		for _, v := range vs {
			if _, err := path.Match(v, ""); err != nil {
				errs = append(errs, fmt.Errorf("filters.%s: %q: %w", k, v, err))
			}
		}
	}
	if r.ApproveAfterDays != nil && r.ApproveUntilDate != "" {
		errs = append(errs, errors.New("approve_after_days and approve_until_date are exclusive"))
	}
	if r.ApproveAfterDays != nil && (*r.ApproveAfterDays < 0 || *r.ApproveAfterDays > 360) {
		errs = append(errs, fmt.Errorf("approve_after_days: %d is not 0 to 360", *r.ApproveAfterDays))
	}
	if r.ApproveUntilDate != "" {
		if _, err := time.Parse(time.DateOnly, r.ApproveUntilDate); err != nil {
			errs = append(errs, fmt.Errorf("approve_until_date: %q is not a date (YYYY-MM-DD)", r.ApproveUntilDate))
		}
	}
	if r.ComplianceLevel != "" && !slices.Contains(Levels, r.ComplianceLevel) {
		errs = append(errs, fmt.Errorf("compliance_level: %q is not one of %s", r.ComplianceLevel, strings.Join(Levels, ", ")))
	}
	return errors.Join(errs...)
}
