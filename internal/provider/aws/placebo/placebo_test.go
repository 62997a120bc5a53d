package placebo_test

import (
	"context"
	"encoding/json"
	"errors"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func factory(p *placebo.Pill) *provider.Factory {
	return provider.NewFactory(provider.FactoryOptions{LoadBase: placebo.LoadBase, APIOptions: p.APIOptions(), MaxBackoff: time.Millisecond})
}

var acct = store.AWSAccount{TenantID: "t1", ID: "123456789012", Regions: []string{"eu-west-1"}}

func config(t *testing.T, p *placebo.Pill, a store.AWSAccount) sdkaws.Config {
	t.Helper()
	cfg, err := factory(p).Config(t.Context(), a, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestReplayInOrder(t *testing.T) {
	t.Parallel()
	p := placebo.Replay("testdata/order")
	c := sts.NewFromConfig(config(t, p, acct))
	for _, want := range []string{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::444455556666:user/bob"} {
		out, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if sdkaws.ToString(out.Arn) != want {
			t.Errorf("Arn = %q, want %q", sdkaws.ToString(out.Arn), want)
		}
	}
	_, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "no sts.GetCallerIdentity_3.json") {
		t.Errorf("third call: %v, want the missing file named", err)
	}
	calls := p.Calls()
	if len(calls) != 3 || calls[0].File != "sts.GetCallerIdentity_1.json" || calls[1].File != "sts.GetCallerIdentity_2.json" {
		t.Fatalf("calls = %+v", calls)
	}
	if calls[0].AccessKeyID != placebo.TestAccessKeyID || calls[0].Region != "eu-west-1" {
		t.Errorf("call 1 signed by %q in %q, want the SDK's SigV4 signature with the static key in eu-west-1", calls[0].AccessKeyID, calls[0].Region)
	}
}

func TestReplayThrottledCallIsRetried(t *testing.T) {
	t.Parallel()
	p := placebo.Replay("testdata/throttle")
	out, err := ec2.NewFromConfig(config(t, p, acct)).DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0a1b2c3d"}})
	if err != nil {
		t.Fatalf("the SDK retryer should have retried RequestLimitExceeded: %v", err)
	}
	if len(out.Vpcs) != 1 || sdkaws.ToString(out.Vpcs[0].VpcId) != "vpc-0a1b2c3d" || !sdkaws.ToBool(out.Vpcs[0].IsDefault) {
		t.Errorf("Vpcs = %+v", out.Vpcs)
	}
	calls := p.CallsTo("ec2.DescribeVpcs")
	if len(calls) != 2 {
		t.Fatalf("%d DescribeVpcs calls, want 2 (throttled, retried)", len(calls))
	}
	var in ec2.DescribeVpcsInput
	if err := calls[1].Input(&in); err != nil || len(in.VpcIds) != 1 || in.VpcIds[0] != "vpc-0a1b2c3d" {
		t.Errorf("retried input %+v (%v)", in, err)
	}
}

func TestReplayAPIError(t *testing.T) {
	t.Parallel()
	p := placebo.Replay("testdata/throttle")
	_, err := s3.NewFromConfig(config(t, p, acct)).GetPublicAccessBlock(t.Context(), &s3.GetPublicAccessBlockInput{Bucket: sdkaws.String("b")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchPublicAccessBlockConfiguration" {
		t.Fatalf("err = %v, want the API error NoSuchPublicAccessBlockConfiguration", err)
	}
	// Not retried: a client error.
	if n := len(p.CallsTo("s3.GetPublicAccessBlock")); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestReplayRejectsUnknownMembers(t *testing.T) {
	t.Parallel()
	p := placebo.Replay("testdata/strict")
	_, err := ec2.NewFromConfig(config(t, p, acct)).DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
	if err == nil || !strings.Contains(err.Error(), "ec2.DescribeVpcs_1.json") || !strings.Contains(err.Error(), "CidrBlok") {
		t.Errorf("err = %v, want the file and the misspelt member", err)
	}
}

func TestAssumeRoleWithExternalID(t *testing.T) {
	t.Parallel()
	p := placebo.Replay("testdata/assume")
	a := acct
	a.RoleARN, a.ExternalID = "arn:aws:iam::123456789012:role/FlywheelAudit", "msp-7f3a"
	f := factory(p)
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		cfg, err := f.Config(t.Context(), a, region)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	assumes := p.CallsTo("sts.AssumeRole")
	if len(assumes) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1 (credentials cached per account across regions)", len(assumes))
	}
	var in sts.AssumeRoleInput
	if err := assumes[0].Input(&in); err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(in.RoleArn) != a.RoleARN || sdkaws.ToString(in.ExternalId) != "msp-7f3a" || sdkaws.ToString(in.RoleSessionName) != "flywheel" {
		t.Errorf("AssumeRole input = %+v", in)
	}
	if assumes[0].AccessKeyID != placebo.TestAccessKeyID {
		t.Errorf("AssumeRole signed by %q, want the base credentials", assumes[0].AccessKeyID)
	}
	for _, c := range p.CallsTo("sts.GetCallerIdentity") {
		if c.AccessKeyID != "ASIAASSUMEDEXAMPLE" {
			t.Errorf("GetCallerIdentity in %s signed by %q, want the assumed role's key", c.Region, c.AccessKeyID)
		}
	}
}

// TestRecordScrubs records real wire responses (an STS query-protocol XML
// body, as AWS documents it) from a local endpoint: the SDK's own
// deserializer reads them, the pill writes them with the account ID and
// the secrets scrubbed, and a replay of that directory answers the same.
func TestRecordScrubs(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.Form.Get("Action") {
		case "GetCallerIdentity":
			_, _ = w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
   <Arn>arn:aws:iam::210987654321:user/Alice</Arn>
    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>
    <Account>210987654321</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`))
		case "AssumeRole":
			_, _ = w.Write([]byte(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::210987654321:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW</SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>`))
		default:
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>`))
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	rec := placebo.Record(dir)
	cfg := config(t, rec, acct)
	c := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = sdkaws.String(srv.URL) })
	live, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(live.Account) != "210987654321" {
		t.Fatalf("recording changed what the caller got: %q", sdkaws.ToString(live.Account))
	}
	if _, err := c.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: sdkaws.String("arn:aws:iam::210987654321:role/demo"), RoleSessionName: sdkaws.String("TestAR")}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sts.GetCallerIdentity_1.json", "sts.AssumeRole_1.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"210987654321", "wJalrXUtnFEMI", "AQoDYXdzEPT"} {
			if strings.Contains(string(b), leak) {
				t.Errorf("%s keeps %q:\n%s", f, leak, b)
			}
		}
	}
	if at, err := placebo.RecordedAt(dir); err != nil || time.Since(at) > time.Minute {
		t.Errorf("recorded_at = %v (%v), want about now", at, err)
	}
	replay := sts.NewFromConfig(config(t, placebo.Replay(dir), acct))
	out, err := replay.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(out.Account) != placebo.ScrubbedAccount || sdkaws.ToString(out.Arn) != "arn:aws:iam::"+placebo.ScrubbedAccount+":user/Alice" || sdkaws.ToString(out.UserId) != "AIDACKCEVSQ6C2EXAMPLE" {
		t.Errorf("replayed %+v", out)
	}
	ar, err := replay.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: sdkaws.String("arn:aws:iam::123456789012:role/demo"), RoleSessionName: sdkaws.String("TestAR")})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToString(ar.Credentials.SecretAccessKey) != placebo.Redacted || sdkaws.ToString(ar.Credentials.AccessKeyId) != "ASIAIOSFODNN7EXAMPLE" || ar.Credentials.Expiration.Year() != 2019 {
		t.Errorf("replayed credentials %+v", ar.Credentials)
	}
}

func TestScrubBase64Text(t *testing.T) {
	t.Parallel()
	csv := "user,arn\n<root_account>,arn:aws:iam::210987654321:root\nalice,arn:aws:iam::210987654321:user/alice\n"
	in, _ := json.Marshal(map[string]any{"Content": []byte(csv), "Owner": "210987654321:210987654322", "Size": 210987654321000})
	out, err := placebo.Scrub(in)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Content []byte
		Owner   string
		Size    int64
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got.Content), "210987654321") || strings.Count(string(got.Content), placebo.ScrubbedAccount) != 2 {
		t.Errorf("credential report not scrubbed: %q", got.Content)
	}
	if got.Owner != placebo.ScrubbedAccount+":"+placebo.ScrubbedAccount {
		t.Errorf("Owner = %q", got.Owner)
	}
	if got.Size != 210987654321000 {
		t.Errorf("a number was changed: %d", got.Size)
	}
}
