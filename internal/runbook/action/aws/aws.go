// Package aws is the `aws` step action: call one AWS API operation through
// aws-sdk-go-v2, for remediation runbooks (isolate an instance, snapshot
// its volumes, revoke world-open ingress, block public S3 access, disable an
// access key).
//
// Only the operations in the dispatch table (operations.go) can be called:
// each is a typed SDK call, so a step's `input` is checked against the
// operation's real input shape when the runbook loads, and the SDK signs,
// retries and validates the request. The table holds no operation whose
// output carries a secret (such as iam CreateAccessKey), because outputs are
// stored with the execution.
package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws/awsspec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// Options configure the aws action.
type Options struct {
	// LoadConfig returns the SDK configuration for a step: its region
	// ("" for the configuration's own default) and credentials. Nil: the
	// SDK's default chain (environment, shared config and credentials
	// files, SSO, web identity, the instance's role), loaded once per
	// region. Per-tenant credentials plug in here.
	LoadConfig func(ctx context.Context, in action.Input, region string) (sdkaws.Config, error)
	// LoadAccountConfig returns the configuration for a step naming an
	// account: the tenant's (in.TenantID) credentials for that AWS
	// account, from the AWS provider (internal/provider/aws). Nil: such a
	// step gets LoadConfig's, as one with no account does.
	LoadAccountConfig func(ctx context.Context, in action.Input, account, region string) (sdkaws.Config, error)
}

// AWS is the aws action.
type AWS struct {
	load        func(ctx context.Context, in action.Input, region string) (sdkaws.Config, error)
	loadAccount func(ctx context.Context, in action.Input, account, region string) (sdkaws.Config, error)

	mu      sync.Mutex
	configs map[string]sdkaws.Config // default chain, by region
}

var _ action.Action = (*AWS)(nil)

// New returns the aws action.
func New(o Options) *AWS {
	a := &AWS{load: o.LoadConfig, loadAccount: o.LoadAccountConfig, configs: map[string]sdkaws.Config{}}
	if a.load == nil {
		a.load = a.defaultConfig
	}
	return a
}

// defaultConfig loads the default chain once per region, so its credential
// cache (and any role it assumed) is shared by every step.
func (a *AWS) defaultConfig(ctx context.Context, _ action.Input, region string) (sdkaws.Config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cfg, ok := a.configs[region]; ok {
		return cfg, nil
	}
	// The SDK's own logger prints to stderr ("falling back to IMDSv1" on
	// every machine that is not EC2); its errors reach callers anyway.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return sdkaws.Config{}, err
	}
	a.configs[region] = cfg
	return cfg, nil
}

// Name implements action.Action.
func (*AWS) Name() string { return "aws" }

// Validate implements action.Action.
func (*AWS) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	awsspec.Parse(r, sdkInput)
	return r.Err()
}

// sdkInput makes an operation's SDK input (awsspec.Parse has checked the
// service and operation are in the table).
func sdkInput(service, operation string) func() any { return table[service][operation].newInput }

// ErrNoAccount is LoadAccountConfig's answer for an account the tenant
// has not added: the step uses the server's credentials, as one naming no
// account does.
var ErrNoAccount = errors.New("no such AWS account for the tenant")

// Run implements action.Action.
func (a *AWS) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	c := awsspec.Parse(r, sdkInput)
	if err := r.Err(); err != nil {
		return action.Output{}, fmt.Errorf("aws: %w", err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	name := c.Service + " " + c.Operation
	var cfg sdkaws.Config
	var err error
	if c.Account != "" && a.loadAccount != nil {
		cfg, err = a.loadAccount(ctx, in, c.Account, c.Region)
	}
	if c.Account == "" || a.loadAccount == nil || errors.Is(err, ErrNoAccount) {
		cfg, err = a.load(ctx, in, c.Region)
	}
	if err != nil {
		a.logRaw(in, name, c.Region, err)
		return action.Output{}, &CallError{Sentence: fmt.Sprintf("The server's AWS configuration could not be loaded for %s; the server's log has why.", name), Err: err}
	}
	start := time.Now()
	out, meta, err := table[c.Service][c.Operation].call(ctx, cfg, c.Input)
	elapsed := time.Since(start)
	if err != nil {
		a.logRaw(in, name, cfg.Region, err)
		ce := explain(err, name, cfg.Region)
		o := action.Output{Log: fmt.Sprintf("%s in %s: failed after %s: %s", name, cfg.Region, elapsed.Round(time.Millisecond), ce.Sentence)}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			o.Values = map[string]any{"error_code": apiErr.ErrorCode()}
		}
		return o, ce
	}
	values, err := outputValues(out)
	for _, path := range table[c.Service][c.Operation].drop {
		dropPath(values, path)
	}
	if err != nil {
		return action.Output{}, fmt.Errorf("aws: %s: output: %w", name, err)
	}
	reqID, _ := awsmiddleware.GetRequestIDMetadata(meta)
	values["request_id"] = reqID
	return action.Output{
		Values: values,
		Log:    fmt.Sprintf("%s in %s: ok after %s (request %s)", name, cfg.Region, elapsed.Round(time.Millisecond), reqID),
	}, nil
}

// logRaw keeps the SDK's own error in the server's log: the step shows
// the plain sentence of explain.
func (a *AWS) logRaw(in action.Input, name, region string, err error) {
	if in.Logger != nil {
		in.Logger.Warn("aws call failed", "call", name, "region", region, "execution", in.ExecutionID, "step", in.Step, "error", err.Error())
	}
}

// outputValues turns an SDK output struct into plain data for expressions:
// members by their API names, nulls left out, integers as int64.
func outputValues(out any) (map[string]any, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "ResultMetadata")
	v, _ := plain(m).(map[string]any)
	if v == nil {
		v = map[string]any{}
	}
	return v, nil
}

func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = plain(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// Services lists the supported services.
func Services() []string { return awsspec.Services() }

// Operations lists a service's supported operations.
func Operations(service string) []string { return awsspec.Operations(service) }

// operation is one callable API operation.
type operation struct {
	// drop are output members never kept ("Code", "Configuration.Environment").
	drop     []string
	newInput func() any
	call     func(ctx context.Context, cfg sdkaws.Config, in any) (out any, meta middleware.Metadata, err error)
}

// without returns the operation with the output members at paths dropped
// (dotted member names): those that hold a secret.
func (o operation) without(paths ...string) operation {
	o.drop = append(o.drop, paths...)
	return o
}

// dropPath deletes the member at a dotted path of v, if present.
func dropPath(v map[string]any, path string) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		delete(v, head)
		return
	}
	if m, ok := v[head].(map[string]any); ok {
		dropPath(m, rest)
	}
}

// op makes a table entry from a service's client constructor and one of its
// methods, e.g. op(ec2.NewFromConfig, (*ec2.Client).CreateSnapshot).
func op[C, I, O, Opt any](
	newClient func(sdkaws.Config, ...func(*Opt)) *C,
	method func(*C, context.Context, *I, ...func(*Opt)) (*O, error),
) operation {
	return operation{
		newInput: func() any { return new(I) },
		call: func(ctx context.Context, cfg sdkaws.Config, in any) (any, middleware.Metadata, error) {
			out, err := method(newClient(cfg), ctx, in.(*I))
			if err != nil {
				return nil, middleware.Metadata{}, err
			}
			// Every SDK output has ResultMetadata (request ID and such).
			meta, _ := reflect.ValueOf(out).Elem().FieldByName("ResultMetadata").Interface().(middleware.Metadata)
			return out, meta, nil
		},
	}
}
