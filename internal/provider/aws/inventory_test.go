package aws_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// acmeDir is the recorded account: testdata/aws/acme/README.md lists
// what it holds and its known violations.
const acmeDir = "../../../testdata/aws/acme"

var acme = store.AWSAccount{TenantID: "t1", ID: "123456789012", Name: "acme-prod", Regions: []string{"eu-west-1"}}

// acmeRole is acme reached as an MSP does: a role assumed with an
// external ID (the recording holds the AssumeRole answer).
var acmeRole = store.AWSAccount{TenantID: "t1", ID: "123456789012", Name: "acme-prod", Regions: []string{"eu-west-1"},
	RoleARN: "arn:aws:iam::123456789012:role/FlywheelAudit", ExternalID: "msp-7f3a"}

func collect(t *testing.T, dir string) (provider.Result, *placebo.Pill) {
	t.Helper()
	return collectAs(t, dir, acme)
}

func collectAs(t *testing.T, dir string, a store.AWSAccount) (provider.Result, *placebo.Pill) {
	t.Helper()
	inv, pill, err := provider.Recorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := inv.Collect(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	return res, pill
}

// config returns the config of the resource with id, decoded.
func config(t *testing.T, res provider.Result, id string) map[string]any {
	t.Helper()
	for _, r := range res.Resources {
		if r.ID == id {
			var m map[string]any
			if err := json.Unmarshal(r.Config, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no resource %s", id)
	return nil
}

// path reads a member of decoded JSON by dotted path; numbers index
// lists.
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestInventoryRecordedAccount(t *testing.T) {
	t.Parallel()
	res, pill := collectAs(t, acmeDir, acmeRole)
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if unused, err := pill.Unused(); err != nil || len(unused) > 0 {
		t.Errorf("recorded responses never asked for: %v (%v)", unused, err)
	}
	counts := map[string]int{}
	for _, r := range res.Resources {
		counts[r.Type]++
		if r.TenantID != "t1" || r.Name == "" || !strings.HasPrefix(r.ID, "arn:aws:") {
			t.Errorf("resource %+v: tenant, name or ARN missing", r)
		}
	}
	want := map[string]int{
		provider.TypeAccount: 1, provider.TypeUser: 3, provider.TypePolicy: 2, provider.TypeBucket: 3,
		provider.TypeInstance: 2, provider.TypeVolume: 2, provider.TypeSnapshot: 2, provider.TypeSecurityGroup: 5,
		provider.TypeNetworkACL: 2, provider.TypeVPC: 2, provider.TypeTrail: 1, provider.TypeConfigRecorder: 1,
		provider.TypeKMSKey: 3, provider.TypeDBInstance: 2, provider.TypeFileSystem: 2,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("resources by type = %v, want %v", counts, want)
	}
	for _, typ := range provider.Types {
		if !res.Complete[typ] {
			t.Errorf("%s not complete", typ)
		}
	}

	const a = "123456789012"
	for _, tc := range []struct {
		id, path string
		want     any
	}{
		// Account-wide facts.
		{"arn:aws:::" + a, "AccountSummary.AccountAccessKeysPresent", 1.0},
		{"arn:aws:::" + a, "PasswordPolicy.MinimumPasswordLength", 8.0},
		{"arn:aws:::" + a, "Regions.0.Region", "eu-west-1"},
		{"arn:aws:::" + a, "Regions.0.EbsEncryptionByDefault", false},
		{"arn:aws:::" + a, "Regions.0.ConfigurationRecorders.0.Status.Recording", false},
		{"arn:aws:::" + a, "Regions.0.SecurityHub.Enabled", false}, // InvalidAccessException: not subscribed
		{"arn:aws:::" + a, "Regions.0.AccessAnalyzers.0.Status", "ACTIVE"},
		// CIS 4.x: unauthorized calls alarm to a topic whose only
		// subscription is pending; root use to one with a confirmed one.
		{"arn:aws:::" + a, "Regions.0.MetricFilters.0.Alarms", []any{"cis-alarm-unauthorized-api-calls"}},
		{"arn:aws:::" + a, "Regions.0.MetricFilters.0.Subscribers", 0.0},
		{"arn:aws:::" + a, "Regions.0.MetricFilters.1.Subscribers", 1.0},
		{"arn:aws:::" + a, "Regions.0.MetricFilters.3.LogGroupName", "app-logs"},
		{"arn:aws:::" + a, "Regions.0.MetricFilters.1.Pattern",
			"{$.userIdentity.type=Root&&$.userIdentity.invokedByNOTEXISTS&&$.eventType!=AwsServiceEvent}"},
		{"arn:aws:elasticfilesystem:eu-west-1:" + a + ":file-system/fs-0a1b2c3d4e5f60002", "Encrypted", false},
		{"arn:aws:elasticfilesystem:eu-west-1:" + a + ":file-system/fs-0a1b2c3d4e5f60002", "Region", "eu-west-1"},
		{"arn:aws:::" + a, "Trails.0.IsMultiRegionTrail", true},
		{"arn:aws:::" + a, "Trails.0.Status.IsLogging", true},
		{"arn:aws:::" + a, "VirtualMFADevices.0.SerialNumber", "arn:aws:iam::" + a + ":mfa/root-account-mfa-device"},
		{"arn:aws:::" + a, "AWSSupportAccess.PolicyRoles.0.RoleName", "aws-support"},
		{"arn:aws:::" + a, "ExpiredServerCertificates", []any{"legacy-2019"}},
		{"arn:aws:::" + a, "RootLastUsedDays", 60.0}, // 2026-10-02 → recorded 2026-12-01
		{"arn:aws:::" + a, "CredentialReport.mfa_active", "true"},
		// Where each resource lives.
		{"arn:aws:s3:::acme-public-assets", "Region", "eu-west-1"},
		{"arn:aws:s3:::acme-public-assets", "AccountId", a},
		{"arn:aws:iam::" + a + ":user/bob", "Region", nil},
		{"arn:aws:ec2:eu-west-1:" + a + ":security-group/sg-0ssh", "Region", "eu-west-1"},
		// Users: credential report joined, keys with last use and ages.
		{"arn:aws:iam::" + a + ":user/bob", "PasswordEnabled", true},
		{"arn:aws:iam::" + a + ":user/bob", "MfaActive", false},
		{"arn:aws:iam::" + a + ":user/bob", "PasswordLastUsedDays", 213.0},
		{"arn:aws:iam::" + a + ":user/bob", "AccessKeys", []any{}},
		{"arn:aws:iam::" + a + ":user/ci-deploy", "AttachedManagedPolicies.0.PolicyName", "ci-admin"},
		{"arn:aws:iam::" + a + ":user/ci-deploy", "AccessKeys.0.AgeDays", 547.0},
		{"arn:aws:iam::" + a + ":user/ci-deploy", "AccessKeys.0.LastUsedDays", 2.0},
		{"arn:aws:iam::" + a + ":user/ci-deploy", "AccessKeys.1.LastUsedDays", -1.0},
		{"arn:aws:iam::" + a + ":user/ci-deploy", "AccessKeys.1.Status", "Active"},
		{"arn:aws:iam::" + a + ":user/alice", "GroupList.0", "admins"},
		// A policy document decoded, single values made lists.
		{"arn:aws:iam::" + a + ":policy/ci-admin", "Document.Statement.0.Action", []any{"*"}},
		{"arn:aws:iam::" + a + ":policy/app-read", "Document.Statement.0.Effect", "Allow"},
		// Buckets: settings read, not-configured ones absent.
		{"arn:aws:s3:::acme-public-assets", "PolicyStatus.IsPublic", true},
		{"arn:aws:s3:::acme-public-assets", "PublicAccessBlockConfiguration", nil},
		{"arn:aws:s3:::acme-public-assets", "Versioning", map[string]any{}},
		{"arn:aws:s3:::acme-public-assets", "Policy.Statement.0.Principal", "*"},
		{"arn:aws:s3:::acme-secure-data", "Versioning.MFADelete", "Enabled"},
		{"arn:aws:s3:::acme-secure-data", "LoggingEnabled.TargetBucket", "acme-cloudtrail-logs"},
		{"arn:aws:s3:::acme-secure-data", "PublicAccessBlockConfiguration.RestrictPublicBuckets", true},
		{"arn:aws:s3:::acme-cloudtrail-logs", "ServerSideEncryptionConfiguration.Rules.0.ApplyServerSideEncryptionByDefault.SSEAlgorithm", "aws:kms"},
		// EC2.
		{"arn:aws:ec2:eu-west-1:" + a + ":instance/i-0a1b2c3d4e5f60001", "MetadataOptions.HttpTokens", "optional"},
		{"arn:aws:ec2:eu-west-1:" + a + ":instance/i-0a1b2c3d4e5f60002", "MetadataOptions.HttpTokens", "required"},
		{"arn:aws:ec2:eu-west-1:" + a + ":volume/vol-0a", "Encrypted", false},
		{"arn:aws:ec2:eu-west-1:" + a + ":snapshot/snap-0pub", "Public", true},
		{"arn:aws:ec2:eu-west-1:" + a + ":snapshot/snap-0priv", "Public", false},
		{"arn:aws:ec2:eu-west-1:" + a + ":security-group/sg-0ssh", "IpPermissions.0.IpRanges.0.CidrIp", "0.0.0.0/0"},
		{"arn:aws:ec2:eu-west-1:" + a + ":security-group/sg-0ssh", "IpPermissions.0.FromPort", 22.0},
		{"arn:aws:ec2:eu-west-1:" + a + ":network-acl/acl-0default", "Entries.0.Protocol", "-1"},
		{"arn:aws:ec2:eu-west-1:" + a + ":vpc/vpc-0a11", "FlowLogs.0.FlowLogStatus", "ACTIVE"},
		{"arn:aws:ec2:eu-west-1:" + a + ":vpc/vpc-0b22", "FlowLogs", []any{}},
		// CloudTrail, Config, KMS, RDS.
		{"arn:aws:cloudtrail:eu-west-1:" + a + ":trail/org-trail", "LogFileValidationEnabled", true},
		{"arn:aws:cloudtrail:eu-west-1:" + a + ":trail/org-trail", "S3BucketLoggingEnabled", false},
		{"arn:aws:cloudtrail:eu-west-1:" + a + ":trail/org-trail", "EventSelectors.0.ReadWriteType", "All"},
		{"arn:aws:config:eu-west-1:" + a + ":configuration-recorder/default", "RecordingGroup.AllSupported", true},
		{"arn:aws:kms:eu-west-1:" + a + ":key/2a3b4c5d-0000-4000-8000-0000000000b2", "KeyRotationEnabled", false},
		{"arn:aws:kms:eu-west-1:" + a + ":key/3c4d5e6f-0000-4000-8000-0000000000a3", "KeyRotationEnabled", nil},
		{"arn:aws:kms:eu-west-1:" + a + ":key/3c4d5e6f-0000-4000-8000-0000000000a3", "KeyManager", "AWS"},
		{"arn:aws:rds:eu-west-1:" + a + ":db:legacy-db", "PubliclyAccessible", true},
		{"arn:aws:rds:eu-west-1:" + a + ":db:orders-db", "StorageEncrypted", true},
	} {
		if got := path(config(t, res, tc.id), tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s = %#v, want %#v", tc.id, tc.path, got, tc.want)
		}
	}
	byID := map[string]store.Resource{}
	for _, r := range res.Resources {
		byID[r.ID] = r
	}
	if r := byID["arn:aws:ec2:eu-west-1:"+a+":instance/i-0a1b2c3d4e5f60001"]; r.Name != "web-1" || r.Tags["env"] != "prod" {
		t.Errorf("instance name %q tags %v", r.Name, r.Tags)
	}
	if r := byID["arn:aws:s3:::acme-cloudtrail-logs"]; r.Tags["purpose"] != "audit" {
		t.Errorf("bucket tags %v", r.Tags)
	}
	// Every call went through the assumed role: AssumeRole once, with
	// the external ID, signed with the server's key; the rest signed with
	// the role's.
	calls := pill.Calls()
	if calls[0].Service+"."+calls[0].Operation != "sts.AssumeRole" || !strings.Contains(string(calls[0].Params), `"ExternalId":"msp-7f3a"`) ||
		calls[0].AccessKeyID != placebo.TestAccessKeyID {
		t.Errorf("first call %+v, want AssumeRole with the external ID", calls[0])
	}
	for _, c := range calls[1:] {
		if c.AccessKeyID != "ASIAACMEAUDIT0000001" {
			t.Errorf("%s.%s signed by %q, want the assumed role", c.Service, c.Operation, c.AccessKeyID)
			break
		}
	}
	// The instance listing was two pages.
	if n := len(pill.CallsTo("ec2.DescribeInstances")); n != 2 {
		t.Errorf("%d DescribeInstances calls, want 2 pages", n)
	}
	var page2 struct{ NextToken string }
	if err := pill.CallsTo("ec2.DescribeInstances")[1].Input(&page2); err != nil || page2.NextToken != "page-2" {
		t.Errorf("second page asked with %+v", page2)
	}
}

// TestInventoryPartialFailure: a service refusing its calls fails only
// its type, which is reported incomplete (a sync keeps its rows).
func TestInventoryPartialFailure(t *testing.T) {
	t.Parallel()
	dir := copyRecording(t, map[string]string{"rds.DescribeDBInstances_1.json": `{"status_code": 403, "data": {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: rds:DescribeDBInstances"}}}`})
	res, _ := collect(t, dir)
	if res.Complete[provider.TypeDBInstance] || !res.Complete[provider.TypeBucket] {
		t.Errorf("complete = %v: want all but %s", res.Complete, provider.TypeDBInstance)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "AccessDenied") || !strings.Contains(res.Errors[0].Error(), "AWS::RDS::DBInstance in eu-west-1") {
		t.Errorf("errors = %v", res.Errors)
	}
	for _, r := range res.Resources {
		if r.Type == provider.TypeDBInstance {
			t.Errorf("%s read though the listing failed", r.ID)
		}
	}
}

// TestInventoryBounded: an account with more resources than the bound
// stops the inventory with an error instead of filling the store.
func TestInventoryBounded(t *testing.T) {
	t.Parallel()
	pill := placebo.Replay(acmeDir)
	inv := provider.NewInventory(provider.ReplayFactory(pill), provider.InventoryOptions{MaxResources: 5})
	if _, err := inv.Collect(t.Context(), acme); err == nil || !strings.Contains(err.Error(), "more than 5 resources") {
		t.Errorf("Collect = %v, want the bound named", err)
	}
}
