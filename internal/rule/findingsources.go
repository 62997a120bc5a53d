package rule

import (
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// SourceSummary is the consolidation figure of one findings source other
// than GuardDuty: how its finding types (or, for Security Hub, controls)
// route onto runbooks.
type SourceSummary struct {
	// Source is the event source ("securityhub", "inspector2", "macie").
	Source string `json:"source"`
	// Key is the label that tells the types apart (finding_type,
	// security_control_id).
	Key string `json:"key"`
	Summary
}

// findingSource is a catalogue of one source's finding types.
type findingSource struct {
	source, key, resource string
	types                 []string
}

// findingSources are the types Flywheel routes findings of other sources
// by: every Inspector and Macie finding type, and the Security Hub
// controls the library remediates beside common ones it does not (which
// take the fallback).
var findingSources = []findingSource{
	{source: "securityhub", key: "security_control_id", types: []string{
		"EC2.13", "EC2.14", "EC2.18", "EC2.19", "EC2.53", "EC2.54", "S3.1", "S3.2", "S3.3", "S3.8",
		"EC2.2", "EC2.22", "IAM.1", "IAM.6", "CloudTrail.1", "RDS.3", "KMS.4", "S3.5"}},
	{source: "inspector2", key: "finding_type", resource: "ec2-instance", types: []string{
		"NETWORK_REACHABILITY", "PACKAGE_VULNERABILITY", "CODE_VULNERABILITY"}},
	{source: "macie", key: "finding_type", resource: "s3-bucket", types: []string{
		"Policy:IAMUser/S3BlockPublicAccessDisabled", "Policy:IAMUser/S3BucketEncryptionDisabled",
		"Policy:IAMUser/S3BucketPublic", "Policy:IAMUser/S3BucketReplicatedExternally",
		"Policy:IAMUser/S3BucketSharedExternally", "Policy:IAMUser/S3BucketSharedWithCloudFront",
		"SensitiveData:S3Object/Credentials", "SensitiveData:S3Object/CustomIdentifier",
		"SensitiveData:S3Object/Financial", "SensitiveData:S3Object/Multiple", "SensitiveData:S3Object/Personal"}},
}

// SourceConsolidation routes a sample finding of each type of every other
// findings source (Security Hub, Inspector, Macie) through rs, as
// Consolidation does for GuardDuty.
func SourceConsolidation(rs *Rules) []SourceSummary {
	out := make([]SourceSummary, 0, len(findingSources))
	for _, fs := range findingSources {
		out = append(out, SourceSummary{Source: fs.source, Key: fs.key, Summary: consolidate(rs, fs.types, fs.sample)})
	}
	return out
}

// sample is a representative normalized finding of one type: the label
// the source's adapter sets, and the resource it is about (a Security Hub
// control's resource follows its service: a security group for EC2
// controls, a bucket for S3 ones).
func (fs findingSource) sample(typ string) event.Event {
	labels := map[string]string{fs.key: typ, "account": sampleAccount, "region": sampleRegion}
	resource := fs.resource
	if resource == "" {
		switch {
		case len(typ) > 4 && typ[:4] == "EC2.":
			resource = "security-group"
		case len(typ) > 3 && typ[:3] == "S3.":
			resource = "s3-bucket"
		default:
			resource = "aws-account"
		}
	}
	ids := map[string]string{"ec2-instance": sampleInstance, "s3-bucket": sampleBucket, "security-group": "sg-0123456789abcdef0", "aws-account": sampleAccount}
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	return event.Event{
		Source: fs.source, SourceID: "sample-" + typ, Kind: event.KindFinding, Severity: event.SeverityMedium,
		Status: event.StatusFiring, Title: typ, Labels: labels, OccurredAt: at, ReceivedAt: at, UpdatedAt: at,
		Resources:   []event.ResourceRef{{Type: resource, ID: ids[resource], Region: sampleRegion, Account: sampleAccount}},
		Fingerprint: event.FingerprintOf(fs.source, map[string]string{"finding_id": "sample-" + typ}),
	}
}
