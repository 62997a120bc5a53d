package rule_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
)

// The library routes every other source's findings to a runbook: the
// remediations where one fits, collect-and-escalate for the rest.
func TestSourceConsolidation(t *testing.T) {
	t.Parallel()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"securityhub": {"EC2.13": "revoke-world-open-ingress", "EC2.54": "revoke-world-open-ingress", "S3.1": "block-s3-public-access",
			"S3.8": "block-s3-public-access", "IAM.1": "collect-diagnostics-and-escalate", "EC2.22": "collect-diagnostics-and-escalate"},
		"inspector2": {"NETWORK_REACHABILITY": "revoke-world-open-ingress", "PACKAGE_VULNERABILITY": "collect-diagnostics-and-escalate",
			"CODE_VULNERABILITY": "collect-diagnostics-and-escalate"},
		"macie": {"Policy:IAMUser/S3BucketPublic": "block-s3-public-access", "SensitiveData:S3Object/Personal": "collect-diagnostics-and-escalate"},
	}
	figures := map[string]string{"securityhub": "18 finding types → 3 runbooks", "inspector2": "3 finding types → 2 runbooks", "macie": "11 finding types → 2 runbooks"}
	got := rule.SourceConsolidation(rs)
	if len(got) != 3 {
		t.Fatalf("sources = %d", len(got))
	}
	for _, s := range got {
		if len(s.Unrouted) > 0 {
			t.Errorf("%s: unrouted %v", s.Source, s.Unrouted)
		}
		if s.String() != figures[s.Source] {
			t.Errorf("%s: %s, want %s", s.Source, s, figures[s.Source])
		}
		for _, r := range s.Routes {
			if w, ok := want[s.Source][r.Type]; ok && r.Runbook != w {
				t.Errorf("%s %s → %s (rule %s), want %s", s.Source, r.Type, r.Runbook, r.Rule, w)
			}
		}
	}
}

// TestDocSourceConsolidation: docs/rules.md's table of the other sources
// is the library's.
func TestDocSourceConsolidation(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rule.SourceConsolidation(builtinRules(t)) {
		var per []string
		for _, c := range s.PerRunbook {
			per = append(per, fmt.Sprintf("`%s` %d", c.Runbook, c.Types))
		}
		row := fmt.Sprintf("| `%s` (by `%s`) | %d | %d | %s |", s.Source, s.Key, s.Types, s.Runbooks, strings.Join(per, ", "))
		if !strings.Contains(string(page), row) {
			t.Errorf("%s has no row %s", docPage, row)
		}
	}
}
