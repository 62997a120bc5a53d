package aws_test

import (
	"context"
	"errors"
	nethttp "net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
)

// counting counts the requests a replay answers.
type counting struct {
	*replay
	n atomic.Int32
}

func (c *counting) RoundTrip(r *nethttp.Request) (*nethttp.Response, error) {
	c.n.Add(1)
	return c.replay.RoundTrip(r)
}

const callerIdentity = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::111122223333:user/flywheel</Arn>
    <UserId>AIDAEXAMPLEUSERID</UserId>
    <Account>111122223333</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`

const invalidToken = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>5a8b0b0e-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>`

// TestReadiness: the credentials check asks STS through the real SDK
// (replayed responses): credentials that work name their account;
// credentials AWS refuses fail with a plain sentence; none at all is a
// setup task naming the AWS runbooks. A result is reused for Every.
func TestReadiness(t *testing.T) {
	t.Parallel()
	static := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")
	none := sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
		return sdkaws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	var accounts func(context.Context) (map[string][]string, error)
	check := func(rt nethttp.RoundTripper, creds sdkaws.CredentialsProvider, region string, clock func() time.Time) doctor.Checker {
		a := aws.New(aws.Options{LoadConfig: func(context.Context, action.Input, string) (sdkaws.Config, error) {
			return sdkaws.Config{Region: region, Credentials: sdkaws.NewCredentialsCache(creds), HTTPClient: &nethttp.Client{Transport: rt}, RetryMaxAttempts: 1}, nil
		}})
		return a.Readiness(aws.ReadinessOptions{Runbooks: []string{"block-s3-public-access", "isolate-ec2-instance"}, Every: time.Minute, Clock: clock,
			Accounts: accounts})
	}

	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ok := &counting{replay: &replay{header: nethttp.Header{"Content-Type": {"text/xml"}}, body: callerIdentity}}
	c := check(ok, static, "", clock)(t.Context())
	if c.Status != doctor.OK || c.Summary != "AWS credentials work for account 111122223333." ||
		!strings.Contains(strings.Join(c.Details, "\n"), "arn:aws:iam::111122223333:user/flywheel") ||
		!strings.Contains(strings.Join(c.Details, "\n"), "no default region") {
		t.Errorf("working credentials: %+v", c)
	}
	if got := ok.request.Header.Get("Authorization"); !strings.Contains(got, "/sts/aws4_request") {
		t.Errorf("the STS call was not signed by the SDK: %q", got)
	}
	if ok.sent == "" || !strings.Contains(ok.sent, "Action=GetCallerIdentity") {
		t.Errorf("sent %q, want GetCallerIdentity", ok.sent)
	}

	// Cached for Every, asked again after.
	ck := check(ok, static, "eu-west-1", clock)
	ck(t.Context())
	n := ok.n.Load()
	ck(t.Context())
	if ok.n.Load() != n {
		t.Error("a second check within Every asked AWS again")
	}
	now = now.Add(2 * time.Minute)
	ck(t.Context())
	if ok.n.Load() != n+1 {
		t.Error("a check after Every did not ask AWS again")
	}

	refused := &replay{status: 403, header: nethttp.Header{"Content-Type": {"text/xml"}}, body: invalidToken}
	c = check(refused, static, "us-east-1", clock)(t.Context())
	if c.Status != doctor.Fail || !strings.Contains(c.Summary, "AWS did not accept the server's credentials") ||
		!strings.Contains(c.Summary, "InvalidClientTokenId") || len(c.Details) == 0 {
		t.Errorf("refused credentials: %+v", c)
	}

	c = check(&replay{}, none, "us-east-1", clock)(t.Context())
	if c.Status != doctor.Todo || !strings.Contains(c.Summary, "No AWS credentials are configured") ||
		!strings.Contains(c.Summary, "block-s3-public-access, isolate-ec2-instance") || c.Fix == "" {
		t.Errorf("no credentials: %+v", c)
	}

	// Per account: findings from the credentials' account and another.
	accounts = func(context.Context) (map[string][]string, error) {
		return map[string][]string{"111122223333": {"acme"}, "444455556666": {"acme", "globex"}}, nil
	}
	c = check(ok, static, "us-east-1", clock)(t.Context())
	details := strings.Join(c.Details, "\n")
	if c.Status != doctor.Todo || c.Account != "111122223333" || !strings.Contains(c.Summary, "other account(s) (444455556666)") ||
		!strings.Contains(details, "account 111122223333: works") ||
		!strings.Contains(details, "account 444455556666 (findings in tenant acme, globex): the credentials are for 111122223333; remediations there will be refused") {
		t.Errorf("two accounts, credentials for one: %+v", c)
	}
	c = check(&replay{}, none, "us-east-1", clock)(t.Context())
	if c.Status != doctor.Todo || !strings.Contains(strings.Join(c.Details, "\n"), "account 444455556666 (findings in tenant acme, globex): no credentials") {
		t.Errorf("no credentials, per account: %+v", c)
	}
}
