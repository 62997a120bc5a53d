package rule_test

import (
	"bufio"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
)

var update = flag.Bool("update", false, "rewrite testdata/consolidation.golden")

// The five remediation runbooks the built-in rules consolidate findings
// onto.
const (
	isolate  = "isolate-ec2-instance"
	disable  = "disable-access-key"
	block    = "block-s3-public-access"
	revoke   = "revoke-world-open-ingress"
	fallback = "collect-diagnostics-and-escalate"
)

// expectedFallbacks are the GuardDuty types no specific runbook fits, so
// they collect diagnostics and escalate. Each group says why.
var expectedFallbacks = []string{
	// Containers, Kubernetes and ECS: none of the five runbooks acts on a
	// cluster, pod or task (isolating a node for one pod is not a fit).
	"AttackSequence:ECS/CompromisedCluster",
	"AttackSequence:EKS/CompromisedCluster",
	"CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
	"CredentialAccess:Kubernetes/MaliciousIPCaller",
	"CredentialAccess:Kubernetes/MaliciousIPCaller.Custom",
	"CredentialAccess:Kubernetes/SuccessfulAnonymousAccess",
	"CredentialAccess:Kubernetes/TorIPCaller",
	"DefenseEvasion:Kubernetes/MaliciousIPCaller",
	"DefenseEvasion:Kubernetes/MaliciousIPCaller.Custom",
	"DefenseEvasion:Kubernetes/SuccessfulAnonymousAccess",
	"DefenseEvasion:Kubernetes/TorIPCaller",
	"Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
	"Discovery:Kubernetes/MaliciousIPCaller",
	"Discovery:Kubernetes/MaliciousIPCaller.Custom",
	"Discovery:Kubernetes/SuccessfulAnonymousAccess",
	"Discovery:Kubernetes/TorIPCaller",
	"Execution:Kubernetes/AnomalousBehavior.ExecInPod",
	"Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed",
	"Execution:Kubernetes/ExecInKubeSystemPod",
	"Impact:Kubernetes/MaliciousIPCaller",
	"Impact:Kubernetes/MaliciousIPCaller.Custom",
	"Impact:Kubernetes/SuccessfulAnonymousAccess",
	"Impact:Kubernetes/TorIPCaller",
	"Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
	"Persistence:Kubernetes/MaliciousIPCaller",
	"Persistence:Kubernetes/MaliciousIPCaller.Custom",
	"Persistence:Kubernetes/SuccessfulAnonymousAccess",
	"Persistence:Kubernetes/TorIPCaller",
	"Policy:Kubernetes/AdminAccessToDefaultServiceAccount",
	"Policy:Kubernetes/AnonymousAccessGranted",
	"Policy:Kubernetes/ExposedDashboard",
	"Policy:Kubernetes/KubeflowDashboardExposed",
	"PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
	"PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated",
	"PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer",
	"Persistence:Kubernetes/ContainerWithSensitiveMount",
	"PrivilegeEscalation:Kubernetes/PrivilegedContainer",
	"Execution:Container/MaliciousFile",
	"Execution:Container/SuspiciousFile",
	"Execution:ECS/MaliciousFile",
	"Execution:ECS/SuspiciousFile",
	"Execution:Kubernetes/MaliciousFile",
	"Execution:Kubernetes/SuspiciousFile",
	// Lambda functions: no runbook acts on a function.
	"Backdoor:Lambda/C&CActivity.B",
	"CryptoCurrency:Lambda/BitcoinTool.B",
	"Trojan:Lambda/BlackholeTraffic",
	"Trojan:Lambda/DropPoint",
	"UnauthorizedAccess:Lambda/MaliciousIPCaller.Custom",
	"UnauthorizedAccess:Lambda/TorClient",
	"UnauthorizedAccess:Lambda/TorRelay",
	// Root credentials cannot be disabled through IAM.
	"Policy:IAMUser/RootCredentialUsage",
	"Policy:IAMUser/ShortTermRootCredentialUsage",
	// Database logins from ordinary addresses: the database credentials,
	// not its network exposure, are in question.
	"CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
	"CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
	"CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",
	// Logging turned off on a bucket: re-enabling it is no listed runbook.
	"Stealth:S3/ServerAccessLoggingDisabled",
	// Malware in images, snapshots, recovery points and objects: nothing
	// running to isolate.
	"Execution:EC2/MaliciousFile!AMI",
	"Execution:EC2/MaliciousFile!RecoveryPoint",
	"Execution:EC2/MaliciousFile!Snapshot",
	"Execution:S3/MaliciousFile!RecoveryPoint",
	"Object:S3/MaliciousFile",
}

