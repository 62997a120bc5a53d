package aws_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
)

// TestErrorsArePlainSentences: what the real SDK returns for a missing
// region, missing credentials, a refusal and expired credentials reaches
// the execution as one plain sentence, and the SDK's own error is in the
// server's log. errors.As still finds the API error.
func TestErrorsArePlainSentences(t *testing.T) {
	t.Parallel()
	static := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")
	none := sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
		return sdkaws.Credentials{}, errors.New("no EC2 IMDS role found, operation error ec2imds: GetMetadata, request canceled")
	})
	putBlock := map[string]any{"service": "s3", "operation": "PutPublicAccessBlock", "input": map[string]any{"Bucket": "acme-assets",
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true}}}
	for _, tc := range []struct {
		name      string
		region    string
		creds     sdkaws.CredentialsProvider
		rt        *replay
		with      map[string]any
		want, raw string
		code      string
	}{
		{name: "no region", creds: static, rt: &replay{}, with: putBlock,
			want: "No AWS region for s3 PutPublicAccessBlock: the step names none and the credentials have no default; pass the event's region (parameter region) or set AWS_REGION on the server.",
			raw:  "endpoint rule error"},
		{name: "no credentials", region: "us-east-1", creds: none, rt: &replay{}, with: putBlock,
			want: "No AWS credentials for s3 PutPublicAccessBlock in us-east-1", raw: "no EC2 IMDS role found"},
		{name: "refused", region: "us-east-1", creds: static, with: putBlock,
			rt: &replay{status: 403, header: nethttp.Header{"Content-Type": {"application/xml"}},
				body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R1</RequestId></Error>`},
			want: "AWS refused s3 PutPublicAccessBlock in us-east-1: the credentials are not allowed to do it (AccessDenied: Access Denied)", raw: "StatusCode: 403", code: "AccessDenied"},
		{name: "expired", region: "eu-west-1", creds: static,
			with: map[string]any{"service": "ec2", "operation": "DescribeInstances", "input": map[string]any{}},
			rt: &replay{status: 400, body: `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>r2</RequestID></Response>`},
			want: "AWS did not accept the server's credentials for ec2 DescribeInstances in eu-west-1: they are invalid or expired (AuthFailure", raw: "AuthFailure", code: "AuthFailure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			a := aws.New(aws.Options{LoadConfig: func(context.Context, action.Input, string) (sdkaws.Config, error) {
				return sdkaws.Config{Region: tc.region, Credentials: sdkaws.NewCredentialsCache(tc.creds),
					HTTPClient: &nethttp.Client{Transport: tc.rt}, RetryMaxAttempts: 1}, nil
			}})
			in := action.Input{With: tc.with, ExecutionID: "ex-1", Step: "s", Attempt: 1, Now: time.Now,
				Logger: slog.New(slog.NewTextHandler(&log, nil))}
			_, err := a.Run(t.Context(), in)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %q\nwant  %q…\nlog: %s", err, tc.want, log.String())
			}
			if strings.Contains(err.Error(), "operation error") || strings.Count(err.Error(), ". ") > 0 {
				t.Errorf("not one plain sentence: %q", err)
			}
			if !strings.Contains(log.String(), "aws call failed") || !strings.Contains(log.String(), tc.raw) {
				t.Errorf("the SDK's error (%q) is not in the log:\n%s", tc.raw, log.String())
			}
			var apiErr smithy.APIError
			if tc.code != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code) {
				t.Errorf("errors.As(APIError) lost the code %s: %v", tc.code, err)
			}
		})
	}
}
