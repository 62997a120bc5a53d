package aws_test

import (
	"context"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws/awsspec"
)

// replay is an http.RoundTripper that answers every request with a canned
// AWS response and records what the SDK sent: the real SDK serializes and
// signs, nothing leaves the process.
type replay struct {
	status  int
	header  nethttp.Header
	body    string
	mu      sync.Mutex
	request *nethttp.Request
	sent    string
}

func (r *replay) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.request, r.sent = req, string(body)
	r.mu.Unlock()
	h := r.header.Clone()
	if h == nil {
		h = nethttp.Header{}
	}
	if h.Get("Content-Type") == "" && r.body != "" {
		h.Set("Content-Type", "text/xml;charset=UTF-8")
	}
	status := r.status
	if status == 0 {
		status = 200
	}
	return &nethttp.Response{
		StatusCode:    status,
		Status:        nethttp.StatusText(status),
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(r.body)),
		ContentLength: int64(len(r.body)),
		Request:       req,
	}, nil
}

// form is what a query-protocol (EC2, IAM) request sent.
func (r *replay) form(t *testing.T) url.Values {
	t.Helper()
	v, err := url.ParseQuery(r.sent)
	if err != nil {
		t.Fatalf("request body %q: %v", r.sent, err)
	}
	return v
}

func newAction(rt *replay, region *string) *aws.AWS {
	return aws.New(aws.Options{LoadConfig: func(_ context.Context, _ action.Input, r string) (sdkaws.Config, error) {
		if region != nil {
			*region = r
		}
		if r == "" {
			r = "eu-west-1"
		}
		return sdkaws.Config{
			Region:           r,
			Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
			HTTPClient:       &nethttp.Client{Transport: rt},
			RetryMaxAttempts: 1,
		}, nil
	}})
}

func input(with map[string]any) action.Input {
	return action.Input{With: with, Target: &action.Target{ID: "i-0abc"}, ExecutionID: "ex-1", Step: "s", Attempt: 1,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now}
}

func run(t *testing.T, rt *replay, with map[string]any) (action.Output, error) {
	t.Helper()
	return newAction(rt, nil).Run(t.Context(), input(with))
}

func assertForm(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q (request %v)", k, got.Get(k), v, got)
		}
	}
}

func assertSigned(t *testing.T, req *nethttp.Request, service string) {
	t.Helper()
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/"+service+"/aws4_request") {
		t.Errorf("Authorization = %q: not signed by the SDK for %s", auth, service)
	}
}

