package aws

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// table lists the operations steps may call, by service and operation
// name: those the built-in remediation runbooks need. Adding one is one
// line; keep out operations whose output holds a secret, or drop the
// members that do (without).
var table = map[string]map[string]operation{
	"ec2": {
		// Isolate an instance: swap its security groups for a quarantine
		// group.
		"ModifyInstanceAttribute": op(ec2.NewFromConfig, (*ec2.Client).ModifyInstanceAttribute),
		// Snapshot a volume for forensics.
		"CreateSnapshot": op(ec2.NewFromConfig, (*ec2.Client).CreateSnapshot),
		// Snapshot every EBS volume of an instance at once (crash-consistent
		// across volumes), for forensics.
		"CreateSnapshots": op(ec2.NewFromConfig, (*ec2.Client).CreateSnapshots),
		// Find, create and empty the isolation security group.
		"DescribeSecurityGroups":    op(ec2.NewFromConfig, (*ec2.Client).DescribeSecurityGroups),
		"CreateSecurityGroup":       op(ec2.NewFromConfig, (*ec2.Client).CreateSecurityGroup),
		"RevokeSecurityGroupEgress": op(ec2.NewFromConfig, (*ec2.Client).RevokeSecurityGroupEgress),
		// Mark what a remediation changed (an isolated instance).
		"CreateTags": op(ec2.NewFromConfig, (*ec2.Client).CreateTags),
		// Revoke world-open ingress.
		"RevokeSecurityGroupIngress": op(ec2.NewFromConfig, (*ec2.Client).RevokeSecurityGroupIngress),
		// Look an instance up (its volumes, groups, state).
		"DescribeInstances": op(ec2.NewFromConfig, (*ec2.Client).DescribeInstances),
		// Stop and start instances off-hours (resource schedules,
		// docs/cost.md).
		"StopInstances":  op(ec2.NewFromConfig, (*ec2.Client).StopInstances),
		"StartInstances": op(ec2.NewFromConfig, (*ec2.Client).StartInstances),
		// Encrypt new EBS volumes by default in a region (CIS 2.2.1), and
		// verify it.
		"EnableEbsEncryptionByDefault": op(ec2.NewFromConfig, (*ec2.Client).EnableEbsEncryptionByDefault),
		"GetEbsEncryptionByDefault":    op(ec2.NewFromConfig, (*ec2.Client).GetEbsEncryptionByDefault),
		// Require IMDSv2 on an instance (CIS 5.6).
		"ModifyInstanceMetadataOptions": op(ec2.NewFromConfig, (*ec2.Client).ModifyInstanceMetadataOptions),
		// Status checks and scheduled events of an instance; reboot it
		// (the aws-ec2 pack: an instance status check failing). Stop,
		// ModifyInstanceAttribute (InstanceType) and start resize it.
		"DescribeInstanceStatus": op(ec2.NewFromConfig, (*ec2.Client).DescribeInstanceStatus),
		"RebootInstances":        op(ec2.NewFromConfig, (*ec2.Client).RebootInstances),
		// Extend a volume and follow the modification (the aws-ebs pack).
		"DescribeVolumes":              op(ec2.NewFromConfig, (*ec2.Client).DescribeVolumes),
		"ModifyVolume":                 op(ec2.NewFromConfig, (*ec2.Client).ModifyVolume),
		"DescribeVolumesModifications": op(ec2.NewFromConfig, (*ec2.Client).DescribeVolumesModifications),
	},
	"kms": {
		// Turn on yearly rotation of a customer key (CIS 3.6), and verify.
		"EnableKeyRotation":    op(kms.NewFromConfig, (*kms.Client).EnableKeyRotation),
		"GetKeyRotationStatus": op(kms.NewFromConfig, (*kms.Client).GetKeyRotationStatus),
	},
	"cloudtrail": {
		// Turn on log file validation (CIS 3.2), and verify.
		"UpdateTrail": op(cloudtrail.NewFromConfig, (*cloudtrail.Client).UpdateTrail),
		"GetTrail":    op(cloudtrail.NewFromConfig, (*cloudtrail.Client).GetTrail),
	},
	"rds": {
		// Stop and start a database off-hours (resource schedules).
		"StopDBInstance":      op(rds.NewFromConfig, (*rds.Client).StopDBInstance),
		"StartDBInstance":     op(rds.NewFromConfig, (*rds.Client).StartDBInstance),
		"DescribeDBInstances": op(rds.NewFromConfig, (*rds.Client).DescribeDBInstances),
		// Grow a database's storage; fail a Multi-AZ database over to its
		// standby; its recent events (the aws-rds pack).
		"ModifyDBInstance": op(rds.NewFromConfig, (*rds.Client).ModifyDBInstance),
		"RebootDBInstance": op(rds.NewFromConfig, (*rds.Client).RebootDBInstance),
		"DescribeEvents":   op(rds.NewFromConfig, (*rds.Client).DescribeEvents),
	},
	"s3": {
		// Block public access on one bucket.
		"PutPublicAccessBlock": op(s3.NewFromConfig, (*s3.Client).PutPublicAccessBlock),
		// Verify it.
		"GetPublicAccessBlock": op(s3.NewFromConfig, (*s3.Client).GetPublicAccessBlock),
		// A bucket's lifecycle rules: read them, apply a given set (the
		// aws-s3 pack).
		"GetBucketLifecycleConfiguration": op(s3.NewFromConfig, (*s3.Client).GetBucketLifecycleConfiguration),
		"PutBucketLifecycleConfiguration": op(s3.NewFromConfig, (*s3.Client).PutBucketLifecycleConfiguration),
		// Whether a bucket's policy makes it public.
		"GetBucketPolicyStatus": op(s3.NewFromConfig, (*s3.Client).GetBucketPolicyStatus),
	},
	"s3control": {
		// Block public access for a whole account.
		"PutPublicAccessBlock": op(s3control.NewFromConfig, (*s3control.Client).PutPublicAccessBlock),
		// Verify it.
		"GetPublicAccessBlock": op(s3control.NewFromConfig, (*s3control.Client).GetPublicAccessBlock),
	},
	"iam": {
		// Disable (or re-enable) an access key.
		"UpdateAccessKey": op(iam.NewFromConfig, (*iam.Client).UpdateAccessKey),
		// Who owns a key and when it was last used; a user's keys and their
		// status (metadata only: no secret is ever returned).
		"GetAccessKeyLastUsed": op(iam.NewFromConfig, (*iam.Client).GetAccessKeyLastUsed),
		"ListAccessKeys":       op(iam.NewFromConfig, (*iam.Client).ListAccessKeys),
	},
	"lambda": {
		// A function's configuration and reserved concurrency, the
		// account's concurrency limit; raise the reservation (the
		// aws-lambda pack). GetFunction's answer holds the code's
		// presigned download URL and the environment variables (often
		// secrets): both are dropped.
		"GetFunction":            op(lambda.NewFromConfig, (*lambda.Client).GetFunction).without("Code", "Configuration.Environment"),
		"GetFunctionConcurrency": op(lambda.NewFromConfig, (*lambda.Client).GetFunctionConcurrency),
		"PutFunctionConcurrency": op(lambda.NewFromConfig, (*lambda.Client).PutFunctionConcurrency),
		"GetAccountSettings":     op(lambda.NewFromConfig, (*lambda.Client).GetAccountSettings),
	},
	"cloudwatch": {
		// A metric's statistics over a window (Lambda Throttles and
		// Errors, RDS FreeStorageSpace).
		"GetMetricStatistics": op(cloudwatch.NewFromConfig, (*cloudwatch.Client).GetMetricStatistics),
	},
}

// IAMAction is the IAM action that allows calling a service's operation:
// "<service>:<operation>", but for the S3 operations whose action the
// Service Authorization Reference names otherwise, and s3control, whose
// actions are S3's.
func IAMAction(service, operation string) string {
	if a, ok := iamActions[service+" "+operation]; ok {
		return a
	}
	return service + ":" + operation
}

// iamActions are the exceptions, from the Service Authorization Reference
// (Amazon S3: "Actions defined by Amazon S3", the API operations each
// action allows).
var iamActions = map[string]string{
	"s3 PutPublicAccessBlock":            "s3:PutBucketPublicAccessBlock",
	"s3 GetPublicAccessBlock":            "s3:GetBucketPublicAccessBlock",
	"s3control PutPublicAccessBlock":     "s3:PutAccountPublicAccessBlock",
	"s3control GetPublicAccessBlock":     "s3:GetAccountPublicAccessBlock",
	"s3 GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"s3 PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
}
