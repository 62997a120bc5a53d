package eventbridge

import (
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// asffFinding is one AWS Security Finding Format finding: only the fields
// the adapter reads; Raw keeps the rest.
type asffFinding struct {
	ID           string   `json:"Id"`
	ProductARN   string   `json:"ProductArn"`
	ProductName  string   `json:"ProductName"`
	CompanyName  string   `json:"CompanyName"`
	Region       string   `json:"Region"`
	GeneratorID  string   `json:"GeneratorId"`
	AWSAccountID string   `json:"AwsAccountId"`
	Types        []string `json:"Types"`
	CreatedAt    string   `json:"CreatedAt"`
	UpdatedAt    string   `json:"UpdatedAt"`
	Severity     *struct {
		Label      string      `json:"Label"`
		Normalized json.Number `json:"Normalized"`
	} `json:"Severity"`
	Title       string `json:"Title"`
	Description string `json:"Description"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"Text"`
			URL  string `json:"Url"`
		} `json:"Recommendation"`
	} `json:"Remediation"`
	ProductFields map[string]string `json:"ProductFields"`
	Resources     []struct {
		Type   string `json:"Type"`
		ID     string `json:"Id"`
		Region string `json:"Region"`
	} `json:"Resources"`
	Compliance *struct {
		Status              string   `json:"Status"`
		SecurityControlID   string   `json:"SecurityControlId"`
		RelatedRequirements []string `json:"RelatedRequirements"`
	} `json:"Compliance"`
	Workflow *struct {
		Status string `json:"Status"`
	} `json:"Workflow"`
	RecordState           string `json:"RecordState"`
	FindingProviderFields *struct {
		Severity *struct {
			Label string `json:"Label"`
		} `json:"Severity"`
	} `json:"FindingProviderFields"`
}

// SecurityHubSeverity maps an ASFF Severity.Label to the normalized scale;
// INFORMATIONAL is info. An unknown or empty label returns "" so the
// caller can fall back to Severity.Normalized.
func SecurityHubSeverity(label string) event.Severity {
	switch strings.ToUpper(label) {
	case "CRITICAL":
		return event.SeverityCritical
	case "HIGH":
		return event.SeverityHigh
	case "MEDIUM":
		return event.SeverityMedium
	case "LOW":
		return event.SeverityLow
	case "INFORMATIONAL":
		return event.SeverityInfo
	}
	return ""
}

// securityHubNormalized maps Severity.Normalized (0–100) with the ranges
// ASFF documents for deriving the label: 0 informational, 1–39 low,
// 40–69 medium, 70–89 high, 90–100 critical.
func securityHubNormalized(n float64) event.Severity {
	switch {
	case n >= 90:
		return event.SeverityCritical
	case n >= 70:
		return event.SeverityHigh
	case n >= 40:
		return event.SeverityMedium
	case n >= 1:
		return event.SeverityLow
	}
	return event.SeverityInfo
}

// securityHubResolved reports whether a finding no longer needs action:
// archived (the resource or control is gone), resolved or suppressed by a
// person or automation, or a control check that passed.
func securityHubResolved(f *asffFinding) bool {
	if strings.EqualFold(f.RecordState, "ARCHIVED") {
		return true
	}
	if f.Workflow != nil {
		switch strings.ToUpper(f.Workflow.Status) {
		case "RESOLVED", "SUPPRESSED":
			return true
		}
	}
	return f.Compliance != nil && strings.EqualFold(f.Compliance.Status, "PASSED")
}