// wantCounts is how many of the 216 types each runbook takes.
var wantCounts = map[string]int{isolate: 84, fallback: 61, disable: 56, revoke: 11, block: 4}

// referenceTypes reads the catalogue file itself, apart from the embedding
// parser, so a parsing slip shows.
func referenceTypes(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(typesFile)
	if err != nil {
		t.Fatalf("the GuardDuty finding type list is missing: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGuardDutyConsolidation is the acceptance table: every one of the
// 216 GuardDuty finding types, delivered through EventBridge and
// normalized by the real adapter, routes to a runbook — a specific one
// wherever one fits, the fallback exactly for expectedFallbacks.
func TestGuardDutyConsolidation(t *testing.T) {
	t.Parallel()
	types := referenceTypes(t)
	if len(types) != 216 {
		t.Fatalf("%s lists %d types, want 216", typesFile, len(types))
	}
	if got := rule.GuardDutyFindingTypes(); !slices.Equal(got, types) {
		t.Fatalf("GuardDutyFindingTypes differs from the lines of %s", typesFile)
	}
	rs := builtinRules(t)
	fallbacks := map[string]bool{}
	for _, typ := range expectedFallbacks {
		if !slices.Contains(types, typ) {
			t.Errorf("expected fallback %s is not a GuardDuty type", typ)
		}
		fallbacks[typ] = true
	}

	counts := map[string]int{}
	var table strings.Builder
	for _, typ := range types {
		ev := guardDutyEvent(t, typ, "", true)
		o := opsItemFor(&ev)
		m, ok := rs.Route(&ev, &o)
		if !ok {
			t.Errorf("%s routes to no runbook", typ)
			continue
		}
		rb := m.Rule.Runbook
		counts[rb]++
		fmt.Fprintf(&table, "%-90s %-32s %-34s %s\n", typ, m.Rule.Name, rb, m.Rule.Mode)
		switch {
		case fallbacks[typ] && rb != fallback:
			t.Errorf("%s routes to %s (rule %s); expected the fallback", typ, rb, m.Rule.Name)
		case !fallbacks[typ] && rb == fallback:
			t.Errorf("%s falls back to %s; a specific runbook fits it", typ, rb)
		}
		if len(m.Errors) > 0 {
			t.Errorf("%s: rule %s: %v", typ, m.Rule.Name, m.Errors)
		}
		// Remediation runbooks get the resource they act on.
		for name, v := range m.Parameters {
			if s, _ := v.(string); s == "" && name != "port" && !(rb == block && name == "bucket") {
				t.Errorf("%s: rule %s gives %s an empty %s", typ, m.Rule.Name, rb, name)
			}
		}
	}
	if !maps.Equal(counts, wantCounts) {
		t.Errorf("types per runbook = %v, want %v", counts, wantCounts)
	}

	// The whole table is kept as a golden file, so any change in routing
	// shows up in review.
	golden := "testdata/consolidation.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGuardDutyConsolidation -update)", err)
	}
	if string(want) != table.String() {
		t.Errorf("routing differs from %s (run with -update and review the diff)", golden)
	}
}

// TestConsolidationFigure: the package's figure, from its own sample
// findings, agrees with the adapter-built table above.
func TestConsolidationFigure(t *testing.T) {
	t.Parallel()
	rs := builtinRules(t)
	s := rule.Consolidation(rs, rule.GuardDutyFindingTypes())
	if got := s.String(); got != "216 finding types → 5 runbooks" {
		t.Errorf("figure = %q", got)
	}
	if len(s.Unrouted) != 0 {
		t.Errorf("unrouted: %v", s.Unrouted)
	}
	got := map[string]int{}
	for _, c := range s.PerRunbook {
		got[c.Runbook] = c.Types
	}
	if !maps.Equal(got, wantCounts) {
		t.Errorf("per runbook = %v, want %v", got, wantCounts)
	}
	if first := s.PerRunbook[0]; first.Runbook != isolate || !slices.Equal(first.Rules, []string{"guardduty-compromised-instance"}) {
		t.Errorf("largest share = %+v", first)
	}
	for i, r := range s.Routes {
		ev := guardDutyEvent(t, r.Type, "", true)
		sample := rule.SampleGuardDutyFinding(r.Type)
		for _, k := range []string{"finding_type", "threat_purpose", "resource_type_affected", "threat_family",
			"detection_mechanism", "artifact", "resource_type", "account", "region"} {
			if ev.Labels[k] != sample.Labels[k] {
				t.Errorf("%s: sample label %s = %q, the adapter says %q", r.Type, k, sample.Labels[k], ev.Labels[k])
			}
		}
		o := opsItemFor(&ev)
		if m, _ := rs.Route(&ev, &o); m.Rule == nil || m.Rule.Name != r.Rule {
			t.Errorf("routes[%d] %s: figure says rule %s, the adapter's event goes to %v", i, r.Type, r.Rule, m.Rule)
		}
	}
}

// TestRoutingByRole: the same brute-force type routes by who the instance
// is — knocked on (revoke the open port) or knocking (compromised).
func TestRoutingByRole(t *testing.T) {
	t.Parallel()
	rs := builtinRules(t)
	for _, tc := range []struct{ typ, role, want string }{
		{"UnauthorizedAccess:EC2/SSHBruteForce", "TARGET", revoke},
		{"UnauthorizedAccess:EC2/SSHBruteForce", "ACTOR", isolate},
		{"Impact:EC2/WinRMBruteForce", "ACTOR", isolate},
		{"Recon:EC2/PortProbeUnprotectedPort", "TARGET", revoke},
		{"CryptoCurrency:EC2/BitcoinTool.B!DNS", "ACTOR", isolate},
	} {
		ev := guardDutyEvent(t, tc.typ, tc.role, true)
		o := opsItemFor(&ev)
		if m, _ := rs.Route(&ev, &o); m.Rule == nil || m.Rule.Runbook != tc.want {
			t.Errorf("%s as %s: %v, want %s", tc.typ, tc.role, m.Rule, tc.want)
		}
	}
	// An S3 caller without credentials came in through public access.
	for _, typ := range []string{"Discovery:S3/MaliciousIPCaller", "Exfiltration:S3/AnomalousBehavior", "UnauthorizedAccess:S3/TorIPCaller"} {
		ev := guardDutyEvent(t, typ, "", false)
		o := opsItemFor(&ev)
		m, _ := rs.Route(&ev, &o)
		if m.Rule == nil || m.Rule.Runbook != block || m.Parameters["bucket"] != "acme-data" {
			t.Errorf("anonymous %s: %+v", typ, m)
		}
	}
	ev := guardDutyEvent(t, "Policy:S3/AccountBlockPublicAccessDisabled", "", true)
	o := opsItemFor(&ev)
	if m, _ := rs.Route(&ev, &o); m.Rule == nil || m.Rule.Runbook != block || m.Parameters["bucket"] != "" {
		t.Errorf("account-level block public access: %+v, want block with bucket \"\" (the account)", m)
	}
}

// TestFixtureRouting routes the shared EventBridge fixtures of every
// finding source: real payloads, through the real adapter.
func TestFixtureRouting(t *testing.T) {
	t.Parallel()
	rs := builtinRules(t)
	for _, tc := range []struct {
		fixture string
		want    []string // runbook per event
		params  map[string]any
	}{
		{"guardduty-ssh-bruteforce.json", []string{revoke}, map[string]any{"resource_id": "i-05617b8c8cc2687e3", "port": "22", "resource_type": "ec2-instance"}},
		{"guardduty-cryptocurrency.json", []string{isolate}, map[string]any{"instance_id": "i-02df00202c8d153a7"}},
		{"guardduty-iam-anomalous.json", []string{disable}, map[string]any{"access_key_id": "AKIAYIZDXYS5N5GXCDN3", "user_name": "ci-deployer"}},
		{"guardduty-s3.json", []string{disable}, map[string]any{"access_key_id": "ASIA4PVZFIM4GYANSBQQ", "user_name": "reporting-export-role"}},
		{"securityhub-findings-imported.json", []string{revoke, fallback}, map[string]any{"resource_id": "sg-0a9b404505ca54ef5", "resource_type": "security-group"}},
		{"inspector2-finding.json", []string{fallback}, map[string]any{"reason": "PACKAGE_VULNERABILITY"}},
		{"macie-finding.json", []string{block}, map[string]any{"bucket": "acme-marketing-assets-prod"}},
	} {
		evs := fixtureEvents(t, tc.fixture)
		if len(evs) != len(tc.want) {
			t.Fatalf("%s: %d events, want %d", tc.fixture, len(evs), len(tc.want))
		}
		for i := range evs {
			o := opsItemFor(&evs[i])
			m, ok := rs.Route(&evs[i], &o)
			if !ok || m.Rule.Runbook != tc.want[i] || len(m.Errors) > 0 {
				t.Errorf("%s[%d] (%s): %+v, want %s", tc.fixture, i, evs[i].Title, m, tc.want[i])
				continue
			}
			if i == 0 {
				for k, v := range tc.params {
					if m.Parameters[k] != v {
						t.Errorf("%s: parameter %s = %v, want %v", tc.fixture, k, m.Parameters[k], v)
					}
				}
			}
		}
	}
	// Inspector vulnerabilities are filed under patching on the way.
	ev := fixtureEvents(t, "inspector2-finding.json")[0]
	o := opsItemFor(&ev)
	ms, _ := rs.Evaluate(&ev, &o)
	if len(ms) != 2 || ms[0].Rule.Set.Category != "patching" || ms[1].Rule.Runbook != fallback {
		t.Errorf("inspector matches = %v", ruleNames(ms))
	}
	// An Inspector network-reachability finding revokes the open ingress.
	ev.Labels["finding_type"] = "NETWORK_REACHABILITY"
	if m, _ := rs.Route(&ev, &o); m.Rule == nil || m.Rule.Runbook != revoke || m.Parameters["resource_id"] != "i-015de4c7d28bab629" {
		t.Errorf("network reachability: %+v", m)
	}
	// Alerts are not findings: no rule of the library acts on them.
	alert := event.Event{Source: "alertmanager", Kind: event.KindAlert, Status: event.StatusFiring, Title: "NodeFilesystemAlmostFull"}
	if ms, errs := rs.Evaluate(&alert, nil); len(ms) != 0 || len(errs) != 0 {
		t.Errorf("alert: matches %v, errors %v", ruleNames(ms), errs)
	}
	// A finding from a source nobody wrote rules for still falls back.
	odd := event.Event{Source: "generic:scanner", Kind: event.KindFinding, Status: event.StatusFiring, Title: "weird"}
	if m, ok := rs.Route(&odd, nil); !ok || m.Rule.Runbook != fallback {
		t.Errorf("unknown finding source: %+v", m)
	}
}

func ruleNames(ms []rule.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule.Name)
	}
	return out
}
