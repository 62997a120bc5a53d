package aws

import (
	"context"
	"fmt"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func ec2Tags(tags []types.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[sdkaws.ToString(t.Key)] = sdkaws.ToString(t.Value)
	}
	return m
}

// nameTag is a resource's Name tag, or its id.
func nameTag(tags []types.Tag, id string) string {
	for _, t := range tags {
		if sdkaws.ToString(t.Key) == "Name" && sdkaws.ToString(t.Value) != "" {
			return sdkaws.ToString(t.Value)
		}
	}
	return id
}

func (c *collection) ec2ARN(region, kind, id string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/%s", partition(region), region, c.account.ID, kind, id)
}

// readEC2 reads instances, volumes, snapshots, security groups, VPCs with
// their flow logs, network ACLs, and the region's EBS encryption default.
func (c *collection) readEC2(ctx context.Context, cfg sdkaws.Config, facts map[string]any) error {
	cl := ec2.NewFromConfig(cfg)
	r := cfg.Region

	if out, err := cl.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{}); err != nil {
		c.fail(TypeAccount, r, "GetEbsEncryptionByDefault", err)
	} else {
		facts["EbsEncryptionByDefault"] = sdkaws.ToBool(out.EbsEncryptionByDefault)
	}

	instances := ec2.NewDescribeInstancesPaginator(cl, &ec2.DescribeInstancesInput{})
	for instances.HasMorePages() {
		page, err := instances.NextPage(ctx)
		if err != nil {
			c.fail(TypeInstance, r, "DescribeInstances", err)
			break
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				id := sdkaws.ToString(in.InstanceId)
				if err := c.add(TypeInstance, c.ec2ARN(r, "instance", id), nameTag(in.Tags, id), ec2Tags(in.Tags), in); err != nil {
					return err
				}
			}
		}
	}

	volumes := ec2.NewDescribeVolumesPaginator(cl, &ec2.DescribeVolumesInput{})
	for volumes.HasMorePages() {
		page, err := volumes.NextPage(ctx)
		if err != nil {
			c.fail(TypeVolume, r, "DescribeVolumes", err)
			break
		}
		for _, v := range page.Volumes {
			id := sdkaws.ToString(v.VolumeId)
			if err := c.add(TypeVolume, c.ec2ARN(r, "volume", id), nameTag(v.Tags, id), ec2Tags(v.Tags), v); err != nil {
				return err
			}
		}
	}

	if err := c.readSnapshots(ctx, cl, r); err != nil {
		return err
	}

	groups := ec2.NewDescribeSecurityGroupsPaginator(cl, &ec2.DescribeSecurityGroupsInput{})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			c.fail(TypeSecurityGroup, r, "DescribeSecurityGroups", err)
			break
		}
		for _, g := range page.SecurityGroups {
			id := sdkaws.ToString(g.GroupId)
			if err := c.add(TypeSecurityGroup, c.ec2ARN(r, "security-group", id), sdkaws.ToString(g.GroupName), ec2Tags(g.Tags), g); err != nil {
				return err
			}
		}
	}

	acls := ec2.NewDescribeNetworkAclsPaginator(cl, &ec2.DescribeNetworkAclsInput{})
	for acls.HasMorePages() {
		page, err := acls.NextPage(ctx)
		if err != nil {
			c.fail(TypeNetworkACL, r, "DescribeNetworkAcls", err)
			break
		}
		for _, a := range page.NetworkAcls {
			id := sdkaws.ToString(a.NetworkAclId)
			if err := c.add(TypeNetworkACL, c.ec2ARN(r, "network-acl", id), nameTag(a.Tags, id), ec2Tags(a.Tags), a); err != nil {
				return err
			}
		}
	}
	return c.readVPCs(ctx, cl, r)
}

// readSnapshots reads the account's own snapshots; those anyone may
// restore (a second, filtered listing) get Public: true.
func (c *collection) readSnapshots(ctx context.Context, cl *ec2.Client, r string) error {
	public := map[string]bool{}
	pub := ec2.NewDescribeSnapshotsPaginator(cl, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, RestorableByUserIds: []string{"all"}})
	for pub.HasMorePages() {
		page, err := pub.NextPage(ctx)
		if err != nil {
			c.fail(TypeSnapshot, r, "DescribeSnapshots (public)", err)
			return nil
		}
		for _, s := range page.Snapshots {
			public[sdkaws.ToString(s.SnapshotId)] = true
		}
	}
	snaps := ec2.NewDescribeSnapshotsPaginator(cl, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	for snaps.HasMorePages() {
		page, err := snaps.NextPage(ctx)
		if err != nil {
			c.fail(TypeSnapshot, r, "DescribeSnapshots", err)
			return nil
		}
		for _, s := range page.Snapshots {
			id := sdkaws.ToString(s.SnapshotId)
			m, err := merge(s, map[string]any{"Public": public[id]})
			if err != nil {
				return err
			}
			if err := c.add(TypeSnapshot, c.ec2ARN(r, "snapshot", id), nameTag(s.Tags, id), ec2Tags(s.Tags), m); err != nil {
				return err
			}
		}
	}
	return nil
}

// readVPCs reads VPCs, each with the flow logs attached to it (FlowLogs,
// possibly empty).
func (c *collection) readVPCs(ctx context.Context, cl *ec2.Client, r string) error {
	flowLogs := map[string][]types.FlowLog{}
	flowsOK := true
	logs := ec2.NewDescribeFlowLogsPaginator(cl, &ec2.DescribeFlowLogsInput{})
	for logs.HasMorePages() {
		page, err := logs.NextPage(ctx)
		if err != nil {
			c.fail(TypeVPC, r, "DescribeFlowLogs", err)
			flowsOK = false
			break
		}
		for _, f := range page.FlowLogs {
			id := sdkaws.ToString(f.ResourceId)
			flowLogs[id] = append(flowLogs[id], f)
		}
	}
	vpcs := ec2.NewDescribeVpcsPaginator(cl, &ec2.DescribeVpcsInput{})
	for vpcs.HasMorePages() {
		page, err := vpcs.NextPage(ctx)
		if err != nil {
			c.fail(TypeVPC, r, "DescribeVpcs", err)
			return nil
		}
		for _, v := range page.Vpcs {
			id := sdkaws.ToString(v.VpcId)
			extra := map[string]any{}
			if flowsOK {
				fl := flowLogs[id]
				if fl == nil {
					fl = []types.FlowLog{}
				}
				extra["FlowLogs"] = fl
			}
			m, err := merge(v, extra)
			if err != nil {
				return err
			}
			if err := c.add(TypeVPC, c.ec2ARN(r, "vpc", id), nameTag(v.Tags, id), ec2Tags(v.Tags), m); err != nil {
				return err
			}
		}
	}
	return nil
}
