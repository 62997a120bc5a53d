package rule

import (
	"bufio"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// guardDutyTypes is the catalogue of GuardDuty finding types, taken from
// the GuardDuty documentation's finding-type list (216 names, retired ones
// included): one type per line, "#" comments.
//
//go:embed guardduty_finding_types.txt
var guardDutyTypes string

// GuardDutyFindingTypes returns every GuardDuty finding type Flywheel knows
// of (active and retired), in catalogue order.
func GuardDutyFindingTypes() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(guardDutyTypes))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Summary is the consolidation figure: how many finding types the rules
// route onto how many runbooks. String gives "216 finding types → 5
// runbooks".
type Summary struct {
	// Types is how many finding types were routed (or not).
	Types int `json:"types"`
	// Runbooks is how many distinct runbooks they route to.
	Runbooks int `json:"runbooks"`
	// PerRunbook counts types per runbook, most first.
	PerRunbook []RunbookCount `json:"per_runbook"`
	// Routes is where each type goes, in the order given.
	Routes []Route `json:"routes"`
	// Unrouted lists the types no rule routes to a runbook; with the
	// built-in rules it is empty (unknown types fall back to
	// collect-diagnostics-and-escalate).
	Unrouted []string `json:"unrouted,omitempty"`
}

// RunbookCount is one runbook's share of the types.
type RunbookCount struct {
	Runbook string `json:"runbook"`
	Types   int    `json:"types"`
	// Rules are the rules that route there, in evaluation order.
	Rules []string `json:"rules"`
	// Modes are the modes those rules run it in.
	Modes []runbook.Mode `json:"modes"`
}

// Route is where one finding type goes.
type Route struct {
	Type    string       `json:"type"`
	Rule    string       `json:"rule,omitempty"`
	Runbook string       `json:"runbook,omitempty"`
	Mode    runbook.Mode `json:"mode,omitempty"`
}

func (s Summary) String() string {
	return fmt.Sprintf("%d finding types → %d runbooks", s.Types, s.Runbooks)
}

// Consolidation routes a representative finding of each GuardDuty type
// (SampleGuardDutyFinding) through rs — pass rs.ForTenant(t) for a
// tenant's view — and counts where they go: the figure the API and docs
// show, "N finding types → M runbooks".
func Consolidation(rs *Rules, types []string) Summary {
	return consolidate(rs, types, SampleGuardDutyFinding)
}

// consolidate routes sample(type) for each type through rs and counts
// where they go.
func consolidate(rs *Rules, types []string, sample func(string) event.Event) Summary {
	s := Summary{Types: len(types), Routes: make([]Route, 0, len(types))}
	idx := map[string]int{}
	for _, typ := range types {
		ev := sample(typ)
		o := sampleOpsItem(&ev)
		rt := Route{Type: typ}
		m, ok := rs.Route(&ev, &o)
		if !ok {
			s.Unrouted = append(s.Unrouted, typ)
			s.Routes = append(s.Routes, rt)
			continue
		}
		rt.Rule, rt.Runbook, rt.Mode = m.Rule.Name, m.Rule.Runbook, m.Rule.Mode
		s.Routes = append(s.Routes, rt)
		i, ok := idx[rt.Runbook]
		if !ok {
			i = len(s.PerRunbook)
			idx[rt.Runbook] = i
			s.PerRunbook = append(s.PerRunbook, RunbookCount{Runbook: rt.Runbook})
		}
		c := &s.PerRunbook[i]
		c.Types++
		if !slices.Contains(c.Rules, rt.Rule) {
			c.Rules = append(c.Rules, rt.Rule)
		}
		if !slices.Contains(c.Modes, rt.Mode) {
			c.Modes = append(c.Modes, rt.Mode)
		}
	}
	slices.SortStableFunc(s.PerRunbook, func(a, b RunbookCount) int {
		if a.Types != b.Types {
			return b.Types - a.Types
		}
		return strings.Compare(a.Runbook, b.Runbook)
	})
	s.Runbooks = len(s.PerRunbook)
	return s
}

// ThreatName is a GuardDuty finding type split per GuardDuty's naming
// scheme, ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact
// — the same split the EventBridge adapter puts in labels (threat_purpose,
// resource_type_affected, threat_family, detection_mechanism, artifact).
type ThreatName struct {
	Purpose, ResourceType, Family, Mechanism, Artifact string
}

// ParseThreatName splits a GuardDuty finding type.
func ParseThreatName(t string) ThreatName {
	var n ThreatName
	purpose, rest, ok := strings.Cut(t, ":")
	if !ok {
		return ThreatName{Purpose: t}
	}
	n.Purpose = purpose
	if res, after, ok := strings.Cut(rest, "/"); ok {
		n.ResourceType, rest = res, after
	}
	rest, n.Artifact, _ = strings.Cut(rest, "!")
	n.Family, n.Mechanism, _ = strings.Cut(rest, ".")
	return n
}