// parseSecurityHub returns one event per element of detail.findings.
func parseSecurityHub(env *envelope) ([]event.Event, error) {
	var d struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := decodeAt(env.Detail, &d, env.at("detail")); err != nil {
		return nil, err
	}
	if d.Findings == nil {
		return nil, intake.Badf("%s is required", env.at("detail.findings"))
	}
	if len(d.Findings) == 0 {
		return nil, intake.Badf("%s is empty", env.at("detail.findings"))
	}
	evs := make([]event.Event, 0, len(d.Findings))
	var split func(json.RawMessage) json.RawMessage
	if len(d.Findings) > 1 {
		split = findingEnvelopes(env.raw)
	}
	for i, raw := range d.Findings {
		ev, err := parseASFF(env, raw, env.at("detail.findings["+itoa(i)+"]"))
		if err != nil {
			return nil, err
		}
		if split != nil {
			ev.Raw = split(raw)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func parseASFF(env *envelope, raw json.RawMessage, path string) (event.Event, error) {
	var f asffFinding
	if err := decodeAt(raw, &f, path); err != nil {
		return event.Event{}, err
	}
	if f.ID == "" {
		return event.Event{}, intake.Badf("%s.Id is required", path)
	}
	account := firstNonEmpty(f.AWSAccountID, env.Account)
	region := firstNonEmpty(f.Region, env.Region)

	ev := env.base("securityhub", event.KindFinding)
	ev.SourceID = f.ID
	ev.Fingerprint = event.FingerprintOf("securityhub", map[string]string{"finding_id": f.ID})
	ev.Title = firstNonEmpty(f.Title, f.GeneratorID, f.ID)
	ev.Description = f.Description
	ev.Severity = asffSeverity(&f)
	if securityHubResolved(&f) {
		ev.Status = event.StatusResolved
	}
	ev.UpdatedAt = payloadTime(env.time, f.UpdatedAt, f.CreatedAt)
	ev.OccurredAt = ev.UpdatedAt

	for _, r := range f.Resources {
		typ := asffResourceType(r.Type)
		ref := event.ResourceRef{Type: typ, ID: shortID(typ, r.ID), Region: firstNonEmpty(r.Region, region), Account: account}
		if a, ok := parseARN(r.ID); ok && a.Account != "" {
			ref.Account = a.Account
		}
		ev.Resources = addResource(ev.Resources, ref)
	}
	if len(ev.Resources) == 0 {
		ev.Resources = accountRef(account, region)
	}

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "product_name", firstNonEmpty(f.ProductName, f.ProductFields["aws/securityhub/ProductName"]))
	setLabel(l, "company_name", firstNonEmpty(f.CompanyName, f.ProductFields["aws/securityhub/CompanyName"]))
	setLabel(l, "generator_id", f.GeneratorID)
	if len(f.Types) > 0 {
		setLabel(l, "finding_type", f.Types[0])
	}
	if c := f.Compliance; c != nil {
		setLabel(l, "security_control_id", c.SecurityControlID)
		setLabel(l, "compliance_status", c.Status)
	}
	if f.Workflow != nil {
		setLabel(l, "workflow_status", f.Workflow.Status)
	}
	setLabel(l, "record_state", f.RecordState)
	if f.Severity != nil {
		setLabel(l, "severity_label", f.Severity.Label)
	}

	ev.Annotations = map[string]string{}
	setLabel(ev.Annotations, "remediation", f.Remediation.Recommendation.Text)
	setLabel(ev.Annotations, "remediation_url", f.Remediation.Recommendation.URL)
	if c := f.Compliance; c != nil {
		setLabel(ev.Annotations, "related_requirements", strings.Join(c.RelatedRequirements, "\n"))
	}
	if len(ev.Annotations) == 0 {
		ev.Annotations = nil
	}
	return ev, nil
}

// asffSeverity reads Severity.Label, then Severity.Normalized, then the
// label the finding provider set; a finding without any is medium, as
// ASFF leaves it unrated rather than harmless.
func asffSeverity(f *asffFinding) event.Severity {
	if f.Severity != nil {
		if s := SecurityHubSeverity(f.Severity.Label); s != "" {
			return s
		}
		if n, err := f.Severity.Normalized.Float64(); err == nil && f.Severity.Normalized != "" {
			return securityHubNormalized(n)
		}
	}
	if p := f.FindingProviderFields; p != nil && p.Severity != nil {
		if s := SecurityHubSeverity(p.Severity.Label); s != "" {
			return s
		}
	}
	return event.SeverityMedium
}

// findingEnvelopes returns a function that copies the envelope with
// detail.findings holding only the given finding, so each event's Raw
// replays to that event alone. Other envelope and detail keys are kept.
// The envelope is decoded once however many findings it holds.
func findingEnvelopes(envRaw json.RawMessage) func(finding json.RawMessage) json.RawMessage {
	var env, detail map[string]json.RawMessage
	if json.Unmarshal(envRaw, &env) != nil {
		return func(json.RawMessage) json.RawMessage { return envRaw }
	}
	for k, v := range env {
		// encoding/json matched "detail" case-insensitively; so does this.
		if strings.EqualFold(k, "detail") {
			detail = nil
			_ = json.Unmarshal(v, &detail)
			delete(env, k)
		}
	}
	if detail == nil {
		detail = map[string]json.RawMessage{}
	}
	for k := range detail {
		if strings.EqualFold(k, "findings") {
			delete(detail, k)
		}
	}
	return func(finding json.RawMessage) json.RawMessage {
		detail["findings"] = json.RawMessage("[" + string(finding) + "]")
		d, err := json.Marshal(detail)
		if err != nil {
			return envRaw
		}
		env["detail"] = d
		out, err := json.Marshal(env)
		if err != nil {
			return envRaw
		}
		return out
	}
}
