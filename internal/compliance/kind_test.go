package compliance

import (
	"strings"
	"testing"
	"time"
)

// TestRuleValidation: each malformed rule is refused naming its field.
func TestRuleValidation(t *testing.T) {
	t.Parallel()
	ok := func() *RuleSpec {
		return &RuleSpec{ResourceType: "AWS::S3::Bucket", Check: "true", Controls: []string{"CIS-AWS-3.0:2.1.1"}, Severity: "high"}
	}
	for _, tc := range []struct {
		name string
		edit func(*RuleSpec)
		want string // "" is valid
	}{
		{"valid", func(*RuleSpec) {}, ""},
		{"no type", func(s *RuleSpec) { s.ResourceType = "" }, "resource_type: is required"},
		{"no check", func(s *RuleSpec) { s.Check = "" }, "check: is required"},
		{"check not bool", func(s *RuleSpec) { s.Check = `resource.name + "x"` }, "check: must be of type bool"},
		{"check unknown var", func(s *RuleSpec) { s.Check = `event.x == 1` }, "check: undeclared reference to 'event'"},
		{"annotation not string", func(s *RuleSpec) { s.Annotation = `1 + 2` }, "annotation: must be of type string"},
		{"bad control", func(s *RuleSpec) { s.Controls = []string{"2.1.1"} }, `controls[0]: "2.1.1" is not FRAMEWORK:CONTROL`},
		{"no controls", func(s *RuleSpec) { s.Controls = nil }, "controls: is empty"},
		{"twice", func(s *RuleSpec) { s.Controls = []string{"A:1", "A:1"} }, `controls[1]: "A:1" is listed twice`},
		{"severity", func(s *RuleSpec) { s.Severity = "urgent" }, `severity: "urgent" is not one of`},
		{"param name", func(s *RuleSpec) { s.Parameters = map[string]any{"max-age": 1} }, "parameters.max-age: is not a valid parameter name"},
		{"mode", func(s *RuleSpec) { s.Remediation = &Remediation{Runbook: "x", Mode: "yes"} }, `remediation.mode: "yes" is not one of auto, approval, manual`},
		{"no runbook", func(s *RuleSpec) { s.Remediation = &Remediation{} }, "remediation.runbook: is required"},
		{"attempts", func(s *RuleSpec) { s.Remediation = &Remediation{Runbook: "x", Attempts: 26} }, "remediation.attempts: 26 is not between 1 and 25"},
		{"retry", func(s *RuleSpec) { s.Remediation = &Remediation{Runbook: "x", RetryInterval: time.Millisecond} }, "remediation.retry_interval: 1ms is not between 1s"},
		{"blast radius", func(s *RuleSpec) { s.Remediation = &Remediation{Runbook: "x", MaxResources: -1} }, "remediation.max_resources: -1 is not between 1 and 1000"},
		{"remediation param", func(s *RuleSpec) {
			s.Remediation = &Remediation{Runbook: "x", Parameters: map[string]string{"bucket": "resource."}}
		}, "remediation.parameters.bucket: Syntax error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.edit(s)
			_, err := compileRule("r", s)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRemediationDefaults are AWS Config's: 5 attempts, 60 s apart; and
// a blast radius of 10 resources per run.
func TestRemediationDefaults(t *testing.T) {
	t.Parallel()
	s := &RuleSpec{ResourceType: "t", Check: "true", Controls: []string{"A:1"}, Severity: "low", Remediation: &Remediation{Runbook: "x"}}
	if _, err := compileRule("r", s); err != nil {
		t.Fatal(err)
	}
	if r := s.Remediation; r.Mode != ModeManual || r.Attempts != 5 || r.RetryInterval != time.Minute || r.MaxResources != 10 {
		t.Errorf("defaults: %+v", r)
	}
}
