package patch

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func days(n int) *int { return &n }

// TestEvaluate decides updates against baselines at an injected time. The
// expectations follow SSM Patch Manager's documented semantics: a rule
// with ApproveAfterDays N approves an update N days after its release;
// ApproveUntilDate approves updates released on or before the date;
// rejected patches are never approved; the approved list is approved with
// its own compliance level; the first matching rule decides.
func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	released := map[string]time.Time{
		"openssl=3.0.15": now.Add(-8 * 24 * time.Hour), // 8 days ago
		"curl=8.5":       now.Add(-3 * 24 * time.Hour), // 3 days ago
		"bash=5.2.1":     time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC),
		"vim=9.1":        time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"nginx=1.26":     now,
		"telnetd=0.17-2": now,
		"tzdata=2026a":   now,
		"libfoo=2":       now,
	}
	rel := func(n, v string) time.Time { return released[n+"="+v] }
	sec := func(name, ver string) wire.PackageUpdate {
		return wire.PackageUpdate{Name: name, Installed: "0", Candidate: ver, Security: true, Priority: "optional", Section: "utils"}
	}
	other := func(name, ver string) wire.PackageUpdate {
		u := sec(name, ver)
		u.Security = false
		return u
	}
	base := BaselineSpec{
		OperatingSystem: "debian",
		ApprovalRules: []Rule{
			{Filters: map[string][]string{"classification": {"security"}, "name": {"openssl", "curl"}}, ApproveAfterDays: days(7), ComplianceLevel: "critical"},
			{Filters: map[string][]string{"name": {"bash", "vim"}}, ApproveUntilDate: "2026-11-30", ComplianceLevel: "high", EnableNonSecurity: true},
			{Filters: map[string][]string{"section": {"web*"}}, ComplianceLevel: "medium", EnableNonSecurity: true},
			{Filters: map[string][]string{"priority": {"optional"}}, ComplianceLevel: "low"},
		},
		ApprovedPatches:                []string{"tzdata", "libfoo=2", "telnetd"},
		ApprovedPatchesComplianceLevel: "informational",
		RejectedPatches:                []string{"telnetd"},
		RejectedPatchesAction:          RejectBlock,
	}
	nginx := other("nginx", "1.26")
	nginx.Section = "web"
	for _, tc := range []struct {
		u                   wire.PackageUpdate
		status, rule, level string
	}{
		{sec("openssl", "3.0.15"), Approved, "approval_rules[0]", "critical"},     // 8 days > 7
		{sec("curl", "8.5"), Pending, "approval_rules[0]", "critical"},            // 3 days < 7
		{other("bash", "5.2.1"), Approved, "approval_rules[1]", "high"},           // released on the until date
		{other("vim", "9.1"), NotApproved, "", ""},                                // a day after it; rule 3 needs security
		{nginx, Approved, "approval_rules[2]", "medium"},                          // section pattern, non-security enabled
		{sec("zsh", "5.9"), Approved, "approval_rules[3]", "low"},                 // falls through to priority
		{other("zsh", "5.9"), NotApproved, "", ""},                                // rule 3 sees security only
		{sec("telnetd", "0.17-2"), Rejected, "rejected_patches", ""},              // rejected beats approved list
		{other("tzdata", "2026a"), Approved, "approved_patches", "informational"}, // by name
		{other("libfoo", "2"), Approved, "approved_patches", "informational"},     // by name=version
		{other("libfoo", "3"), NotApproved, "", ""},                               // another version
	} {
		d := base.decide(tc.u, rel, now, nil)
		if d.Status != tc.status || d.Rule != tc.rule || (tc.level != "" && d.ComplianceLevel != tc.level) {
			t.Errorf("%s %s: got %s by %q at %q (%s), want %s by %q at %q", tc.u.Name, tc.u.Candidate, d.Status, d.Rule, d.ComplianceLevel, d.Reason, tc.status, tc.rule, tc.level)
		}
	}
	// The pending update is approved once its seven days have passed.
	later := now.Add(4*24*time.Hour + time.Hour)
	if d := base.decide(sec("curl", "8.5"), rel, later, nil); d.Status != Approved {
		t.Errorf("curl four days later: %s (%s), want approved", d.Status, d.Reason)
	}
	if d := base.decide(sec("curl", "8.5"), rel, now, nil); d.ApprovedAt == nil || !d.ApprovedAt.Equal(released["curl=8.5"].Add(7*24*time.Hour)) {
		t.Errorf("curl approved_at = %v", d.ApprovedAt)
	}
	// The reason says how long ago it was released, in words that read.
	if d := base.decide(sec("openssl", "3.0.15"), rel, now, nil); d.Reason != "released "+released["openssl=3.0.15"].UTC().Format(time.DateOnly)+", at least 7 days ago" {
		t.Errorf("openssl's reason: %q", d.Reason)
	}
	for n, want := range map[int]string{0: "approved on release (approve_after_days 0)", 1: "at least 1 day ago"} {
		b := BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"name": {"openssl"}}, ApproveAfterDays: days(n)}}}
		if d := b.decide(sec("openssl", "3.0.15"), rel, now, nil); d.Status != Approved || !strings.HasSuffix(d.Reason, ", "+want) {
			t.Errorf("approve_after_days %d: %s (%q), want approved, %q", n, d.Status, d.Reason, want)
		}
	}
	// An exception takes a package out.
	if d := base.decide(sec("openssl", "3.0.15"), rel, now, map[string]string{"openssl": "vendor build pinned (ops, until 2027-01-01)"}); d.Status != Excepted || !contains(d.Reason, "pinned") {
		t.Errorf("excepted openssl: %+v", d)
	}
}

