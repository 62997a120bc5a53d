package eventbridge

import (
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// inspectorFinding is the detail of an "Inspector2 Finding" event. Its
// timestamps are in Inspector's "Tue Mar 10 11:42:09.318 UTC 2026" form.
type inspectorFinding struct {
	AWSAccountID     string      `json:"awsAccountId"`
	FindingARN       string      `json:"findingArn"`
	Title            string      `json:"title"`
	Description      string      `json:"description"`
	Type             string      `json:"type"`
	Severity         string      `json:"severity"`
	Status           string      `json:"status"`
	UpdatedAt        string      `json:"updatedAt"`
	LastObservedAt   string      `json:"lastObservedAt"`
	FirstObservedAt  string      `json:"firstObservedAt"`
	ExploitAvailable string      `json:"exploitAvailable"`
	FixAvailable     string      `json:"fixAvailable"`
	InspectorScore   json.Number `json:"inspectorScore"`
	Remediation      struct {
		Recommendation struct {
			Text string `json:"text"`
		} `json:"recommendation"`
	} `json:"remediation"`
	PackageVulnerabilityDetails *struct {
		VulnerabilityID    string `json:"vulnerabilityId"`
		VendorSeverity     string `json:"vendorSeverity"`
		VulnerablePackages []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			FixedInVersion string `json:"fixedInVersion"`
		} `json:"vulnerablePackages"`
	} `json:"packageVulnerabilityDetails"`
	Resources []struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Region string `json:"region"`
	} `json:"resources"`
}

// InspectorSeverity maps Inspector2's severity strings. UNTRIAGED (no score
// yet) is medium: a vulnerability whose score is unknown is not harmless.
// Unknown values are medium for the same reason.
func InspectorSeverity(s string) event.Severity {
	switch strings.ToUpper(s) {
	case "CRITICAL":
		return event.SeverityCritical
	case "HIGH":
		return event.SeverityHigh
	case "MEDIUM", "UNTRIAGED":
		return event.SeverityMedium
	case "LOW":
		return event.SeverityLow
	case "INFORMATIONAL":
		return event.SeverityInfo
	}
	return event.SeverityMedium
}

// inspectorResourceType maps Inspector2 resource types to the vocabulary.
func inspectorResourceType(t string) string {
	switch t {
	case "AWS_EC2_INSTANCE":
		return typeEC2Instance
	case "AWS_ECR_CONTAINER_IMAGE":
		return "ecr-image"
	case "AWS_ECR_REPOSITORY":
		return "ecr-repository"
	case "AWS_LAMBDA_FUNCTION":
		return "lambda-function"
	case "":
		return "aws-resource"
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(t, "AWS_")), "_", "-")
}

func parseInspector(env *envelope) (event.Event, error) {
	var f inspectorFinding
	if err := decodeAt(env.Detail, &f, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if f.FindingARN == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.findingArn"))
	}
	account := firstNonEmpty(f.AWSAccountID, env.Account)
	region := env.Region
	if a, ok := parseARN(f.FindingARN); ok && a.Region != "" {
		region = a.Region
	}

	ev := env.base("inspector2", event.KindFinding)
	ev.SourceID = f.FindingARN
	ev.Fingerprint = event.FingerprintOf("inspector2", map[string]string{"finding_arn": f.FindingARN})
	ev.Title = firstNonEmpty(f.Title, f.Type, f.FindingARN)
	ev.Description = f.Description
	ev.Severity = InspectorSeverity(f.Severity)
	switch strings.ToUpper(f.Status) {
	case "CLOSED", "SUPPRESSED":
		ev.Status = event.StatusResolved
	}
	ev.UpdatedAt = payloadTime(env.time, f.UpdatedAt, f.LastObservedAt, f.FirstObservedAt)
	ev.OccurredAt = ev.UpdatedAt

	for _, r := range f.Resources {
		typ := inspectorResourceType(r.Type)
		ev.Resources = addResource(ev.Resources, event.ResourceRef{
			Type: typ, ID: shortID(typ, r.ID), Region: firstNonEmpty(r.Region, region), Account: account,
		})
	}
	if len(ev.Resources) == 0 {
		ev.Resources = accountRef(account, region)
	}

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "finding_type", f.Type)
	setLabel(l, "finding_status", f.Status)
	setLabel(l, "severity_label", f.Severity)
	setLabel(l, "inspector_score", numberString(f.InspectorScore))
	setLabel(l, "exploit_available", f.ExploitAvailable)
	setLabel(l, "fix_available", f.FixAvailable)

	ev.Annotations = map[string]string{}
	if p := f.PackageVulnerabilityDetails; p != nil {
		setLabel(l, "vulnerability_id", p.VulnerabilityID)
		setLabel(l, "vendor_severity", p.VendorSeverity)
		var names, lines []string
		for _, pkg := range p.VulnerablePackages {
			names = append(names, pkg.Name)
			line := strings.TrimSpace(pkg.Name + " " + pkg.Version)
			if pkg.FixedInVersion != "" && pkg.FixedInVersion != "NotAvailable" {
				line += " (fixed in " + pkg.FixedInVersion + ")"
			}
			lines = append(lines, line)
		}
		setLabel(l, "packages", strings.Join(names, ","))
		setLabel(ev.Annotations, "vulnerable_packages", strings.Join(lines, "\n"))
	}
	if text := f.Remediation.Recommendation.Text; text != "None Provided" {
		setLabel(ev.Annotations, "remediation", text)
	}
	if len(ev.Annotations) == 0 {
		ev.Annotations = nil
	}
	return ev, nil
}
