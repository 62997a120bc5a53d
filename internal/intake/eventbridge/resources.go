package eventbridge

import (
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// Resource type vocabulary (event.ResourceRef.Type) used by the AWS
// adapters. The short forms match what the inventory stores for the same
// resources, so resolution can match ids directly.
const (
	typeEC2Instance   = "ec2-instance"
	typeEBSVolume     = "ebs-volume"
	typeSecurityGroup = "security-group"
	typeS3Bucket      = "s3-bucket"
	typeS3Object      = "s3-object"
	typeAccessKey     = "access-key"
	typeIAMUser       = "iam-user"
	typeIAMRole       = "iam-role"
	typeAWSAccount    = "aws-account"
)

// arn is an Amazon Resource Name split into its parts.
type arn struct {
	Partition, Service, Region, Account, Resource string
}

func parseARN(s string) (arn, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] == "" {
		return arn{}, false
	}
	return arn{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

// resourceFromARN maps an ARN to a resource reference. Well-known resource
// kinds get their vocabulary type and short id; anything else keeps the
// whole ARN as id under a "<service>-<resource type>" type.
func resourceFromARN(s string) (event.ResourceRef, bool) {
	a, ok := parseARN(s)
	if !ok {
		return resourceFromID(s)
	}
	ref := event.ResourceRef{ID: s, Region: a.Region, Account: a.Account}
	kind, name := splitResource(a.Resource)
	switch a.Service {
	case "ec2":
		switch kind {
		case "instance":
			ref.Type, ref.ID = typeEC2Instance, name
		case "volume":
			ref.Type, ref.ID = typeEBSVolume, name
		case "security-group":
			ref.Type, ref.ID = typeSecurityGroup, name
		}
	case "s3":
		if bucket, key, found := strings.Cut(a.Resource, "/"); found {
			ref.Type, ref.ID = typeS3Object, bucket+"/"+key
		} else {
			ref.Type, ref.ID = typeS3Bucket, bucket
		}
	case "iam":
		switch kind {
		case "user":
			ref.Type, ref.ID = typeIAMUser, lastSegment(name)
		case "role":
			ref.Type, ref.ID = typeIAMRole, lastSegment(name)
		}
	}
	if ref.Type == "" {
		ref.Type = a.Service
		if kind != "" {
			ref.Type += "-" + kind
		}
	}
	if ref.ID == "" {
		ref.ID = s
	}
	return ref, true
}

// splitResource splits the resource part of an ARN, "instance/i-0abc" or
// "alarm:name", into its kind and name.
func splitResource(r string) (kind, name string) {
	i := strings.IndexAny(r, "/:")
	if i < 0 {
		return "", r
	}
	return r[:i], r[i+1:]
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// resourceFromID guesses the type of a bare AWS id from its prefix.
func resourceFromID(id string) (event.ResourceRef, bool) {
	id = strings.TrimSpace(id)
	if id == "" {
		return event.ResourceRef{}, false
	}
	ref := event.ResourceRef{ID: id}
	switch {
	case strings.HasPrefix(id, "i-"):
		ref.Type = typeEC2Instance
	case strings.HasPrefix(id, "vol-"):
		ref.Type = typeEBSVolume
	case strings.HasPrefix(id, "sg-"):
		ref.Type = typeSecurityGroup
	case isAccountID(id):
		ref.Type = typeAWSAccount
	default:
		ref.Type = "aws-resource"
	}
	return ref, true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// configTypes maps AWS Config / CloudFormation resource types to the
// vocabulary.
var configTypes = map[string]string{
	"AWS::EC2::Instance":      typeEC2Instance,
	"AWS::EC2::Volume":        typeEBSVolume,
	"AWS::EC2::SecurityGroup": typeSecurityGroup,
	"AWS::S3::Bucket":         typeS3Bucket,
	"AWS::IAM::User":          typeIAMUser,
	"AWS::IAM::Role":          typeIAMRole,
	"AWS::::Account":          typeAWSAccount,
	"AWS::IAM::AccessKey":     typeAccessKey,
	"AWS::EC2::VPC":           "vpc",
	"AWS::EC2::Subnet":        "subnet",
	"AWS::RDS::DBInstance":    "rds-instance",
	"AWS::Lambda::Function":   "lambda-function",
	"AWS::KMS::Key":           "kms-key",
	"AWS::EKS::Cluster":       "eks-cluster",
}

// configResourceType maps "AWS::EC2::Volume" to "ebs-volume"; unknown types
// become "ec2-natgateway"-style words so they are still stable.
func configResourceType(t string) string {
	if v, ok := configTypes[t]; ok {
		return v
	}
	s := strings.TrimPrefix(t, "AWS::")
	s = strings.ToLower(strings.ReplaceAll(s, "::", "-"))
	if s == "" {
		return "aws-resource"
	}
	return s
}

// asffTypes maps Security Hub (ASFF) resource types to the vocabulary.
var asffTypes = map[string]string{
	"AwsEc2Instance":      typeEC2Instance,
	"AwsEc2Volume":        typeEBSVolume,
	"AwsEc2SecurityGroup": typeSecurityGroup,
	"AwsS3Bucket":         typeS3Bucket,
	"AwsS3Object":         typeS3Object,
	"AwsIamAccessKey":     typeAccessKey,
	"AwsIamUser":          typeIAMUser,
	"AwsIamRole":          typeIAMRole,
	"AwsAccount":          typeAWSAccount,
	"AwsEc2Vpc":           "vpc",
	"AwsEc2Subnet":        "subnet",
	"AwsRdsDbInstance":    "rds-instance",
	"AwsLambdaFunction":   "lambda-function",
	"AwsKmsKey":           "kms-key",
	"AwsEksCluster":       "eks-cluster",
}

// asffResourceType maps "AwsEc2SecurityGroup" to "security-group"; unknown
// types become kebab case ("AwsElbLoadBalancer" → "aws-elb-load-balancer").
func asffResourceType(t string) string {
	if v, ok := asffTypes[t]; ok {
		return v
	}
	if t == "" {
		return "aws-resource"
	}
	var b strings.Builder
	for i, r := range t {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// shortID turns the id a finding gives a resource (often an ARN) into the
// id the inventory uses for that resource type.
func shortID(typ, id string) string {
	if typ == typeAWSAccount {
		// ASFF spells the account "AWS::::Account:111122223333".
		if i := strings.LastIndexByte(id, ':'); i >= 0 && isAccountID(id[i+1:]) {
			return id[i+1:]
		}
		return id
	}
	ref, ok := resourceFromARN(id)
	if ok && ref.Type == typ {
		return ref.ID
	}
	return id
}

// DimensionResource maps a CloudWatch metric dimension to the resource it
// names, for the dimensions that name one. It is shared with the SNS
// adapter so an alarm names the same resource whichever way it arrives.
func DimensionResource(name, value string) (event.ResourceRef, bool) {
	if value == "" {
		return event.ResourceRef{}, false
	}
	var typ string
	switch name {
	case "InstanceId":
		typ = typeEC2Instance
	case "VolumeId":
		typ = typeEBSVolume
	case "BucketName":
		typ = typeS3Bucket
	case "DBInstanceIdentifier":
		typ = "rds-instance"
	case "FunctionName":
		typ = "lambda-function"
	case "AutoScalingGroupName":
		typ = "autoscaling-group"
	case "LoadBalancer":
		typ = "load-balancer"
	default:
		return event.ResourceRef{}, false
	}
	return event.ResourceRef{Type: typ, ID: value}, true
}

// accountRef is the resource of last resort: the account the event is in.
func accountRef(account, region string) []event.ResourceRef {
	if account == "" {
		return nil
	}
	return []event.ResourceRef{{Type: typeAWSAccount, ID: account, Region: region, Account: account}}
}

// addResource appends ref unless an equal reference is already there.
func addResource(refs []event.ResourceRef, ref event.ResourceRef) []event.ResourceRef {
	if ref.ID == "" {
		return refs
	}
	for _, r := range refs {
		if r.Type == ref.Type && r.ID == ref.ID {
			return refs
		}
	}
	return append(refs, ref)
}