func TestEC2ModifyInstanceAttribute(t *testing.T) {
	t.Parallel()
	// Real EC2 and IAM responses carry the request ID in a header too; the
	// SDK reads it from there.
	rt := &replay{header: nethttp.Header{"X-Amzn-Requestid": {"59dbff89-35bd-4eac-99ed-be587EXAMPLE"}}, body: `<?xml version="1.0" encoding="UTF-8"?>
<ModifyInstanceAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <return>true</return>
</ModifyInstanceAttributeResponse>`}
	var region string
	out, err := newAction(rt, &region).Run(t.Context(), input(map[string]any{
		"service":   "ec2",
		"operation": "ModifyInstanceAttribute",
		"region":    "us-east-2",
		"input":     map[string]any{"InstanceId": "i-0abc", "Groups": []any{"sg-quarantine"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if region != "us-east-2" {
		t.Errorf("config loaded for region %q", region)
	}
	if rt.request.Method != "POST" || rt.request.URL.Host != "ec2.us-east-2.amazonaws.com" {
		t.Errorf("request %s %s", rt.request.Method, rt.request.URL)
	}
	assertSigned(t, rt.request, "ec2")
	assertForm(t, rt.form(t), map[string]string{"Action": "ModifyInstanceAttribute", "Version": "2016-11-15", "InstanceId": "i-0abc", "GroupId.1": "sg-quarantine"})
	if out.Values["request_id"] != "59dbff89-35bd-4eac-99ed-be587EXAMPLE" {
		t.Errorf("values = %v", out.Values)
	}
	if !strings.HasPrefix(out.Log, "ec2 ModifyInstanceAttribute in us-east-2: ok after ") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestEC2CreateSnapshot(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<CreateSnapshotResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <snapshotId>snap-1234567890abcdef0</snapshotId>
  <volumeId>vol-1234567890abcdef0</volumeId>
  <status>pending</status>
  <startTime>2025-03-04T05:06:07.000Z</startTime>
  <progress></progress>
  <ownerId>111122223333</ownerId>
  <volumeSize>8</volumeSize>
  <description>forensics</description>
  <encrypted>false</encrypted>
</CreateSnapshotResponse>`}
	out, err := run(t, rt, map[string]any{
		"service":   "ec2",
		"operation": "CreateSnapshot",
		"input": map[string]any{
			"VolumeId":    "vol-1234567890abcdef0",
			"Description": "forensics",
			"TagSpecifications": []any{map[string]any{
				"ResourceType": "snapshot",
				"Tags":         []any{map[string]any{"Key": "flywheel:execution", "Value": "ex-1"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{
		"Action": "CreateSnapshot", "VolumeId": "vol-1234567890abcdef0", "Description": "forensics",
		"TagSpecification.1.ResourceType": "snapshot", "TagSpecification.1.Tag.1.Key": "flywheel:execution", "TagSpecification.1.Tag.1.Value": "ex-1",
	})
	v := out.Values
	if v["SnapshotId"] != "snap-1234567890abcdef0" || v["State"] != "pending" || v["VolumeSize"] != int64(8) || v["StartTime"] != "2025-03-04T05:06:07Z" || v["Encrypted"] != false {
		t.Errorf("values = %#v", v)
	}
	if _, ok := v["KmsKeyId"]; ok {
		t.Error("absent members are left out, not null")
	}
	if _, ok := v["ResultMetadata"]; ok {
		t.Error("ResultMetadata is not an output")
	}
}

func TestEC2RevokeSecurityGroupIngress(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<RevokeSecurityGroupIngressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-2</requestId><return>true</return></RevokeSecurityGroupIngressResponse>`}
	out, err := run(t, rt, map[string]any{
		"service":   "ec2",
		"operation": "RevokeSecurityGroupIngress",
		"input": map[string]any{
			"GroupId": "sg-0123",
			"IpPermissions": []any{map[string]any{
				"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
				"IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{
		"Action": "RevokeSecurityGroupIngress", "GroupId": "sg-0123", "IpPermissions.1.IpProtocol": "tcp",
		"IpPermissions.1.FromPort": "22", "IpPermissions.1.ToPort": "22", "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0",
	})
	if out.Values["Return"] != true {
		t.Errorf("values = %v", out.Values)
	}
}

func TestEC2DescribeInstances(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-3</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <ownerId>111122223333</ownerId>
      <instancesSet>
        <item>
          <instanceId>i-0abc</instanceId>
          <instanceType>t3.micro</instanceType>
          <instanceState><code>16</code><name>running</name></instanceState>
          <groupSet><item><groupId>sg-web</groupId><groupName>web</groupName></item></groupSet>
          <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-049df61146c4d7901</volumeId><status>attached</status></ebs></item></blockDeviceMapping>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
</DescribeInstancesResponse>`}
	out, err := run(t, rt, map[string]any{"service": "ec2", "operation": "DescribeInstances", "input": map[string]any{"InstanceIds": []any{"i-0abc"}}})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "DescribeInstances", "InstanceId.1": "i-0abc"})
	res := out.Values["Reservations"].([]any)[0].(map[string]any)
	inst := res["Instances"].([]any)[0].(map[string]any)
	vol := inst["BlockDeviceMappings"].([]any)[0].(map[string]any)["Ebs"].(map[string]any)["VolumeId"]
	if inst["InstanceId"] != "i-0abc" || inst["State"].(map[string]any)["Name"] != "running" || inst["State"].(map[string]any)["Code"] != int64(16) || vol != "vol-049df61146c4d7901" {
		t.Errorf("instance = %#v", inst)
	}
}

func TestS3PutPublicAccessBlock(t *testing.T) {
	t.Parallel()
	rt := &replay{header: nethttp.Header{"X-Amz-Request-Id": {"req-s3"}}}
	out, err := run(t, rt, map[string]any{
		"service":   "s3",
		"operation": "PutPublicAccessBlock",
		"input": map[string]any{
			"Bucket": "leaky-bucket",
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true,
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := rt.request
	if req.Method != "PUT" || req.URL.Host != "leaky-bucket.s3.eu-west-1.amazonaws.com" || !req.URL.Query().Has("publicAccessBlock") {
		t.Errorf("request %s %s", req.Method, req.URL)
	}
	assertSigned(t, req, "s3")
	for _, want := range []string{"<BlockPublicAcls>true</BlockPublicAcls>", "<RestrictPublicBuckets>true</RestrictPublicBuckets>"} {
		if !strings.Contains(rt.sent, want) {
			t.Errorf("body %s lacks %s", rt.sent, want)
		}
	}
	if out.Values["request_id"] != "req-s3" {
		t.Errorf("values = %v", out.Values)
	}
}

func TestS3ControlPutPublicAccessBlock(t *testing.T) {
	t.Parallel()
	rt := &replay{header: nethttp.Header{"X-Amz-Request-Id": {"req-s3c"}}}
	_, err := run(t, rt, map[string]any{
		"service":   "s3control",
		"operation": "PutPublicAccessBlock",
		"input": map[string]any{
			"AccountId":                      "111122223333",
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := rt.request
	if req.Method != "PUT" || req.URL.Path != "/v20180820/configuration/publicAccessBlock" || req.Header.Get("X-Amz-Account-Id") != "111122223333" {
		t.Errorf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	assertSigned(t, req, "s3")
	if !strings.Contains(rt.sent, "<BlockPublicPolicy>true</BlockPublicPolicy>") {
		t.Errorf("body = %s", rt.sent)
	}
}

func TestIAMUpdateAccessKey(t *testing.T) {
	t.Parallel()
	rt := &replay{header: nethttp.Header{"X-Amzn-Requestid": {"req-iam"}}, body: `<UpdateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-iam</RequestId></ResponseMetadata></UpdateAccessKeyResponse>`}
	out, err := run(t, rt, map[string]any{
		"service":   "iam",
		"operation": "UpdateAccessKey",
		"input":     map[string]any{"UserName": "ci-deploy", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertSigned(t, rt.request, "iam")
	assertForm(t, rt.form(t), map[string]string{"Action": "UpdateAccessKey", "Version": "2010-05-08", "UserName": "ci-deploy", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"})
	if out.Values["request_id"] != "req-iam" {
		t.Errorf("values = %v", out.Values)
	}
}

// An API error fails the step with the SDK's message and gives later
// steps its code.
func TestAPIError(t *testing.T) {
	t.Parallel()
	rt := &replay{status: 400, body: `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-0nope' does not exist</Message></Error></Errors><RequestID>req-err</RequestID></Response>`}
	out, err := run(t, rt, map[string]any{"service": "ec2", "operation": "ModifyInstanceAttribute", "input": map[string]any{"InstanceId": "i-0nope", "Groups": []any{"sg-q"}}})
	if err == nil || !strings.Contains(err.Error(), "InvalidInstanceID.NotFound") || !strings.Contains(err.Error(), "ModifyInstanceAttribute") {
		t.Fatalf("err = %v", err)
	}
	if out.Values["error_code"] != "InvalidInstanceID.NotFound" {
		t.Errorf("values = %v", out.Values)
	}
}

// The SDK's own checks (a missing required member) fail before anything
// is sent.
func TestSDKValidation(t *testing.T) {
	t.Parallel()
	rt := &replay{}
	_, err := run(t, rt, map[string]any{"service": "iam", "operation": "UpdateAccessKey", "input": map[string]any{"UserName": "x"}})
	if err == nil || !strings.Contains(err.Error(), "AccessKeyId") {
		t.Errorf("err = %v", err)
	}
	if rt.request != nil {
		t.Error("an invalid request was sent")
	}
}

// TestValidate checks steps through the action and through the SDK-free
// validator content validation uses (awsspec): the same steps, the same
// verdicts.
func TestValidate(t *testing.T) {
	t.Parallel()
	for _, a := range []action.Action{aws.New(aws.Options{}), awsspec.Validator{}} {
		testValidate(t, a)
	}
}

func testValidate(t *testing.T, a action.Action) {
	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"service": "ec2", "operation": "ModifyInstanceAttribute", "input": map[string]any{"InstanceId": "${{ target.id }}", "Groups": []any{"${{ params.quarantine_sg }}"}}}, ""},
		{map[string]any{"service": "ec2", "operation": "DescribeInstances", "input": map[string]any{"InstanceIds": []any{"i-1"}, "Filters": []any{map[string]any{"Name": "tag:env", "Values": []any{"prod"}}}}, "region": "eu-west-1", "timeout": "30s"}, ""},
		{map[string]any{"service": "iam", "operation": "UpdateAccessKey", "input": "${{ params.key }}"}, ""},
		{map[string]any{"service": "ec2", "operation": "DescribeInstances"}, ""},
		{map[string]any{"operation": "DescribeInstances"}, "service: is required"},
		{map[string]any{"service": "sqs", "operation": "SendMessage"}, `service: "sqs" is not a supported service (cloudtrail, cloudwatch, ec2, iam, kms, lambda, rds, s3, s3control)`},
		{map[string]any{"service": "ec2", "operation": "TerminateInstances"}, `operation: ec2 "TerminateInstances" is not a supported operation (CreateSecurityGroup, CreateSnapshot, CreateSnapshots, CreateTags, DescribeInstanceStatus, DescribeInstances, DescribeSecurityGroups, DescribeVolumes, DescribeVolumesModifications, EnableEbsEncryptionByDefault, GetEbsEncryptionByDefault, ModifyInstanceAttribute, ModifyInstanceMetadataOptions, ModifyVolume, RebootInstances, RevokeSecurityGroupEgress, RevokeSecurityGroupIngress, StartInstances, StopInstances)`},
		{map[string]any{"service": "ec2", "operation": "CreateSnapshot", "input": map[string]any{"VolumeID": "vol-1", "Descripton": "x"}}, `input: CreateSnapshotInput has no member "Descripton"`},
		{map[string]any{"service": "ec2", "operation": "CreateSnapshot", "input": map[string]any{"VolumeId": "${{ params.vol }}", "Tagz": []any{}}}, `input: CreateSnapshotInput has no member "Tagz"`},
		{map[string]any{"service": "ec2", "operation": "RevokeSecurityGroupIngress", "input": map[string]any{"IpPermissions": []any{map[string]any{"FromPort": "twenty-two"}}}}, "input: RevokeSecurityGroupIngressInput.IpPermissions.FromPort: a JSON string cannot be a int32"},
		{map[string]any{"service": "ec2", "operation": "DescribeInstances", "input": []any{}}, "input: is not a map"},
	} {
		err := a.Validate(tc.with)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%T: %v: %v", a, tc.with, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%T: %v: error %v, want %q", a, tc.with, err, tc.want)
		}
	}
}

func TestEC2CreateSnapshots(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<CreateSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-4</requestId>
  <snapshotSet>
    <item><snapshotId>snap-0aaa</snapshotId><volumeId>vol-0root</volumeId><state>pending</state><volumeSize>8</volumeSize></item>
    <item><snapshotId>snap-0bbb</snapshotId><volumeId>vol-0data</volumeId><state>pending</state><volumeSize>100</volumeSize></item>
  </snapshotSet>
</CreateSnapshotsResponse>`}
	out, err := run(t, rt, map[string]any{"service": "ec2", "operation": "CreateSnapshots", "input": map[string]any{
		"InstanceSpecification": map[string]any{"InstanceId": "i-0abc"},
		"CopyTagsFromSource":    "volume",
		"TagSpecifications":     []any{map[string]any{"ResourceType": "snapshot", "Tags": []any{map[string]any{"Key": "flywheel:forensics", "Value": "ex-1"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "CreateSnapshots", "InstanceSpecification.InstanceId": "i-0abc",
		"CopyTagsFromSource": "volume", "TagSpecification.1.Tag.1.Key": "flywheel:forensics"})
	snaps := out.Values["Snapshots"].([]any)
	if len(snaps) != 2 || snaps[1].(map[string]any)["SnapshotId"] != "snap-0bbb" || snaps[1].(map[string]any)["VolumeId"] != "vol-0data" {
		t.Errorf("snapshots = %#v", snaps)
	}
}

func TestEC2SecurityGroups(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-5</requestId>
  <securityGroupInfo><item>
    <ownerId>111122223333</ownerId><groupId>sg-0web</groupId><groupName>web</groupName><vpcId>vpc-01</vpcId>
    <ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort>
      <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges></item></ipPermissions>
    <ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissionsEgress>
  </item></securityGroupInfo>
</DescribeSecurityGroupsResponse>`}
	out, err := run(t, rt, map[string]any{"service": "ec2", "operation": "DescribeSecurityGroups", "input": map[string]any{
		"Filters": []any{map[string]any{"Name": "vpc-id", "Values": []any{"vpc-01"}}}, "GroupIds": []any{"sg-0web"}}})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "DescribeSecurityGroups", "GroupId.1": "sg-0web", "Filter.1.Name": "vpc-id", "Filter.1.Value.1": "vpc-01"})
	sg := out.Values["SecurityGroups"].([]any)[0].(map[string]any)
	perm := sg["IpPermissions"].([]any)[0].(map[string]any)
	if perm["FromPort"] != int64(22) || perm["Ipv6Ranges"].([]any)[0].(map[string]any)["CidrIpv6"] != "::/0" {
		t.Errorf("permission = %#v", perm)
	}

	// A described permission is valid input for a revocation as it is.
	rt = &replay{body: `<RevokeSecurityGroupEgressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-6</requestId><return>true</return></RevokeSecurityGroupEgressResponse>`}
	if _, err := run(t, rt, map[string]any{"service": "ec2", "operation": "RevokeSecurityGroupEgress", "input": map[string]any{
		"GroupId": "sg-0web", "IpPermissions": sg["IpPermissionsEgress"]}}); err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "RevokeSecurityGroupEgress", "GroupId": "sg-0web",
		"IpPermissions.1.IpProtocol": "-1", "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"})

	rt = &replay{body: `<CreateSecurityGroupResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-7</requestId><return>true</return><groupId>sg-0iso</groupId></CreateSecurityGroupResponse>`}
	out, err = run(t, rt, map[string]any{"service": "ec2", "operation": "CreateSecurityGroup", "input": map[string]any{
		"GroupName": "flywheel-isolation", "Description": "no traffic", "VpcId": "vpc-01"}})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "CreateSecurityGroup", "GroupName": "flywheel-isolation", "GroupDescription": "no traffic", "VpcId": "vpc-01"})
	if out.Values["GroupId"] != "sg-0iso" {
		t.Errorf("values = %v", out.Values)
	}
}

