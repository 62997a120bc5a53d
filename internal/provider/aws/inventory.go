package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Resource types, as AWS Config names them. TypeAccount holds the
// account-wide facts (root user, password policy, trails, per-region
// settings).
const (
	TypeAccount        = "AWS::::Account"
	TypeInstance       = "AWS::EC2::Instance"
	TypeVolume         = "AWS::EC2::Volume"
	TypeSnapshot       = "AWS::EC2::Snapshot"
	TypeSecurityGroup  = "AWS::EC2::SecurityGroup"
	TypeVPC            = "AWS::EC2::VPC"
	TypeNetworkACL     = "AWS::EC2::NetworkAcl"
	TypeBucket         = "AWS::S3::Bucket"
	TypeUser           = "AWS::IAM::User"
	TypePolicy         = "AWS::IAM::Policy"
	TypeTrail          = "AWS::CloudTrail::Trail"
	TypeConfigRecorder = "AWS::Config::ConfigurationRecorder"
	TypeKMSKey         = "AWS::KMS::Key"
	TypeDBInstance     = "AWS::RDS::DBInstance"
	TypeFileSystem     = "AWS::EFS::FileSystem"
)

// Types lists every type the inventory produces.
var Types = []string{TypeAccount, TypeInstance, TypeVolume, TypeSnapshot, TypeSecurityGroup, TypeVPC,
	TypeNetworkACL, TypeBucket, TypeUser, TypePolicy, TypeTrail, TypeConfigRecorder, TypeKMSKey, TypeDBInstance,
	TypeFileSystem}

// Inventory reads the resources of AWS accounts.
type Inventory struct {
	f     *Factory
	now   func() time.Time
	log   *slog.Logger
	limit int
}

// InventoryOptions configure an Inventory.
type InventoryOptions struct {
	Logger *slog.Logger
	// Now is the clock derived ages (AgeDays…) are computed with.
	Now func() time.Time
	// MaxResources bounds the resources read from one account (default
	// 100 000); past it the inventory stops with an error.
	MaxResources int
}

// NewInventory returns an Inventory making its clients with f.
func NewInventory(f *Factory, o InventoryOptions) *Inventory {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxResources <= 0 {
		o.MaxResources = 100_000
	}
	return &Inventory{f: f, now: o.Now, log: o.Logger, limit: o.MaxResources}
}

// Result is one account's inventory.
type Result struct {
	Resources []store.Resource
	// Complete lists the types read in full; a type missing from it had
	// an error (its resources may be partial), so a sync must not take
	// its absent resources as deleted.
	Complete map[string]bool
	// Errors are the calls that failed, each naming type and region.
	Errors []error
}

// collection gathers one account's resources while its readers run.
type collection struct {
	inv     *Inventory
	account store.AWSAccount
	now     time.Time
	res     []store.Resource
	byID    map[string]int
	failed  map[string]bool
	errs    []error
	// facts are the account resource's config, filled as readers go.
	facts   map[string]any
	regions []map[string]any
}

// Collect reads account a: global services once (through its first
// region), regional ones in each region in turn. A failing call fails
// only its type; Collect returns an error only when nothing could be
// read at all (ctx done, credentials refused).
func (inv *Inventory) Collect(ctx context.Context, a store.AWSAccount) (Result, error) {
	if err := Validate(a); err != nil {
		return Result{}, err
	}
	c := &collection{inv: inv, account: a, now: inv.now().UTC(), byID: map[string]int{}, failed: map[string]bool{},
		facts: map[string]any{"AccountId": a.ID}}
	global, err := inv.f.Config(ctx, a, a.Regions[0])
	if err != nil {
		return Result{}, err
	}
	for _, read := range []func(context.Context, sdkaws.Config) error{c.readIAM, c.readS3} {
		if err := c.settle(ctx, read(ctx, global)); err != nil {
			return Result{}, err
		}
	}
	for _, region := range a.Regions {
		cfg, err := inv.f.Config(ctx, a, region)
		if err != nil {
			return Result{}, err
		}
		facts := map[string]any{"Region": region}
		c.regions = append(c.regions, facts)
		for _, read := range []func(context.Context, sdkaws.Config, map[string]any) error{
			c.readEC2, c.readCloudTrail, c.readConfig, c.readKMS, c.readRDS,
			c.readSecurityHub, c.readAccessAnalyzer, c.readEFS, c.readMetricFilters,
		} {
			if err := c.settle(ctx, read(ctx, cfg, facts)); err != nil {
				return Result{}, err
			}
		}
	}
	if len(c.res) == 0 && len(c.errs) > 0 {
		return Result{}, fmt.Errorf("aws account %s: nothing could be read: %w", a.ID, errors.Join(c.errs...))
	}
	c.join()
	c.facts["Regions"] = c.regions
	if err := c.add(TypeAccount, AccountARN(a), a.ID, nil, c.facts); err != nil {
		return Result{}, err
	}
	complete := map[string]bool{}
	for _, t := range Types {
		if !c.failed[t] {
			complete[t] = true
		}
	}
	sort.Slice(c.res, func(i, j int) bool { return c.res[i].ID < c.res[j].ID })
	return Result{Resources: c.res, Complete: complete, Errors: c.errs}, nil
}