// GuardDutyResourceType is the resource.resourceType a finding of this
// type carries, inferred from the type name: EC2 and Runtime findings are
// about an Instance (Runtime Monitoring also reports on EKS and ECS; the
// name does not say which), IAM ones an AccessKey, S3 ones an S3Bucket
// (an S3Object for Malware Protection for S3), Kubernetes/EKS an
// EKSCluster, ECS an ECSCluster, Lambda a Lambda function, RDS an
// RDSDBInstance; Malware Protection for AWS Backup names the scanned
// artifact (EC2Image, EBSSnapshot, RecoveryPoint). "" when the name says
// nothing known.
func GuardDutyResourceType(findingType string) string {
	n := ParseThreatName(findingType)
	switch n.Artifact {
	case "AMI":
		return "EC2Image"
	case "Snapshot":
		return "EBSSnapshot"
	case "RecoveryPoint":
		return "RecoveryPoint"
	}
	switch n.ResourceType {
	case "EC2", "Runtime":
		return "Instance"
	case "IAMUser", "IAM":
		return "AccessKey"
	case "S3":
		if n.Family == "MaliciousFile" {
			return "S3Object"
		}
		return "S3Bucket"
	case "Kubernetes", "EKS":
		return "EKSCluster"
	case "ECS":
		return "ECSCluster"
	case "Container":
		return "Container"
	case "Lambda":
		return "Lambda"
	case "RDS":
		return "RDSDBInstance"
	}
	return ""
}

// Sample identifiers for SampleGuardDutyFinding.
const (
	sampleAccount  = "111122223333"
	sampleRegion   = "us-east-1"
	sampleInstance = "i-0123456789abcdef0"
	sampleKey      = "AKIAIOSFODNN7EXAMPLE"
	sampleUser     = "example-user"
	sampleBucket   = "example-bucket"
)

// SampleGuardDutyFinding is a representative normalized GuardDuty finding
// of a type, as the EventBridge adapter would produce it: the labels it
// derives from the type (finding_type, threat_purpose,
// resource_type_affected, threat_family, detection_mechanism, artifact),
// resource_type from GuardDutyResourceType, and the resources the adapter
// would list for that resource type (an S3 finding names the bucket and the
// access key of the caller, as GuardDuty's S3 findings do).
func SampleGuardDutyFinding(findingType string) event.Event {
	n := ParseThreatName(findingType)
	rt := GuardDutyResourceType(findingType)
	labels := map[string]string{"account": sampleAccount, "region": sampleRegion, "finding_type": findingType}
	for k, v := range map[string]string{"threat_purpose": n.Purpose, "resource_type_affected": n.ResourceType,
		"threat_family": n.Family, "detection_mechanism": n.Mechanism, "artifact": n.Artifact, "resource_type": rt} {
		if v != "" {
			labels[k] = v
		}
	}
	ref := func(typ, id string) event.ResourceRef {
		return event.ResourceRef{Type: typ, ID: id, Region: sampleRegion, Account: sampleAccount}
	}
	var res []event.ResourceRef
	switch rt {
	case "Instance":
		res = append(res, ref("ec2-instance", sampleInstance))
	case "AccessKey":
		res = append(res, ref("access-key", sampleKey), ref("iam-user", sampleUser))
	case "S3Bucket":
		res = append(res, ref("s3-bucket", sampleBucket), ref("access-key", sampleKey), ref("iam-user", sampleUser))
	case "S3Object":
		res = append(res, ref("s3-bucket", sampleBucket))
	case "EKSCluster":
		res = append(res, ref("eks-cluster", "example-cluster"))
	case "RDSDBInstance":
		res = append(res, ref("rds-instance", "example-db"))
	case "Lambda":
		res = append(res, ref("lambda-function", "example-function"))
	default:
		res = append(res, ref("aws-account", sampleAccount))
	}
	sev := event.SeverityMedium
	if n.Purpose == "AttackSequence" {
		sev = event.SeverityCritical
	}
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	return event.Event{
		Source: "guardduty", SourceID: "sample-" + findingType, Kind: event.KindFinding, Severity: sev,
		Status: event.StatusFiring, Title: findingType, Resources: res, Labels: labels,
		OccurredAt: at, ReceivedAt: at, UpdatedAt: at,
		Fingerprint: event.FingerprintOf("guardduty", map[string]string{"finding_id": "sample-" + findingType}),
	}
}

// sampleOpsItem is the OpsItem a finding opens, for evaluation without a
// store.
func sampleOpsItem(e *event.Event) store.OpsItem {
	return store.OpsItem{
		ID: "oi_sample", TenantID: "sample", Title: e.Title, Category: "security", Severity: string(e.Severity),
		Status: opsitem.StatusOpen, Source: e.Source, CreatedAt: e.OccurredAt, UpdatedAt: e.OccurredAt,
		FirstEventAt: e.OccurredAt, LastEventAt: e.OccurredAt, Occurrences: 1,
	}
}
