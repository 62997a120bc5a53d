package aws

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// table lists the operations steps may call, by service and operation
// name: those the built-in remediation runbooks need. Adding one is one
// line; keep out operations whose output holds a secret.
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
	},
	"s3": {
		// Block public access on one bucket.
		"PutPublicAccessBlock": op(s3.NewFromConfig, (*s3.Client).PutPublicAccessBlock),
		// Verify it.
		"GetPublicAccessBlock": op(s3.NewFromConfig, (*s3.Client).GetPublicAccessBlock),
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
}
