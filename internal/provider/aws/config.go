package aws

import (
	"context"
	"fmt"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// FactoryOptions configure a Factory.
type FactoryOptions struct {
	// LoadBase returns the configuration an account's credentials start
	// from: its profile's, or the default chain's when profile is "".
	// Nil: config.LoadDefaultConfig. Tests give static credentials.
	LoadBase func(ctx context.Context, profile, region string) (sdkaws.Config, error)
	// APIOptions are added to every client's middleware stack (a
	// placebo pill in tests).
	APIOptions []func(*middleware.Stack) error
	// MaxAttempts bounds each call's attempts, throttled ones included
	// (default 8); MaxBackoff bounds the wait between two (default 20 s).
	MaxAttempts int
	MaxBackoff  time.Duration
	// SessionName is the role session name of assumed roles, visible in
	// the customer's CloudTrail (default "flywheel").
	SessionName string
}

// Factory makes aws.Configs for tenants' accounts. It keeps one
// credentials cache per account (so a role is assumed once and refreshed
// before it expires, whichever region a client is for), and is safe for
// concurrent use.
type Factory struct {
	o FactoryOptions

	mu    sync.Mutex
	creds map[string]sdkaws.CredentialsProvider // by credKey
}

// NewFactory returns a Factory.
func NewFactory(o FactoryOptions) *Factory {
	if o.LoadBase == nil {
		o.LoadBase = loadDefault
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 20 * time.Second
	}
	if o.SessionName == "" {
		o.SessionName = "flywheel"
	}
	return &Factory{o: o, creds: map[string]sdkaws.CredentialsProvider{}}
}

func loadDefault(ctx context.Context, profile, region string) (sdkaws.Config, error) {
	// The SDK's own logger prints to stderr ("falling back to IMDSv1" on
	// every machine that is not EC2); its errors reach callers anyway.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{}), config.WithRegion(region)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// credKey identifies what an account's credentials are made from, so an
// edited account gets new ones.
func credKey(a store.AWSAccount) string {
	return a.TenantID + "\x00" + a.ID + "\x00" + a.Profile + "\x00" + a.RoleARN + "\x00" + a.ExternalID
}

// Config returns the configuration for calls to account a in region.
func (f *Factory) Config(ctx context.Context, a store.AWSAccount, region string) (sdkaws.Config, error) {
	if region == "" {
		if len(a.Regions) == 0 {
			return sdkaws.Config{}, fmt.Errorf("aws account %s: no region", a.ID)
		}
		region = a.Regions[0]
	}
	base, err := f.o.LoadBase(ctx, a.Profile, region)
	if err != nil {
		return sdkaws.Config{}, fmt.Errorf("aws account %s: load configuration: %w", a.ID, err)
	}
	base.Region = region
	base.APIOptions = append(append([]func(*middleware.Stack) error(nil), base.APIOptions...), f.o.APIOptions...)
	base.Retryer = f.retryer
	if a.RoleARN == "" {
		return base, nil
	}
	base.Credentials = f.roleCredentials(a, base)
	return base, nil
}

// retryer is the SDK's standard retryer with more attempts: inventory
// pages through large accounts, and throttling (with its own backoff and
// retry quota) is normal there.
func (f *Factory) retryer() sdkaws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = f.o.MaxAttempts
		o.MaxBackoff = f.o.MaxBackoff
		o.Backoff = retry.NewExponentialJitterBackoff(f.o.MaxBackoff)
	})
}

func (f *Factory) roleCredentials(a store.AWSAccount, base sdkaws.Config) sdkaws.CredentialsProvider {
	key := credKey(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.creds[key]; ok {
		return p
	}
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = f.o.SessionName
		if a.ExternalID != "" {
			o.ExternalID = sdkaws.String(a.ExternalID)
		}
	})
	p := sdkaws.NewCredentialsCache(provider)
	f.creds[key] = p
	return p
}
