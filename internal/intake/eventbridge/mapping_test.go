package eventbridge

import (
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

func TestGuardDutySeverity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		score float64
		want  event.Severity
	}{
		{0, event.SeverityInfo},
		{0.9, event.SeverityInfo},
		{1, event.SeverityLow},
		{2, event.SeverityLow},
		{3.9, event.SeverityLow},
		{3.95, event.SeverityLow},
		{4, event.SeverityMedium},
		{5, event.SeverityMedium},
		{6.9, event.SeverityMedium},
		{6.99, event.SeverityMedium},
		{7, event.SeverityHigh},
		{8, event.SeverityHigh},
		{8.9, event.SeverityHigh},
		{9, event.SeverityCritical},
		{10, event.SeverityCritical},
		{-1, event.SeverityInfo},
	} {
		if got := GuardDutySeverity(tc.score); got != tc.want {
			t.Errorf("GuardDutySeverity(%v) = %s, want %s", tc.score, got, tc.want)
		}
	}
}

func TestSecurityHubSeverity(t *testing.T) {
	t.Parallel()
	for label, want := range map[string]event.Severity{
		"CRITICAL":      event.SeverityCritical,
		"HIGH":          event.SeverityHigh,
		"MEDIUM":        event.SeverityMedium,
		"LOW":           event.SeverityLow,
		"INFORMATIONAL": event.SeverityInfo,
		"high":          event.SeverityHigh,
		"":              "",
		"SEVERE":        "",
	} {
		if got := SecurityHubSeverity(label); got != want {
			t.Errorf("SecurityHubSeverity(%q) = %q, want %q", label, got, want)
		}
	}
	for _, tc := range []struct {
		n    float64
		want event.Severity
	}{
		{0, event.SeverityInfo}, {1, event.SeverityLow}, {39, event.SeverityLow}, {40, event.SeverityMedium},
		{69, event.SeverityMedium}, {70, event.SeverityHigh}, {89, event.SeverityHigh}, {90, event.SeverityCritical}, {100, event.SeverityCritical},
	} {
		if got := securityHubNormalized(tc.n); got != tc.want {
			t.Errorf("securityHubNormalized(%v) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestSecurityHubResolved(t *testing.T) {
	t.Parallel()
	type wf = struct {
		Status string `json:"Status"`
	}
	type comp = struct {
		Status              string   `json:"Status"`
		SecurityControlID   string   `json:"SecurityControlId"`
		RelatedRequirements []string `json:"RelatedRequirements"`
	}
	for _, tc := range []struct {
		name string
		f    asffFinding
		want bool
	}{
		{"active new failed", asffFinding{RecordState: "ACTIVE", Workflow: &wf{"NEW"}, Compliance: &comp{Status: "FAILED"}}, false},
		{"archived", asffFinding{RecordState: "ARCHIVED"}, true},
		{"workflow resolved", asffFinding{Workflow: &wf{"RESOLVED"}}, true},
		{"workflow suppressed", asffFinding{Workflow: &wf{"SUPPRESSED"}}, true},
		{"workflow notified", asffFinding{Workflow: &wf{"NOTIFIED"}}, false},
		{"compliance passed", asffFinding{Compliance: &comp{Status: "PASSED"}}, true},
		{"compliance warning", asffFinding{Compliance: &comp{Status: "WARNING"}}, false},
		{"nothing", asffFinding{}, false},
	} {
		if got := securityHubResolved(&tc.f); got != tc.want {
			t.Errorf("%s: resolved = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestInspectorSeverity(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]event.Severity{
		"CRITICAL": event.SeverityCritical, "HIGH": event.SeverityHigh, "MEDIUM": event.SeverityMedium,
		"LOW": event.SeverityLow, "INFORMATIONAL": event.SeverityInfo, "UNTRIAGED": event.SeverityMedium, "": event.SeverityMedium,
	} {
		if got := InspectorSeverity(s); got != want {
			t.Errorf("InspectorSeverity(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestMacieSeverity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		desc  string
		score float64
		want  event.Severity
	}{
		{"High", 3, event.SeverityHigh},
		{"Medium", 2, event.SeverityMedium},
		{"Low", 1, event.SeverityLow},
		{"", 3, event.SeverityHigh},
		{"", 1, event.SeverityLow},
		{"", 2, event.SeverityMedium},
		{"", 0, event.SeverityMedium},
		{"HIGH", 1, event.SeverityHigh}, // the description wins
	} {
		if got := MacieSeverity(tc.desc, tc.score); got != tc.want {
			t.Errorf("MacieSeverity(%q, %v) = %s, want %s", tc.desc, tc.score, got, tc.want)
		}
	}
}

func TestStateMappings(t *testing.T) {
	t.Parallel()
	type sv struct {
		status   event.Status
		severity event.Severity
	}
	alarm := map[string]sv{
		"ALARM":             {event.StatusFiring, event.SeverityHigh},
		"OK":                {event.StatusResolved, event.SeverityHigh},
		"INSUFFICIENT_DATA": {event.StatusFiring, event.SeverityLow},
		"SOMETHING_NEW":     {event.StatusFiring, event.SeverityLow},
	}
	for state, want := range alarm {
		if got := (sv{AlarmStatus(state), AlarmSeverity(state)}); got != want {
			t.Errorf("alarm %s = %v, want %v", state, got, want)
		}
	}
	config := map[string]sv{
		"NON_COMPLIANT":     {event.StatusFiring, event.SeverityMedium},
		"COMPLIANT":         {event.StatusResolved, event.SeverityMedium},
		"NOT_APPLICABLE":    {event.StatusResolved, event.SeverityMedium},
		"INSUFFICIENT_DATA": {event.StatusFiring, event.SeverityInfo},
	}
	for ct, want := range config {
		status, sev := ConfigCompliance(ct)
		if got := (sv{status, sev}); got != want {
			t.Errorf("config %s = %v, want %v", ct, got, want)
		}
	}
	ec2 := map[string]sv{
		"pending":       {event.StatusResolved, event.SeverityInfo},
		"running":       {event.StatusResolved, event.SeverityInfo},
		"stopping":      {event.StatusFiring, event.SeverityInfo},
		"stopped":       {event.StatusFiring, event.SeverityLow},
		"shutting-down": {event.StatusFiring, event.SeverityInfo},
		"terminated":    {event.StatusFiring, event.SeverityLow},
	}
	for state, want := range ec2 {
		status, sev := EC2State(state)
		if got := (sv{status, sev}); got != want {
			t.Errorf("ec2 %s = %v, want %v", state, got, want)
		}
	}
	for cat, want := range map[string]event.Severity{
		"issue": event.SeverityHigh, "investigation": event.SeverityMedium, "scheduledChange": event.SeverityMedium,
		"accountNotification": event.SeverityInfo, "": event.SeverityLow,
	} {
		if got := HealthSeverity(cat); got != want {
			t.Errorf("HealthSeverity(%q) = %s, want %s", cat, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 in UTC; "" means an error
	}{
		{"2026-03-10T15:25:12Z", "2026-03-10T15:25:12Z"},
		{"2026-03-10T15:00:41.618Z", "2026-03-10T15:00:41.618Z"},
		{"2026-03-10T17:00:41.618+02:00", "2026-03-10T15:00:41.618Z"},
		{"2026-03-10T15:00:41.187+0000", "2026-03-10T15:00:41.187Z"},
		{"2026-03-10T16:00:41.187+0100", "2026-03-10T15:00:41.187Z"},
		{"Tue, 24 Mar 2026 09:00:00 GMT", "2026-03-24T09:00:00Z"},
		{"Tue, 24 Mar 2026 10:00:00 +0100", "2026-03-24T09:00:00Z"},
		{"Tue Mar 10 11:42:09.318 UTC 2026", "2026-03-10T11:42:09.318Z"},
		{"Fri Mar 06 03:14:27.530 UTC 2026", "2026-03-06T03:14:27.53Z"},
		{"Fri Mar  6 03:14:27 UTC 2026", "2026-03-06T03:14:27Z"},
		{" 2026-03-10T15:25:12Z ", "2026-03-10T15:25:12Z"},
		{"9999-12-31T23:59:59-23:59", ""}, // past year 9999 in UTC
		{"10/03/26 14:55:00", ""},
		{"yesterday", ""},
		{"", ""},
	} {
		got, err := ParseTime(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseTime(%q) = %v, want an error", tc.in, got)
		case tc.want != "" && err != nil:
			t.Errorf("ParseTime(%q): %v", tc.in, err)
		case tc.want != "":
			if s := got.Format(time.RFC3339Nano); s != tc.want || got.Location() != time.UTC {
				t.Errorf("ParseTime(%q) = %s (%v), want %s UTC", tc.in, s, got.Location(), tc.want)
			}
		}
	}
}

func TestThreatName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]threatName{
		"UnauthorizedAccess:EC2/SSHBruteForce":       {"UnauthorizedAccess", "EC2", "SSHBruteForce", "", ""},
		"CryptoCurrency:EC2/BitcoinTool.B!DNS":       {"CryptoCurrency", "EC2", "BitcoinTool", "B", "DNS"},
		"Backdoor:EC2/C&CActivity.B!DNS":             {"Backdoor", "EC2", "C&CActivity", "B", "DNS"},
		"Execution:EC2/MaliciousFile!AMI":            {"Execution", "EC2", "MaliciousFile", "", "AMI"},
		"CredentialAccess:IAMUser/AnomalousBehavior": {"CredentialAccess", "IAMUser", "AnomalousBehavior", "", ""},
		"PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer": {
			"PrivilegeEscalation", "Kubernetes", "AnomalousBehavior", "WorkloadDeployed", "PrivilegedContainer"},
		"Object:S3/MaliciousFile": {"Object", "S3", "MaliciousFile", "", ""},
		"NoColon":                 {Purpose: "NoColon"},
		"":                        {},
	} {
		if got := parseThreatName(in); got != want {
			t.Errorf("parseThreatName(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestResourceFromARN(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]event.ResourceRef{
		"arn:aws:ec2:us-east-1:111122223333:instance/i-011accafc243a5044": {Type: "ec2-instance", ID: "i-011accafc243a5044", Region: "us-east-1", Account: "111122223333"},
		"arn:aws:ec2:us-east-1:111122223333:security-group/sg-0a9b4045":   {Type: "security-group", ID: "sg-0a9b4045", Region: "us-east-1", Account: "111122223333"},
		"arn:aws:ec2:us-east-1:111122223333:volume/vol-1":                 {Type: "ebs-volume", ID: "vol-1", Region: "us-east-1", Account: "111122223333"},
		"arn:aws:s3:::acme-dev-scratch-exports":                           {Type: "s3-bucket", ID: "acme-dev-scratch-exports"},
		"arn:aws:s3:::bucket/dir/key.csv":                                 {Type: "s3-object", ID: "bucket/dir/key.csv"},
		"arn:aws:iam::111122223333:user/ops/ci-deployer":                  {Type: "iam-user", ID: "ci-deployer", Account: "111122223333"},
		"arn:aws:iam::111122223333:role/reporting":                        {Type: "iam-role", ID: "reporting", Account: "111122223333"},
		"arn:aws:cloudwatch:us-east-1:111122223333:alarm:disk":            {Type: "cloudwatch-alarm", ID: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:disk", Region: "us-east-1", Account: "111122223333"},
		"arn:aws:rds:eu-west-1:111122223333:db:orders":                    {Type: "rds-db", ID: "arn:aws:rds:eu-west-1:111122223333:db:orders", Region: "eu-west-1", Account: "111122223333"},
		"i-057dc66874541d46c":                                             {Type: "ec2-instance", ID: "i-057dc66874541d46c"},
		"111122223333":                                                    {Type: "aws-account", ID: "111122223333"},
		"something-else":                                                  {Type: "aws-resource", ID: "something-else"},
	} {
		got, ok := resourceFromARN(in)
		if !ok || got != want {
			t.Errorf("resourceFromARN(%q) = %+v, %v; want %+v", in, got, ok, want)
		}
	}
	for in, want := range map[string]string{
		"AwsEc2SecurityGroup": "security-group", "AwsS3Bucket": "s3-bucket", "AwsAccount": "aws-account",
		"AwsElbLoadBalancer": "aws-elb-load-balancer", "Other": "other",
	} {
		if got := asffResourceType(in); got != want {
			t.Errorf("asffResourceType(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"AWS::EC2::Volume": "ebs-volume", "AWS::::Account": "aws-account", "AWS::EC2::NatGateway": "ec2-natgateway",
	} {
		if got := configResourceType(in); got != want {
			t.Errorf("configResourceType(%q) = %q, want %q", in, got, want)
		}
	}
	if got := shortID("aws-account", "AWS::::Account:111122223333"); got != "111122223333" {
		t.Errorf("shortID(account) = %q", got)
	}
}
