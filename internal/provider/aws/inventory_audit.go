package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// readCloudTrail reads the trails whose home is this region, each with
// its status (Status) and event selectors (EventSelectors,
// AdvancedEventSelectors).
func (c *collection) readCloudTrail(ctx context.Context, cfg sdkaws.Config, _ map[string]any) error {
	cl := cloudtrail.NewFromConfig(cfg)
	r := cfg.Region
	out, err := cl.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: sdkaws.Bool(false)})
	if err != nil {
		c.fail(TypeTrail, r, "DescribeTrails", err)
		return nil
	}
	for _, t := range out.TrailList {
		arn := sdkaws.ToString(t.TrailARN)
		status, err := cl.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
		if err != nil {
			c.fail(TypeTrail, r, "GetTrailStatus "+arn, err)
			continue
		}
		sel, err := cl.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: t.TrailARN})
		if err != nil {
			c.fail(TypeTrail, r, "GetEventSelectors "+arn, err)
			continue
		}
		statusMap, err := toMap(status)
		if err != nil {
			return err
		}
		extra := map[string]any{"Status": statusMap}
		if sel.EventSelectors != nil {
			extra["EventSelectors"] = sel.EventSelectors
		}
		if sel.AdvancedEventSelectors != nil {
			extra["AdvancedEventSelectors"] = sel.AdvancedEventSelectors
		}
		m, err := merge(t, extra)
		if err != nil {
			return err
		}
		if err := c.add(TypeTrail, arn, sdkaws.ToString(t.Name), nil, m); err != nil {
			return err
		}
	}
	return nil
}

// readConfig reads the region's configuration recorders, each with its
// status (Status); the region's facts get ConfigurationRecorders too.
func (c *collection) readConfig(ctx context.Context, cfg sdkaws.Config, facts map[string]any) error {
	cl := configservice.NewFromConfig(cfg)
	r := cfg.Region
	recs, err := cl.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
	if err != nil {
		c.fail(TypeConfigRecorder, r, "DescribeConfigurationRecorders", err)
		return nil
	}
	stats, err := cl.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil {
		c.fail(TypeConfigRecorder, r, "DescribeConfigurationRecorderStatus", err)
		return nil
	}
	status := map[string]cstypes.ConfigurationRecorderStatus{}
	for _, s := range stats.ConfigurationRecordersStatus {
		status[sdkaws.ToString(s.Name)] = s
	}
	all := []map[string]any{}
	for _, rec := range recs.ConfigurationRecorders {
		name := sdkaws.ToString(rec.Name)
		arn := sdkaws.ToString(rec.Arn)
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:config:%s:%s:configuration-recorder/%s", partition(r), r, c.account.ID, name)
		}
		extra := map[string]any{}
		if s, ok := status[name]; ok {
			extra["Status"] = s
		}
		m, err := merge(rec, extra)
		if err != nil {
			return err
		}
		all = append(all, m)
		if err := c.add(TypeConfigRecorder, arn, name, nil, m); err != nil {
			return err
		}
	}
	facts["ConfigurationRecorders"] = all
	return nil
}

// readKMS reads the region's KMS keys with their metadata (DescribeKey)
// and, for customer-managed symmetric keys, KeyRotationEnabled.
func (c *collection) readKMS(ctx context.Context, cfg sdkaws.Config, _ map[string]any) error {
	cl := kms.NewFromConfig(cfg)
	r := cfg.Region
	p := kms.NewListKeysPaginator(cl, &kms.ListKeysInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(TypeKMSKey, r, "ListKeys", err)
			return nil
		}
		for _, k := range page.Keys {
			arn := sdkaws.ToString(k.KeyArn)
			d, err := cl.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyArn})
			if err != nil {
				c.fail(TypeKMSKey, r, "DescribeKey "+arn, err)
				continue
			}
			md := d.KeyMetadata
			extra := map[string]any{}
			if md.KeyManager == kmstypes.KeyManagerTypeCustomer && md.KeySpec == kmstypes.KeySpecSymmetricDefault &&
				md.KeyState == kmstypes.KeyStateEnabled && md.Origin == kmstypes.OriginTypeAwsKms {
				rot, err := cl.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyArn})
				if err != nil {
					c.fail(TypeKMSKey, r, "GetKeyRotationStatus "+arn, err)
					continue
				}
				extra["KeyRotationEnabled"] = rot.KeyRotationEnabled
			}
			m, err := merge(md, extra)
			if err != nil {
				return err
			}
			if err := c.add(TypeKMSKey, arn, sdkaws.ToString(k.KeyId), nil, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// readRDS reads the region's database instances.
func (c *collection) readRDS(ctx context.Context, cfg sdkaws.Config, _ map[string]any) error {
	p := rds.NewDescribeDBInstancesPaginator(rds.NewFromConfig(cfg), &rds.DescribeDBInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(TypeDBInstance, cfg.Region, "DescribeDBInstances", err)
			return nil
		}
		for _, db := range page.DBInstances {
			var tags map[string]string
			for _, t := range db.TagList {
				if tags == nil {
					tags = map[string]string{}
				}
				tags[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
			}
			if err := c.add(TypeDBInstance, sdkaws.ToString(db.DBInstanceArn), sdkaws.ToString(db.DBInstanceIdentifier), tags, db); err != nil {
				return err
			}
		}
	}
	return nil
}

// join copies facts a rule about one resource needs from another: the
// account's S3 public access block into each bucket
// (AccountPublicAccessBlockConfiguration), a trail's bucket logging into
// the trail (S3BucketLoggingEnabled, when the bucket is in the account),
// and every trail into the account (Trails).
func (c *collection) join() {
	pab, hasPAB := c.facts["PublicAccessBlockConfiguration"]
	trails := []map[string]any{}
	for _, res := range c.res {
		switch res.Type {
		case TypeBucket:
			if hasPAB {
				m := c.config(res.ID)
				m["AccountPublicAccessBlockConfiguration"] = pab
				c.setConfig(res.ID, m)
			}
		case TypeTrail:
			m := c.config(res.ID)
			if bucket, ok := m["S3BucketName"].(string); ok {
				if b := c.config(fmt.Sprintf("arn:%s:s3:::%s", partition(c.account.Regions[0]), bucket)); b != nil {
					_, logged := b["LoggingEnabled"]
					m["S3BucketLoggingEnabled"] = logged
					c.setConfig(res.ID, m)
				}
			}
			trails = append(trails, m)
		}
	}
	if !c.failed[TypeTrail] {
		c.facts["Trails"] = trails
	}
}
