package aws

import (
	"context"
	"encoding/json"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// readS3 reads the account's public access block and every bucket, each
// in its own region, with its public access block, policy status,
// policy, encryption, versioning, logging and tags.
func (c *collection) readS3(ctx context.Context, cfg sdkaws.Config) error {
	ctl := s3control.NewFromConfig(cfg)
	pab, err := ctl.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: sdkaws.String(c.account.ID)})
	switch {
	case err == nil:
		c.facts["PublicAccessBlockConfiguration"], _ = toMap(pab.PublicAccessBlockConfiguration)
	case errorCode(err) == "NoSuchPublicAccessBlockConfiguration":
	default:
		c.fail(TypeAccount, cfg.Region, "s3control GetPublicAccessBlock", err)
	}

	clients := map[string]*s3.Client{}
	client := func(region string) *s3.Client {
		if region == "" {
			region = cfg.Region
		}
		if cl, ok := clients[region]; ok {
			return cl
		}
		rc := cfg.Copy()
		rc.Region = region
		clients[region] = s3.NewFromConfig(rc)
		return clients[region]
	}
	buckets := s3.NewListBucketsPaginator(client(""), &s3.ListBucketsInput{})
	for buckets.HasMorePages() {
		page, err := buckets.NextPage(ctx)
		if err != nil {
			c.fail(TypeBucket, cfg.Region, "ListBuckets", err)
			return nil
		}
		for _, b := range page.Buckets {
			name := sdkaws.ToString(b.Name)
			region := sdkaws.ToString(b.BucketRegion)
			m, tags, err := c.readBucket(ctx, client(region), name, region)
			if err != nil {
				c.fail(TypeBucket, region, "bucket "+name, err)
				continue
			}
			if b.CreationDate != nil {
				m["CreationDate"] = b.CreationDate
			}
			if err := c.add(TypeBucket, fmt.Sprintf("arn:%s:s3:::%s", partition(cfg.Region), name), name, tags, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// readBucket reads one bucket's settings. An API error meaning "not
// configured" leaves the member out; any other error fails the bucket.
func (c *collection) readBucket(ctx context.Context, cl *s3.Client, name, region string) (map[string]any, map[string]string, error) {
	b := sdkaws.String(name)
	m := map[string]any{"Name": name}
	if region != "" {
		m["BucketRegion"] = region
	}
	notSet := func(err error, codes ...string) (bool, error) {
		if err == nil {
			return false, nil
		}
		for _, code := range codes {
			if errorCode(err) == code {
				return true, nil
			}
		}
		return true, err
	}

	pab, err := cl.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if skip, err := notSet(err, "NoSuchPublicAccessBlockConfiguration"); err != nil {
		return nil, nil, fmt.Errorf("GetPublicAccessBlock: %w", err)
	} else if !skip {
		m["PublicAccessBlockConfiguration"] = pab.PublicAccessBlockConfiguration
	}

	ps, err := cl.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
	if skip, err := notSet(err, "NoSuchBucketPolicy"); err != nil {
		return nil, nil, fmt.Errorf("GetBucketPolicyStatus: %w", err)
	} else if !skip {
		m["PolicyStatus"] = ps.PolicyStatus
	}

	pol, err := cl.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if skip, err := notSet(err, "NoSuchBucketPolicy"); err != nil {
		return nil, nil, fmt.Errorf("GetBucketPolicy: %w", err)
	} else if !skip {
		// The policy document as JSON, so rules can read its statements
		// (normalized as IAM policies are).
		var doc map[string]any
		if json.Unmarshal([]byte(sdkaws.ToString(pol.Policy)), &doc) == nil {
			m["Policy"] = normalizePolicy(doc)
		}
	}

	enc, err := cl.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if skip, err := notSet(err, "ServerSideEncryptionConfigurationNotFoundError"); err != nil {
		return nil, nil, fmt.Errorf("GetBucketEncryption: %w", err)
	} else if !skip {
		m["ServerSideEncryptionConfiguration"] = enc.ServerSideEncryptionConfiguration
	}

	ver, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil {
		return nil, nil, fmt.Errorf("GetBucketVersioning: %w", err)
	}
	// Versioning always: an empty object for a bucket never versioned.
	m["Versioning"] = map[string]any{}
	if ver.Status != "" {
		m["Versioning"].(map[string]any)["Status"] = ver.Status
	}
	if ver.MFADelete != "" {
		m["Versioning"].(map[string]any)["MFADelete"] = ver.MFADelete
	}

	logging, err := cl.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
	if err != nil {
		return nil, nil, fmt.Errorf("GetBucketLogging: %w", err)
	}
	if logging.LoggingEnabled != nil {
		m["LoggingEnabled"] = logging.LoggingEnabled
	}

	var tags map[string]string
	tagging, err := cl.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if skip, err := notSet(err, "NoSuchTagSet"); err != nil {
		return nil, nil, fmt.Errorf("GetBucketTagging: %w", err)
	} else if !skip && len(tagging.TagSet) > 0 {
		tags = map[string]string{}
		for _, t := range tagging.TagSet {
			tags[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
		}
	}
	return m, tags, nil
}