func TestEC2CreateTags(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-8</requestId><return>true</return></CreateTagsResponse>`}
	if _, err := run(t, rt, map[string]any{"service": "ec2", "operation": "CreateTags", "input": map[string]any{
		"Resources": []any{"i-0abc"}, "Tags": []any{map[string]any{"Key": "flywheel:isolated", "Value": "ex-1"}}}}); err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "CreateTags", "ResourceId.1": "i-0abc", "Tag.1.Key": "flywheel:isolated", "Tag.1.Value": "ex-1"})
}

func TestS3GetPublicAccessBlock(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<?xml version="1.0" encoding="UTF-8"?>
<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
		header: nethttp.Header{"Content-Type": {"application/xml"}}}
	out, err := run(t, rt, map[string]any{"service": "s3", "operation": "GetPublicAccessBlock", "input": map[string]any{"Bucket": "leaky-bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	if rt.request.Method != "GET" || !rt.request.URL.Query().Has("publicAccessBlock") {
		t.Errorf("request %s %s", rt.request.Method, rt.request.URL)
	}
	c := out.Values["PublicAccessBlockConfiguration"].(map[string]any)
	if c["BlockPublicAcls"] != true || c["RestrictPublicBuckets"] != false {
		t.Errorf("configuration = %#v", c)
	}
}

func TestIAMGetAccessKeyLastUsed(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<GetAccessKeyLastUsedResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccessKeyLastUsedResult>
    <AccessKeyLastUsed><Region>us-east-1</Region><LastUsedDate>2026-03-10T11:58:00Z</LastUsedDate><ServiceName>s3</ServiceName></AccessKeyLastUsed>
    <UserName>ci-deploy</UserName>
  </GetAccessKeyLastUsedResult>
  <ResponseMetadata><RequestId>req-9</RequestId></ResponseMetadata>
</GetAccessKeyLastUsedResponse>`}
	out, err := run(t, rt, map[string]any{"service": "iam", "operation": "GetAccessKeyLastUsed", "input": map[string]any{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}})
	if err != nil {
		t.Fatal(err)
	}
	assertForm(t, rt.form(t), map[string]string{"Action": "GetAccessKeyLastUsed", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE"})
	used := out.Values["AccessKeyLastUsed"].(map[string]any)
	if out.Values["UserName"] != "ci-deploy" || used["ServiceName"] != "s3" || used["LastUsedDate"] != "2026-03-10T11:58:00Z" {
		t.Errorf("values = %#v", out.Values)
	}
}

// TestAccountCredentials: a step naming an account gets the credentials
// LoadAccountConfig makes for the execution's tenant and that account; a
// step without one keeps the server's.
func TestAccountCredentials(t *testing.T) {
	t.Parallel()
	rt := &replay{body: `<GetEbsEncryptionByDefaultResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><ebsEncryptionByDefault>true</ebsEncryptionByDefault></GetEbsEncryptionByDefaultResponse>`}
	var asked []string
	a := aws.New(aws.Options{
		LoadConfig: func(_ context.Context, _ action.Input, r string) (sdkaws.Config, error) {
			asked = append(asked, "server")
			return sdkaws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDSERVER", "s", ""),
				HTTPClient: &nethttp.Client{Transport: rt}, RetryMaxAttempts: 1}, nil
		},
		LoadAccountConfig: func(_ context.Context, in action.Input, account, r string) (sdkaws.Config, error) {
			asked = append(asked, in.TenantID+"/"+account+"/"+r)
			return sdkaws.Config{Region: r, Credentials: credentials.NewStaticCredentialsProvider("ASIACUSTOMER", "s", "tok"),
				HTTPClient: &nethttp.Client{Transport: rt}, RetryMaxAttempts: 1}, nil
		},
	})
	in := input(map[string]any{"service": "ec2", "operation": "GetEbsEncryptionByDefault", "account": "123456789012", "region": "eu-west-2"})
	in.TenantID = "acme"
	out, err := a.Run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Values["EbsEncryptionByDefault"] != true {
		t.Errorf("outputs %v", out.Values)
	}
	if auth := rt.request.Header.Get("Authorization"); !strings.Contains(auth, "Credential=ASIACUSTOMER/") || !strings.Contains(auth, "/eu-west-2/ec2/aws4_request") {
		t.Errorf("signed with %q, want the account's credentials", auth)
	}
	if _, err := a.Run(t.Context(), input(map[string]any{"service": "ec2", "operation": "GetEbsEncryptionByDefault"})); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != "acme/123456789012/eu-west-2" || asked[1] != "server" {
		t.Errorf("configs asked = %v", asked)
	}
	if err := a.Validate(map[string]any{"service": "ec2", "operation": "GetEbsEncryptionByDefault", "account": "12345"}); err == nil || !strings.Contains(err.Error(), "12-digit") {
		t.Errorf("a bad account: %v", err)
	}
}
