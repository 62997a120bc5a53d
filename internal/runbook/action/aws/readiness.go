package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
)

// ReadinessOptions configure the credentials check.
type ReadinessOptions struct {
	// Runbooks name the runbooks with aws steps, for the check's summary.
	Runbooks []string
	// Every bounds how often AWS is asked: a result is reused this long
	// (default 5 minutes), so the UI can show it on every page.
	Every time.Duration
	// Timeout bounds one check (default 10 s).
	Timeout time.Duration
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Accounts returns the AWS accounts Flywheel has seen (in findings'
	// "account" label), each with the tenants it was seen in; nil: none.
	// The check says, per account, whether the credentials act there.
	Accounts func(ctx context.Context) (map[string][]string, error)
}

// Readiness returns the doctor check of the credentials the aws action
// uses: it loads them as a step does (the SDK's chain, or Options.
// LoadConfig) and asks STS GetCallerIdentity whose they are. No
// credentials is a setup task (not every server acts on AWS); credentials
// AWS does not accept fail.
func (a *AWS) Readiness(o ReadinessOptions) doctor.Checker {
	if o.Every <= 0 {
		o.Every = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	var (
		mu   sync.Mutex
		last doctor.Check
		at   time.Time
	)
	return func(ctx context.Context) doctor.Check {
		mu.Lock()
		defer mu.Unlock()
		if now := o.Clock(); at.IsZero() || now.Sub(at) >= o.Every || now.Before(at) {
			ctx, cancel := context.WithTimeout(ctx, o.Timeout)
			last = a.checkCredentials(ctx, o.Runbooks)
			last = perAccount(ctx, last, o.Accounts)
			cancel()
			at = now
		}
		return last
	}
}

func (a *AWS) checkCredentials(ctx context.Context, runbooks []string) doctor.Check {
	c := doctor.Check{Name: "aws"}
	uses := "AWS runbooks"
	if len(runbooks) > 0 {
		uses += " (" + strings.Join(runbooks, ", ") + ")"
	}
	cfg, err := a.load(ctx, action.Input{}, "")
	if err != nil {
		c.Status, c.Summary = doctor.Fail, "The server's AWS configuration could not be loaded, so "+uses+" cannot run."
		c.Brief = "The server's AWS configuration could not be loaded, so AWS steps will fail."
		c.Details = []string{err.Error()}
		c.Fix = "Fix the shared config or credentials file (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)."
		return c
	}
	defaultRegion := cfg.Region
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // STS answers in every region; the check needs one
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		ce := explain(err, "sts GetCallerIdentity", cfg.Region)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) && strings.HasPrefix(ce.Sentence, "No AWS credentials") {
			c.Status = doctor.Todo
			c.Summary = "No AWS credentials are configured, so " + uses + " cannot run; their approvals would wait for nothing."
			c.Fix = "Give the server credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE), or an instance or task role."
			c.Brief = "No AWS credentials are configured on this server, so AWS steps will fail."
			return c
		}
		c.Status, c.Summary = doctor.Fail, "AWS credentials do not work: "+ce.Sentence
		c.Brief = "AWS does not accept the server's credentials, so AWS steps will fail."
		c.Details = []string{err.Error()}
		return c
	}
	c.Status = doctor.OK
	c.Account = deref(id.Account)
	c.Summary = fmt.Sprintf("AWS credentials work for account %s.", c.Account)
	c.Brief = "The server's AWS credentials work."
	c.Details = []string{fmt.Sprintf("account %s: works (%s)", c.Account, deref(id.Arn))}
	if defaultRegion == "" {
		c.Details = append(c.Details, "no default region: steps that name no region fail (the library's rules pass the event's)")
	} else {
		c.Details = append(c.Details, "default region "+defaultRegion)
	}
	return c
}

// perAccount adds a line per account Flywheel has seen in findings: the
// one the credentials belong to works; any other is a setup task, because
// the aws action acts with the server's one set of credentials and AWS
// refuses it in another account.
func perAccount(ctx context.Context, c doctor.Check, accounts func(context.Context) (map[string][]string, error)) doctor.Check {
	if accounts == nil {
		return c
	}
	seen, err := accounts(ctx)
	if err != nil {
		c.Details = append(c.Details, "the accounts seen in findings could not be read: "+err.Error())
		return c
	}
	c.Details = append([]string(nil), c.Details...)
	var others []string
	for _, acct := range slices.Sorted(maps.Keys(seen)) {
		if acct == c.Account {
			continue
		}
		others = append(others, acct)
		why := "no credentials"
		if c.Account != "" {
			why = "the credentials are for " + c.Account + "; remediations there will be refused"
		} else if c.Status == doctor.Fail {
			why = "the credentials do not work"
		}
		c.Details = append(c.Details, fmt.Sprintf("account %s (findings in tenant %s): %s", acct, strings.Join(seen[acct], ", "), why))
	}
	if len(others) > 0 && c.Status == doctor.OK {
		c.Status = doctor.Todo
		c.Summary = fmt.Sprintf("AWS credentials work for account %s only; findings come from %d other account(s) (%s) where AWS runbooks cannot act.",
			c.Account, len(others), strings.Join(others, ", "))
		c.Fix = "The aws step action acts with the server's one set of credentials: remediating in another account needs a Flywheel server holding that account's credentials."
	}
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
