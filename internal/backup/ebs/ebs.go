// Package ebs takes and deletes the EBS snapshots of backup plans'
// ebs-snapshot selections (backup.Snapshotter) in tenants' AWS accounts,
// with each account's credentials from the AWS provider's Factory. It is
// apart from internal/backup so that the API, which links backup, links
// no cloud SDK.
package ebs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/flywheel-ops/flywheel/internal/backup"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Options configure Snapshots.
type Options struct {
	Factory *provider.Factory
	// Accounts are the tenants' AWS accounts (the store).
	Accounts store.AWSAccountReader
	// PollEvery is how often DescribeSnapshots is asked whether new
	// snapshots have completed (default 15 s).
	PollEvery time.Duration
}

// Snapshots is a backup.Snapshotter.
type Snapshots struct{ o Options }

var _ backup.Snapshotter = (*Snapshots)(nil)

// New returns Snapshots.
func New(o Options) *Snapshots {
	if o.PollEvery <= 0 {
		o.PollEvery = 15 * time.Second
	}
	return &Snapshots{o: o}
}

func (s *Snapshots) client(ctx context.Context, tenant, resource string) (*ec2.Client, backup.EC2Resource, error) {
	r, err := backup.ParseEC2ARN(resource)
	if err != nil {
		return nil, r, err
	}
	a, err := s.o.Accounts.GetAWSAccount(ctx, tenant, r.Account)
	if err != nil {
		return nil, r, fmt.Errorf("AWS account %s of %s: %w", r.Account, resource, err)
	}
	cfg, err := s.o.Factory.Config(ctx, a, r.Region)
	if err != nil {
		return nil, r, err
	}
	return ec2.NewFromConfig(cfg), r, nil
}

// Snapshot implements backup.Snapshotter: CreateSnapshot for a volume,
// CreateSnapshots (one instant, the volumes' tags copied) for an
// instance, then DescribeSnapshots until every one has completed.
func (s *Snapshots) Snapshot(ctx context.Context, tenant, resource string, tags map[string]string) ([]backup.Snapshot, error) {
	cl, r, err := s.client(ctx, tenant, resource)
	if err != nil {
		return nil, err
	}
	spec := []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: ec2Tags(tags)}}
	desc := sdkaws.String("Backup of " + r.ID + " by Flywheel plan " + tags["flywheel:backup-plan"])
	var snaps []backup.Snapshot
	if r.Kind == "volume" {
		out, err := cl.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: sdkaws.String(r.ID), Description: desc, TagSpecifications: spec})
		if err != nil {
			return nil, fmt.Errorf("CreateSnapshot of %s: %w", r.ID, err)
		}
		snaps = append(snaps, backup.Snapshot{ID: sdkaws.ToString(out.SnapshotId), VolumeID: sdkaws.ToString(out.VolumeId),
			SizeGiB: int64(sdkaws.ToInt32(out.VolumeSize)), State: string(out.State)})
	} else {
		out, err := cl.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &types.InstanceSpecification{InstanceId: sdkaws.String(r.ID)},
			Description: desc, CopyTagsFromSource: types.CopyTagsFromSourceVolume, TagSpecifications: spec})
		if err != nil {
			return nil, fmt.Errorf("CreateSnapshots of %s: %w", r.ID, err)
		}
		for _, sn := range out.Snapshots {
			snaps = append(snaps, backup.Snapshot{ID: sdkaws.ToString(sn.SnapshotId), VolumeID: sdkaws.ToString(sn.VolumeId),
				SizeGiB: int64(sdkaws.ToInt32(sn.VolumeSize)), State: string(sn.State)})
		}
	}
	return snaps, s.wait(ctx, cl, snaps)
}

// wait asks DescribeSnapshots until every snapshot has completed, and
// keeps their states in snaps.
func (s *Snapshots) wait(ctx context.Context, cl *ec2.Client, snaps []backup.Snapshot) error {
	ids := make([]string, len(snaps))
	for i, sn := range snaps {
		ids[i] = sn.ID
	}
	for {
		out, err := cl.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
		if err != nil {
			return fmt.Errorf("DescribeSnapshots: %w", err)
		}
		done := 0
		for _, d := range out.Snapshots {
			i := slices.Index(ids, sdkaws.ToString(d.SnapshotId))
			if i < 0 {
				continue
			}
			snaps[i].State = string(d.State)
			switch d.State {
			case types.SnapshotStateError:
				return fmt.Errorf("snapshot %s of %s failed: %s", ids[i], snaps[i].VolumeID, sdkaws.ToString(d.StateMessage))
			case types.SnapshotStateCompleted:
				done++
			}
		}
		if done == len(ids) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d snapshots completed in time: %w", done, len(ids), ctx.Err())
		case <-time.After(s.o.PollEvery):
		}
	}
}

// Delete implements backup.Snapshotter: DeleteSnapshot for each; one EC2
// no longer has (InvalidSnapshot.NotFound) is already deleted.
func (s *Snapshots) Delete(ctx context.Context, tenant, resource string, ids []string) error {
	cl, _, err := s.client(ctx, tenant, resource)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		_, err := cl.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: sdkaws.String(id)})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidSnapshot.NotFound" {
			err = nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("DeleteSnapshot %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func ec2Tags(m map[string]string) []types.Tag {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: sdkaws.String(k), Value: sdkaws.String(m[k])})
	}
	return out
}