func TestBlockedFollowsRejectedAction(t *testing.T) {
	b := BaselineSpec{RejectedPatches: []string{"telnetd"}, RejectedPatchesAction: RejectBlock}
	if got := b.Blocked(); len(got) != 1 || got[0] != "telnetd" {
		t.Errorf("block: Blocked() = %v", got)
	}
	b.RejectedPatchesAction = RejectAllowAsDependency
	if got := b.Blocked(); len(got) != 0 {
		t.Errorf("allow_as_dependency: Blocked() = %v", got)
	}
}

func TestBaselineValidation(t *testing.T) {
	for _, tc := range []struct {
		spec BaselineSpec
		want string
	}{
		{BaselineSpec{OperatingSystem: "windows"}, "operating_system"},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{}}}, "approval_rules[0]: filters: empty"},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"colour": {"x"}}}}}, `key "colour"`},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"name": {"x"}}, ApproveAfterDays: days(3), ApproveUntilDate: "2026-01-01"}}}, "exclusive"},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"name": {"x"}}, ApproveAfterDays: days(400)}}}, "0 to 360"},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"name": {"x"}}, ApproveUntilDate: "soon"}}}, "approve_until_date"},
		{BaselineSpec{OperatingSystem: "debian", ApprovalRules: []Rule{{Filters: map[string][]string{"name": {"x"}}, ComplianceLevel: "dire"}}}, "compliance_level"},
		{BaselineSpec{OperatingSystem: "debian", RejectedPatches: []string{"bad name"}}, "rejected_patches[0]"},
		{BaselineSpec{OperatingSystem: "debian", RejectedPatchesAction: "ignore"}, "rejected_patches_action"},
	} {
		s := tc.spec
		if s.RejectedPatchesAction == "" {
			s.RejectedPatchesAction = RejectBlock
		}
		if s.ApprovedPatchesComplianceLevel == "" {
			s.ApprovedPatchesComplianceLevel = "unspecified"
		}
		if err := s.Validate(); err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want mention of %q", tc.spec, err, tc.want)
		}
	}
}
