package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// CallError is a failed AWS call: Error is one plain sentence for the
// person reading the execution ("AWS refused …", "no AWS region …"), and
// Err the SDK's own error, which the action logs and which errors.As still
// reaches (smithy.APIError and such).
type CallError struct {
	Sentence string
	Err      error
}

func (e *CallError) Error() string { return e.Sentence }
func (e *CallError) Unwrap() error { return e.Err }

// explain turns the SDK's error from calling name ("s3
// PutPublicAccessBlock") in region into a CallError whose sentence says
// what went wrong and what to do: SDK errors read like "operation error S3:
// PutPublicAccessBlock, resolve auth scheme: resolve endpoint: endpoint
// rule error, Invalid region: region was not a valid DNS name.".
func explain(err error, name, region string) *CallError {
	where := " in " + region
	if region == "" {
		where = ""
	}
	msg := err.Error()
	var sentence string
	var apiErr smithy.APIError
	var signErr *v4.SigningError
	var netErr net.Error
	var invalid smithy.InvalidParamsError
	switch {
	case region == "" && regionProblem(msg):
		sentence = fmt.Sprintf("No AWS region for %s: the step names none and the credentials have no default; pass the event's region (parameter region) or set AWS_REGION on the server.", name)
	case regionProblem(msg):
		sentence = fmt.Sprintf("%q is not an AWS region %s can be called in; check the step's region.", region, name)
	case errors.As(err, &signErr) || strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "get credentials:") ||
		strings.Contains(msg, "failed to refresh cached credentials"):
		sentence = fmt.Sprintf("No AWS credentials for %s%s: the server found none in its environment, shared config files or instance role; run `flywheel doctor` to check.", name, where)
	case errors.As(err, &invalid):
		sentence = fmt.Sprintf("The input of %s is not valid: %s.", name, invalidFields(invalid))
	case errors.As(err, &apiErr):
		sentence = apiSentence(apiErr, name, where)
	case errors.Is(err, context.DeadlineExceeded):
		sentence = fmt.Sprintf("AWS did not answer %s%s within the step's timeout.", name, where)
	case errors.As(err, &netErr):
		sentence = fmt.Sprintf("Could not reach AWS for %s%s: the network call failed; check the server's outbound access to AWS.", name, where)
	default:
		sentence = fmt.Sprintf("The AWS call %s%s failed; the server's log has the SDK's error.", name, where)
	}
	return &CallError{Sentence: sentence, Err: err}
}

// invalidFields lists the SDK's validation problems on one line.
func invalidFields(e smithy.InvalidParamsError) string {
	var parts []string
	for _, l := range strings.Split(e.Error(), "\n") {
		if l = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- ")), "."); l != "" && !strings.Contains(l, "validation error(s) found") {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

func regionProblem(msg string) bool {
	for _, s := range []string{"Invalid region", "Missing Region", "Region must be set", "A region must be set", "MissingRegion", "could not find region"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// apiSentence explains an error AWS answered.
func apiSentence(e smithy.APIError, name, where string) string {
	code, text := e.ErrorCode(), strings.TrimSuffix(strings.TrimSpace(e.ErrorMessage()), ".")
	detail := code
	if text != "" {
		detail += ": " + text
	}
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden", "AllAccessDisabled":
		return fmt.Sprintf("AWS refused %s%s: the credentials are not allowed to do it (%s); grant the permission to the server's role or user.", name, where, detail)
	case "InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
		"AuthFailure", "UnrecognizedClientException", "InvalidToken", "RequestExpired":
		return fmt.Sprintf("AWS did not accept the server's credentials for %s%s: they are invalid or expired (%s).", name, where, detail)
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown", "TooManyRequestsException":
		return fmt.Sprintf("AWS throttled %s%s (%s); the step is retried if it allows retries.", name, where, detail)
	}
	return fmt.Sprintf("AWS answered %s%s with an error (%s).", name, where, detail)
}
