package cost

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Resource kinds a schedule acts on.
const (
	KindHost = "host"
	KindEC2  = "ec2"
	KindRDS  = "rds"
)

// Inventory resource types of each kind: the agent's hosts and the AWS
// provider's (internal/provider/aws, CloudFormation type names), and the
// short names resources created through the API may use.
var (
	ec2Types    = []string{"AWS::EC2::Instance", "ec2-instance", "aws.ec2.instance"}
	rdsTypes    = []string{"AWS::RDS::DBInstance", "rds-instance", "aws.rds.db-instance"}
	volumeTypes = []string{"AWS::EC2::Volume", "ebs-volume", "aws.ec2.volume"}
	snapTypes   = []string{"AWS::EC2::Snapshot", "ebs-snapshot", "aws.ec2.snapshot"}
)

// Described is what the cost engine reads from an inventory resource.
type Described struct {
	Kind      string // host, ec2, rds, volume, snapshot or ""
	CloudID   string // i-…, the DB identifier, vol-…, snap-…
	Region    string
	Type      string // instance type, DB instance class, volume type
	State     string // running, stopped, available, in-use … ("" unknown)
	SizeGB    float64
	CreatedAt string
	Attached  []string // a volume's instances; an instance's volumes
}

// Describe reads a resource's configuration snapshot. Field names follow
// the AWS API's (InstanceType, State.Name, DBInstanceClass, Size) and the
// lower-case forms a provider may store (instance_type, state, region).
func Describe(r store.Resource) Described {
	var c map[string]any
	_ = json.Unmarshal(r.Config, &c)
	d := Described{CloudID: first(c, "InstanceId", "instance_id", "DBInstanceIdentifier", "db_instance_identifier", "VolumeId", "volume_id", "SnapshotId", "snapshot_id"),
		Region: first(c, "region", "Region"), CreatedAt: first(c, "CreateTime", "StartTime", "create_time", "start_time", "created_at")}
	if d.CloudID == "" {
		d.CloudID = r.Name
	}
	if d.Region == "" {
		if az := first(c, "AvailabilityZone", "availability_zone"); len(az) > 1 {
			d.Region = az[:len(az)-1]
		} else if pl, ok := c["Placement"].(map[string]any); ok {
			if az, _ := pl["AvailabilityZone"].(string); len(az) > 1 {
				d.Region = az[:len(az)-1]
			}
		}
	}
	d.State = strings.ToLower(first(c, "state", "State", "DBInstanceStatus", "db_instance_status"))
	if st, ok := c["State"].(map[string]any); ok {
		d.State, _ = st["Name"].(string)
	}
	d.SizeGB = number(c, "Size", "size_gb", "VolumeSize", "volume_size", "AllocatedStorage")
	switch {
	case r.Type == fleet.ResourceTypeHost:
		d.Kind = KindHost
		d.Type = first(c, "instance_type", "InstanceType")
		if cloud, ok := c["cloud"].(map[string]any); ok {
			d.Type, d.Region = first(cloud, "instance_type"), first(cloud, "region")
		}
	case slices.Contains(ec2Types, r.Type):
		d.Kind, d.Type = KindEC2, first(c, "InstanceType", "instance_type")
		for _, m := range list(c, "BlockDeviceMappings") {
			if ebs, ok := m["Ebs"].(map[string]any); ok {
				if v, _ := ebs["VolumeId"].(string); v != "" {
					d.Attached = append(d.Attached, v)
				}
			}
		}
	case slices.Contains(rdsTypes, r.Type):
		d.Kind, d.Type = KindRDS, first(c, "DBInstanceClass", "db_instance_class")
	case slices.Contains(volumeTypes, r.Type):
		d.Kind, d.Type = "volume", first(c, "VolumeType", "volume_type")
		for _, a := range list(c, "Attachments") {
			if v, _ := a["InstanceId"].(string); v != "" {
				d.Attached = append(d.Attached, v)
			}
		}
	case slices.Contains(snapTypes, r.Type):
		d.Kind = "snapshot"
		d.Type = first(c, "VolumeId")
	}
	return d
}

func first(c map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := c[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func number(c map[string]any, keys ...string) float64 {
	for _, k := range keys {
		if f, ok := c[k].(float64); ok {
			return f
		}
	}
	return 0
}

func list(c map[string]any, key string) []map[string]any {
	arr, _ := c[key].([]any)
	var out []map[string]any
	for _, a := range arr {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
