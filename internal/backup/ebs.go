package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// MethodEBS takes EBS snapshots of inventoried AWS::EC2::Volume and
// AWS::EC2::Instance resources (all of an instance's volumes at one
// instant) through the AWS provider.
const MethodEBS = "ebs-snapshot"

// Snapshotter takes and deletes EBS snapshots in a tenant's AWS accounts,
// with the accounts' credentials (internal/backup/ebs through the AWS
// provider's Factory). Resources are inventory IDs: EC2 ARNs.
type Snapshotter interface {
	// Snapshot snapshots a volume, or every volume of an instance, tags
	// the snapshots, and waits until each has completed; an error names
	// the snapshot that failed or did not complete in time (ctx).
	Snapshot(ctx context.Context, tenant, resource string, tags map[string]string) ([]Snapshot, error)
	// Delete deletes snapshots of a resource; one already gone is deleted.
	Delete(ctx context.Context, tenant, resource string, ids []string) error
}

// Snapshot is one EBS snapshot of a recovery point.
type Snapshot struct {
	ID       string `json:"id"`
	VolumeID string `json:"volume"`
	SizeGiB  int64  `json:"size_gib"`
	State    string `json:"state"`
}

// EC2Resource is what an EC2 ARN (arn:aws:ec2:REGION:ACCOUNT:KIND/ID)
// names.
type EC2Resource struct {
	Region, Account, Kind, ID string
}

// ParseEC2ARN reads an inventory ID of an EC2 volume or instance.
func ParseEC2ARN(arn string) (EC2Resource, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ec2" || parts[3] == "" || parts[4] == "" {
		return EC2Resource{}, fmt.Errorf("%q is not the ARN of an EC2 volume or instance", arn)
	}
	kind, id, ok := strings.Cut(parts[5], "/")
	if !ok || id == "" || (kind != "volume" && kind != "instance") {
		return EC2Resource{}, fmt.Errorf("%q is not the ARN of an EC2 volume or instance (AWS::EC2::Volume, AWS::EC2::Instance)", arn)
	}
	return EC2Resource{Region: parts[3], Account: parts[4], Kind: kind, ID: id}, nil
}

// snapshotEBS takes the EBS snapshots of a point and fills it in.
func (s *Service) snapshotEBS(ctx context.Context, pt *store.RecoveryPoint, timeout time.Duration) error {
	if s.o.Snapshots == nil {
		return errors.New("no AWS provider to take EBS snapshots")
	}
	r, err := ParseEC2ARN(pt.ResourceID)
	if err != nil {
		return err
	}
	pt.Repository = "ec2:" + r.Region + ":" + r.Account
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	snaps, err := s.o.Snapshots.Snapshot(ctx, pt.TenantID, pt.ResourceID,
		map[string]string{"flywheel:backup-plan": pt.Plan, "flywheel:recovery-point": pt.ID})
	ids := make([]string, 0, len(snaps))
	for _, sn := range snaps {
		ids = append(ids, sn.ID)
		pt.SizeBytes += sn.SizeGiB << 30
	}
	pt.Location = strings.Join(ids, ",")
	pt.Manifest = map[string]any{"snapshots": snaps}
	if err == nil && len(snaps) == 0 {
		err = fmt.Errorf("%s has no volume to snapshot", pt.ResourceID)
	}
	return err
}

// deleteEBS deletes a point's snapshots.
func (s *Service) deleteEBS(ctx context.Context, pt store.RecoveryPoint) error {
	if s.o.Snapshots == nil {
		return errors.New("no AWS provider to delete EBS snapshots")
	}
	if pt.Location == "" {
		return nil
	}
	return s.o.Snapshots.Delete(ctx, pt.TenantID, pt.ResourceID, strings.Split(pt.Location, ","))
}
