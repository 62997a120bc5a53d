package patch

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// Decision is a baseline's verdict on one available update, with the
// reason a person reads ("why is this host non-compliant").
type Decision struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
	Candidate string `json:"candidate"`
	Security  bool   `json:"security"`
	// Status is approved, pending (a rule matches but its delay has not
	// passed), rejected, excepted or not-approved.
	Status string `json:"status"`
	// Rule names what decided: "approval_rules[0]", "approved_patches",
	// "rejected_patches", "exception", or "" when nothing matched.
	Rule string `json:"rule,omitempty"`
	// ComplianceLevel is the approving rule's (approved updates only).
	ComplianceLevel string `json:"compliance_level,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// ApprovedAt is when a pending update becomes approved.
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
}

// Decision statuses.
const (
	Approved    = "approved"
	Pending     = "pending"
	Rejected    = "rejected"
	Excepted    = "excepted"
	NotApproved = "not-approved"
)

// Released returns when an update (name, version) was released; Evaluate
// counts approve_after_days and approve_until_date from it.
type Released func(name, version string) time.Time

// Evaluate decides every update of a scan against the baseline at now.
// Exceptions (package names) take the packages out of compliance.
func (s *BaselineSpec) Evaluate(updates []wire.PackageUpdate, released Released, now time.Time, excepted map[string]string) []Decision {
	out := make([]Decision, 0, len(updates))
	for _, u := range updates {
		out = append(out, s.decide(u, released, now, excepted))
	}
	return out
}

func (s *BaselineSpec) decide(u wire.PackageUpdate, released Released, now time.Time, excepted map[string]string) Decision {
	d := Decision{Name: u.Name, Installed: u.Installed, Candidate: u.Candidate, Security: u.Security}
	switch {
	case slices.Contains(s.RejectedPatches, u.Name):
		d.Status, d.Rule, d.Reason = Rejected, "rejected_patches", "rejected by the baseline"
		return d
	case excepted[u.Name] != "":
		d.Status, d.Rule, d.Reason = Excepted, "exception", excepted[u.Name]
		return d
	case slices.Contains(s.ApprovedPatches, u.Name) || slices.Contains(s.ApprovedPatches, u.Name+"="+u.Candidate):
		d.Status, d.Rule, d.ComplianceLevel = Approved, "approved_patches", level(s.ApprovedPatchesComplianceLevel)
		d.Reason = "listed in approved_patches"
		return d
	}
	for i, r := range s.ApprovalRules {
		if !r.matches(u) {
			continue
		}
		d.Rule, d.ComplianceLevel = fmt.Sprintf("approval_rules[%d]", i), level(r.ComplianceLevel)
		rel := released(u.Name, u.Candidate)
		switch {
		case r.ApproveAfterDays != nil:
			at := rel.Add(time.Duration(*r.ApproveAfterDays) * 24 * time.Hour)
			if now.Before(at) {
				d.Status, d.ApprovedAt = Pending, &at
				d.Reason = fmt.Sprintf("released %s; approved %d days later, %s", rel.UTC().Format(time.DateOnly), *r.ApproveAfterDays, at.UTC().Format(time.RFC3339))
				return d
			}
			d.Reason = fmt.Sprintf("released %s, %s", rel.UTC().Format(time.DateOnly), approvedAfter(*r.ApproveAfterDays))
		case r.ApproveUntilDate != "":
			until, _ := time.Parse(time.DateOnly, r.ApproveUntilDate)
			// "On or before" the date: released before the next day began.
			if !rel.Before(until.AddDate(0, 0, 1)) {
				d.Status, d.Rule, d.ComplianceLevel = NotApproved, "", ""
				d.Reason = fmt.Sprintf("released %s, after approval_rules[%d]'s approve_until_date %s", rel.UTC().Format(time.DateOnly), i, r.ApproveUntilDate)
				continue
			}
			d.Reason = fmt.Sprintf("released %s, on or before %s", rel.UTC().Format(time.DateOnly), r.ApproveUntilDate)
		default:
			d.Reason = "matches the rule"
		}
		d.Status = Approved
		return d
	}
	if d.Status == "" {
		d.Status, d.Reason = NotApproved, "no approval rule matches it"
	}
	return d
}

func level(l string) string {
	if l == "" {
		return "unspecified"
	}
	return l
}

// matches reports whether every filter of the rule matches the update.
func (r Rule) matches(u wire.PackageUpdate) bool {
	if !u.Security && !r.EnableNonSecurity {
		return false
	}
	classification := "other"
	if u.Security {
		classification = "security"
	}
	for key, values := range r.Filters {
		var v string
		switch key {
		case "classification":
			v = classification
		case "section":
			v = u.Section
		case "priority":
			v = u.Priority
		case "severity":
			v = u.Severity
		case "name":
			v = u.Name
		}
		if !slices.ContainsFunc(values, func(p string) bool {
			ok, _ := path.Match(strings.ToLower(p), strings.ToLower(v))
			return ok
		}) {
			return false
		}
	}
	return true
}

// Blocked lists the packages an install must not bring in as a
// dependency: the rejected ones, unless the baseline allows them as
// dependencies.
func (s *BaselineSpec) Blocked() []string {
	if s.RejectedPatchesAction == RejectAllowAsDependency {
		return nil
	}
	return slices.Clone(s.RejectedPatches)
}

// approvedAfter says why an update released at least n days ago is
// approved (approve_after_days: n).
func approvedAfter(n int) string {
	switch n {
	case 0:
		return "approved on release (approve_after_days 0)"
	case 1:
		return "at least 1 day ago"
	}
	return fmt.Sprintf("at least %d days ago", n)
}