var errTooMany = errors.New("too many resources")

// settle sorts a reader's error: ctx done or the resource limit stop the
// inventory; anything else (a response that would not encode) is kept
// with the call errors.
func (c *collection) settle(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errTooMany):
		return err
	case err != nil:
		c.errs = append(c.errs, err)
	}
	return nil
}

// fail records a failed call; the type is incomplete.
func (c *collection) fail(typ, region, what string, err error) {
	c.failed[typ] = true
	c.errs = append(c.errs, fmt.Errorf("%s in %s: %s: %w", typ, region, what, err))
	c.inv.log.Warn("aws inventory call failed", "account", c.account.ID, "type", typ, "region", region, "call", what, "error", err.Error())
}

// add appends a resource with its config (an SDK struct, a map, or a
// struct with extra members merged in by merge).
func (c *collection) add(typ, arn, name string, tags map[string]string, config any) error {
	if len(c.res) >= c.inv.limit {
		return fmt.Errorf("aws account %s: more than %d resources: %w", c.account.ID, c.inv.limit, errTooMany)
	}
	m, err := toMap(config)
	if err != nil {
		return fmt.Errorf("%s %s: %w", typ, arn, err)
	}
	// Where it lives, for rules and remediation parameters: the account,
	// and the region (the ARN's; a bucket's own; none for IAM).
	m["AccountId"] = c.account.ID
	if parts := strings.SplitN(arn, ":", 5); len(parts) == 5 && parts[3] != "" {
		m["Region"] = parts[3]
	} else if r, ok := m["BucketRegion"].(string); ok && r != "" {
		m["Region"] = r
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%s %s: %w", typ, arn, err)
	}
	if i, ok := c.byID[arn]; ok { // read twice (a global seen from two regions)
		c.res[i].Config = b
		return nil
	}
	c.byID[arn] = len(c.res)
	c.res = append(c.res, store.Resource{ID: arn, TenantID: c.account.TenantID, Type: typ, Name: name, Tags: tags, Config: b,
		CreatedAt: c.now, UpdatedAt: c.now})
	return nil
}

// config returns a resource's config as a map, to join facts into.
func (c *collection) config(arn string) map[string]any {
	i, ok := c.byID[arn]
	if !ok {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(c.res[i].Config))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

func (c *collection) setConfig(arn string, m map[string]any) {
	if i, ok := c.byID[arn]; ok {
		c.res[i].Config, _ = configJSON(m)
	}
}

// configJSON is v as a JSON object by API member names, with nulls left
// out: a member the API did not return is absent (CEL: has(), ?.).
func configJSON(v any) (json.RawMessage, error) {
	m, err := toMap(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// toMap turns an SDK struct into a map by API member names, nulls left
// out.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "ResultMetadata")
	dropNulls(m)
	return m, nil
}

func dropNulls(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range x {
			dropNulls(e)
		}
	}
}

// merge returns an SDK struct's map with extra members added.
func merge(v any, extra map[string]any) (map[string]any, error) {
	m, err := toMap(v)
	if err != nil {
		return nil, err
	}
	maps.Copy(m, extra)
	return m, nil
}

// errorCode is an API error's code, "" for other errors.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// AccountARN is the ID of an account's TypeAccount resource.
func AccountARN(a store.AWSAccount) string {
	region := ""
	if len(a.Regions) > 0 {
		region = a.Regions[0]
	}
	return fmt.Sprintf("arn:%s:::%s", partition(region), a.ID)
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	}
	return "aws"
}

// days is the whole days from t to now, for derived ages.
func (c *collection) days(t *time.Time) int {
	if t == nil || t.IsZero() {
		return -1
	}
	return int(c.now.Sub(*t).Hours() / 24)
}
