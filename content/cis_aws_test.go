package content_test

// The CIS AWS Foundations v3.0 pack over recorded accounts: the AWS
// provider's inventory of each recording (replayed through the real SDK),
// evaluated by the compliance engine with the built-in library. The
// expected verdicts come from how the recordings were built
// (testdata/aws/README.md), not from the rules.

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	builtin "github.com/flywheel-ops/flywheel/content"
	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const (
	recordings = "../testdata/aws"
	cisPack    = "cis-aws-foundations-v3.0"
	C, NC, NA  = compliance.Compliant, compliance.NonCompliant, compliance.NotApplicable
)

// recordedSubjects inventories a recorded account (acme, or a variant
// overlaid on it) and prepares its resources for evaluation.
func recordedSubjects(t *testing.T, variant string) []compliance.Subject {
	t.Helper()
	dirs := []string{recordings + "/acme"}
	if variant != "acme" {
		dirs = append(dirs, recordings+"/"+variant)
	}
	inv, _, err := provider.Recorded(dirs[0], dirs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	acct := store.AWSAccount{TenantID: "t1", ID: "123456789012", Regions: []string{"eu-west-1"}}
	res, err := inv.Collect(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	var out []compliance.Subject
	for _, r := range res.Resources {
		s, err := compliance.Prepare(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func cisPlan(t *testing.T) (*compliance.Plan, *compliance.Library) {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lib.Packs("t1") {
		if p.Name == cisPack {
			return compliance.NewPlan([]*compliance.Pack{p}), lib
		}
	}
	t.Fatalf("no pack %s", cisPack)
	return nil, nil
}

// short names a resource in the table: the last part of its ARN.
func short(id string) string {
	return id[strings.LastIndexAny(id, ":/")+1:]
}

// want is, per rule, per recording, every resource of the rule's type
// and its verdict.
var want = map[string]map[string]map[string]compliance.Status{
	"iam-root-access-key-check":         {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"root-account-mfa-enabled":          {"acme": {"123456789012": C}, "hooli": {"123456789012": NC}, "initech": {"123456789012": NA}},
	"root-account-hardware-mfa-enabled": {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"root-account-regular-use":          {"acme": {"123456789012": C}, "globex": {"123456789012": NC}, "initech": {"123456789012": NA}},
	"iam-password-policy-minimum-length": {"acme": {"123456789012": NC}, "globex": {"123456789012": C},
		"initech": {"123456789012": NC}}, // no policy at all
	"iam-password-policy-reuse-prevention": {"acme": {"123456789012": C}, "globex": {"123456789012": NC}},
	"mfa-enabled-for-iam-console-access": {"acme": {"alice": C, "bob": NC, "ci-deploy": NA},
		"initech": {"alice": NA, "bob": NA, "ci-deploy": NA}}, // no credential report
	"iam-user-console-and-api-access-at-creation": {"acme": {"alice": C, "bob": C, "ci-deploy": NA},
		"globex": {"alice": C, "bob": NC, "ci-deploy": NA}},
	"iam-user-unused-console-password": {"acme": {"alice": C, "bob": NC, "ci-deploy": NA},
		"globex": {"alice": C, "bob": C, "ci-deploy": NA}},
	"iam-user-unused-access-keys": {"acme": {"alice": C, "bob": NA, "ci-deploy": C},
		"globex": {"alice": C, "bob": NC, "ci-deploy": C}},
	"iam-user-single-access-key":                 {"acme": {"alice": C, "bob": C, "ci-deploy": NC}},
	"access-keys-rotated":                        {"acme": {"alice": C, "bob": NA, "ci-deploy": NC}},
	"iam-user-no-policies-check":                 {"acme": {"alice": C, "bob": C, "ci-deploy": NC}},
	"iam-policy-no-statements-with-admin-access": {"acme": {"ci-admin": NC, "app-read": C}},
	"iam-support-role-created":                   {"acme": {"123456789012": C}, "globex": {"123456789012": NC}, "initech": {"123456789012": NA}},
	"iam-expired-certificates":                   {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"iam-access-analyzer-enabled":                {"acme": {"123456789012": C}, "globex": {"123456789012": NC}, "initech": {"123456789012": NA}},
	"s3-bucket-ssl-requests-only":                {"acme": {"acme-cloudtrail-logs": NC, "acme-public-assets": NC, "acme-secure-data": C}},
	"s3-bucket-mfa-delete-enabled":               {"acme": {"acme-cloudtrail-logs": NC, "acme-public-assets": NC, "acme-secure-data": C}},
	"s3-bucket-level-public-access-prohibited": {"acme": {"acme-cloudtrail-logs": C, "acme-public-assets": NC, "acme-secure-data": C},
		"globex": {"acme-cloudtrail-logs": C, "acme-public-assets": C, "acme-secure-data": C}}, // the account's block
	"ec2-ebs-encryption-by-default":               {"acme": {"123456789012": NC}, "globex": {"123456789012": C}},
	"encrypted-volumes":                           {"acme": {"vol-0a": NC, "vol-0b": C}},
	"rds-storage-encrypted":                       {"acme": {"orders-db": C, "legacy-db": NC}},
	"rds-automatic-minor-version-upgrade-enabled": {"acme": {"orders-db": C, "legacy-db": NC}},
	"rds-instance-public-access-check":            {"acme": {"orders-db": C, "legacy-db": NC}},
	"efs-encrypted-check":                         {"acme": {"fs-0a1b2c3d4e5f60001": C, "fs-0a1b2c3d4e5f60002": NC}},
	"multi-region-cloudtrail-enabled":             {"acme": {"123456789012": C}, "globex": {"123456789012": NC}, "initech": {"123456789012": NA}},
	"cloud-trail-log-file-validation-enabled":     {"acme": {"org-trail": C}, "globex": {"eu-trail": NC}},
	"config-enabled-all-regions":                  {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"cloudtrail-s3-bucket-access-logging": {"acme": {"org-trail": NC}, "globex": {"eu-trail": C},
		"initech": {"ops-trail": NA}}, // its bucket is in another account
	"cloud-trail-encryption-enabled": {"acme": {"org-trail": C}, "globex": {"eu-trail": NC}},
	"cmk-backing-key-rotation-enabled": {"acme": {
		"1f2e3d4c-0000-4000-8000-00000000c0de": C, "2a3b4c5d-0000-4000-8000-0000000000b2": NC,
		"3c4d5e6f-0000-4000-8000-0000000000a3": NA}}, // AWS-managed
	"vpc-flow-logs-enabled":             {"acme": {"vpc-0a11": C, "vpc-0b22": NC}, "initech": {"vpc-0a11": NA, "vpc-0b22": NA}},
	"cloudtrail-s3-dataevents-write":    {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"cloudtrail-s3-dataevents-read":     {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
	"nacl-no-unrestricted-ssh-rdp":      {"acme": {"acl-0default": NC, "acl-0private": C}},
	"restricted-ssh-rdp-ipv4":           {"acme": {"sg-0default": C, "sg-0default2": C, "sg-0ssh": NC, "sg-0rdp6": C, "sg-0web": C}},
	"restricted-ssh-rdp-ipv6":           {"acme": {"sg-0default": C, "sg-0default2": C, "sg-0ssh": C, "sg-0rdp6": NC, "sg-0web": C}},
	"vpc-default-security-group-closed": {"acme": {"sg-0default": NC, "sg-0default2": C, "sg-0ssh": NA, "sg-0rdp6": NA, "sg-0web": NA}},
	"ec2-imdsv2-check": {"acme": {"i-0a1b2c3d4e5f60001": NC, "i-0a1b2c3d4e5f60002": C},
		"globex": {"i-0a1b2c3d4e5f60001": NC, "i-0a1b2c3d4e5f60003": NA}}, // terminated
	// CIS 4.1–4.15: acme alarms root use to a subscribed topic and unauthorized
	// calls to a topic whose subscription is pending; globex's trail is
	// single-region; hooli has every filter; initech may not read filters.
	"alarm-unauthorized-api-calls":     {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-sign-in-without-mfa":        {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-root-account-use":           {"acme": {"123456789012": C}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-iam-policy-change":          {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-cloudtrail-config-change":   {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-console-auth-failures":      {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-cmk-deletion":               {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-s3-bucket-policy-change":    {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-config-change":              {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-security-group-change":      {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-nacl-change":                {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-vpc-network-gateway-change": {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-vpc-route-table-change":     {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-vpc-change":                 {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"alarm-organizations-change":       {"acme": {"123456789012": NC}, "globex": {"123456789012": NC}, "hooli": {"123456789012": C}, "initech": {"123456789012": NA}},
	"securityhub-enabled":              {"acme": {"123456789012": NC}, "globex": {"123456789012": C}, "initech": {"123456789012": NA}},
}

// TestCISAWSRules runs every rule of the pack over the recorded accounts
// and checks each verdict, and that each rule is seen compliant,
// non-compliant and (when it has an applies condition) not applicable.
func TestCISAWSRules(t *testing.T) {
	t.Parallel()
	plan, lib := cisPlan(t)
	verdicts := map[string]map[string]map[string]compliance.Finding{} // rule → recording → resource
	for _, variant := range []string{"acme", "globex", "initech", "hooli"} {
		for _, f := range plan.Evaluate(recordedSubjects(t, variant)).Findings(nil, time.Now()) {
			if verdicts[f.Rule.Name] == nil {
				verdicts[f.Rule.Name] = map[string]map[string]compliance.Finding{}
			}
			if verdicts[f.Rule.Name][variant] == nil {
				verdicts[f.Rule.Name][variant] = map[string]compliance.Finding{}
			}
			verdicts[f.Rule.Name][variant][short(f.Resource.ID)] = f
		}
	}
	for _, pr := range plan.Packs[0].Rules {
		name := pr.Rule.Name
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected verdicts", name)
			continue
		}
		seen := map[compliance.Status]bool{}
		for variant, resources := range w {
			got := verdicts[name][variant]
			for id, status := range resources {
				seen[status] = true
				f, ok := got[id]
				switch {
				case !ok:
					t.Errorf("%s on %s/%s: not evaluated, want %s", name, variant, id, status)
				case f.Status != status:
					t.Errorf("%s on %s/%s: %s (%s), want %s", name, variant, id, f.Status, f.Annotation, status)
				case status == NC && f.Annotation == "":
					t.Errorf("%s on %s/%s: no annotation", name, variant, id)
				}
			}
			for id, f := range got {
				if _, ok := resources[id]; !ok {
					t.Errorf("%s on %s/%s: %s, not in the table", name, variant, id, f.Status)
				}
			}
		}
		if !seen[C] || !seen[NC] {
			t.Errorf("%s: the recordings show it %v; want both compliant and non-compliant", name, seen)
		}
		if r, _ := lib.Rule(name); r != nil && ruleHasApplies(t, name) && !seen[NA] {
			t.Errorf("%s has an applies condition no recording makes false", name)
		}
	}
	if len(want) != len(plan.Packs[0].Rules) || len(want) != 56 {
		t.Errorf("table has %d rules, pack %d", len(want), len(plan.Packs[0].Rules))
	}
}

// ruleHasApplies reads the rule's file for an applies condition.
func ruleHasApplies(t *testing.T, name string) bool {
	t.Helper()
	b, err := builtinFile("compliance/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(b, "\n  applies:")
}

// TestCISAWSScore: the pack's compliance figure on the recorded account
// acme is its compliant share of rule-resource pairs counted from the
// table (AWS Config's conformance pack score).
func TestCISAWSScore(t *testing.T) {
	t.Parallel()
	plan, _ := cisPlan(t)
	var c, nc int
	for _, w := range want {
		for _, s := range w["acme"] {
			switch s {
			case C:
				c++
			case NC:
				nc++
			}
		}
	}
	rep := plan.Evaluate(recordedSubjects(t, "acme")).Report("t1", nil, time.Now())
	if len(rep.Packs) != 1 {
		t.Fatalf("packs %+v", rep.Packs)
	}
	p := rep.Packs[0]
	if p.Score.Compliant != c || p.Score.NonCompliant != nc {
		t.Errorf("score %+v, want %d compliant, %d non-compliant", p.Score, c, nc)
	}
	// 43 compliant of 90 counted pairs (testdata/aws/acme/README.md
	// counts them; docs/aws.md quotes it).
	if c != 43 || nc != 47 || p.CompliancePercent != 47.78 {
		t.Errorf("acme scores %.2f %% (%d/%d), want 47.78 %% (43/90)", p.CompliancePercent, c, c+nc)
	}
}

func builtinFile(p string) (string, error) {
	b, err := fs.ReadFile(builtin.FS, p)
	return string(b), err
}
