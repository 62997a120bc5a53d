package aws

import (
	"context"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// readSecurityHub sets the region's SecurityHub fact: {Enabled, HubArn,
// SubscribedAt} when DescribeHub answers, {Enabled: false} when it says
// the account is not subscribed (InvalidAccessException,
// ResourceNotFoundException). Any other error (access denied) leaves the
// fact out, so the rule cannot tell.
func (c *collection) readSecurityHub(ctx context.Context, cfg sdkaws.Config, facts map[string]any) error {
	out, err := securityhub.NewFromConfig(cfg).DescribeHub(ctx, &securityhub.DescribeHubInput{})
	switch code := errorCode(err); {
	case err == nil:
		hub, err := merge(out, map[string]any{"Enabled": true})
		if err != nil {
			return err
		}
		facts["SecurityHub"] = hub
	case code == "InvalidAccessException" || code == "ResourceNotFoundException":
		facts["SecurityHub"] = map[string]any{"Enabled": false}
	default:
		c.fail(TypeAccount, cfg.Region, "DescribeHub", err)
	}
	return nil
}

// readAccessAnalyzer sets the region's AccessAnalyzers fact: every IAM
// Access Analyzer of the region (ListAnalyzers, all types), with Status.
func (c *collection) readAccessAnalyzer(ctx context.Context, cfg sdkaws.Config, facts map[string]any) error {
	all := []map[string]any{}
	p := accessanalyzer.NewListAnalyzersPaginator(accessanalyzer.NewFromConfig(cfg), &accessanalyzer.ListAnalyzersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(TypeAccount, cfg.Region, "ListAnalyzers", err)
			return nil
		}
		for _, a := range page.Analyzers {
			m, err := toMap(a)
			if err != nil {
				return err
			}
			all = append(all, m)
		}
	}
	facts["AccessAnalyzers"] = all
	return nil
}

// readEFS reads the region's EFS file systems (DescribeFileSystems).
func (c *collection) readEFS(ctx context.Context, cfg sdkaws.Config, _ map[string]any) error {
	p := efs.NewDescribeFileSystemsPaginator(efs.NewFromConfig(cfg), &efs.DescribeFileSystemsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.fail(TypeFileSystem, cfg.Region, "DescribeFileSystems", err)
			return nil
		}
		for _, fs := range page.FileSystems {
			tags := map[string]string{}
			for _, t := range fs.Tags {
				tags[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
			}
			name := sdkaws.ToString(fs.Name)
			if name == "" {
				name = sdkaws.ToString(fs.FileSystemId)
			}
			if err := c.add(TypeFileSystem, sdkaws.ToString(fs.FileSystemArn), name, tags, fs); err != nil {
				return err
			}
		}
	}
	return nil
}
