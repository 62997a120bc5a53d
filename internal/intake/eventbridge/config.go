package eventbridge

import (
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// configDetail is the detail of a "Config Rules Compliance Change" event.
type configDetail struct {
	ResourceID          string           `json:"resourceId"`
	ResourceType        string           `json:"resourceType"`
	AWSRegion           string           `json:"awsRegion"`
	AWSAccountID        string           `json:"awsAccountId"`
	ConfigRuleName      string           `json:"configRuleName"`
	ConfigRuleARN       string           `json:"configRuleARN"`
	MessageType         string           `json:"messageType"`
	NotificationCreated string           `json:"notificationCreationTime"`
	NewEvaluationResult configEvaluation `json:"newEvaluationResult"`
	OldEvaluationResult configEvaluation `json:"oldEvaluationResult"`
}

type configEvaluation struct {
	EvaluationResultIdentifier struct {
		EvaluationResultQualifier struct {
			ConfigRuleName string `json:"configRuleName"`
			ResourceType   string `json:"resourceType"`
			ResourceID     string `json:"resourceId"`
		} `json:"evaluationResultQualifier"`
		OrderingTimestamp string `json:"orderingTimestamp"`
	} `json:"evaluationResultIdentifier"`
	ComplianceType     string `json:"complianceType"`
	ResultRecordedTime string `json:"resultRecordedTime"`
	Annotation         string `json:"annotation"`
}

// ConfigCompliance maps an AWS Config compliance type to status and
// severity. NON_COMPLIANT fires; COMPLIANT and NOT_APPLICABLE (the rule no
// longer applies, e.g. the resource was deleted) resolve. Config rules carry
// no severity, so it belongs to the rule: medium for the three known
// outcomes, whichever the state. INSUFFICIENT_DATA (the rule could not
// evaluate) and unknown types fire at info: worth recording, not acting on.
func ConfigCompliance(complianceType string) (event.Status, event.Severity) {
	switch complianceType {
	case "NON_COMPLIANT":
		return event.StatusFiring, event.SeverityMedium
	case "COMPLIANT", "NOT_APPLICABLE":
		return event.StatusResolved, event.SeverityMedium
	}
	return event.StatusFiring, event.SeverityInfo
}

func parseConfig(env *envelope) (event.Event, error) {
	var d configDetail
	if err := decodeAt(env.Detail, &d, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	q := d.NewEvaluationResult.EvaluationResultIdentifier.EvaluationResultQualifier
	rule := firstNonEmpty(d.ConfigRuleName, q.ConfigRuleName)
	resType := firstNonEmpty(d.ResourceType, q.ResourceType)
	resID := firstNonEmpty(d.ResourceID, q.ResourceID)
	switch {
	case rule == "":
		return event.Event{}, intake.Badf("%s is required", env.at("detail.configRuleName"))
	case resID == "":
		return event.Event{}, intake.Badf("%s is required", env.at("detail.resourceId"))
	}
	account := firstNonEmpty(d.AWSAccountID, env.Account)
	region := firstNonEmpty(d.AWSRegion, env.Region)
	compliance := d.NewEvaluationResult.ComplianceType

	ev := env.base("config", event.KindCompliance)
	ev.Status, ev.Severity = ConfigCompliance(compliance)
	ev.Fingerprint = event.FingerprintOf("config", map[string]string{
		"rule": rule, "resource_type": resType, "resource_id": resID,
	})
	ev.Title = rule + ": " + firstNonEmpty(resType, "resource") + " " + resID + " is " + firstNonEmpty(compliance, "UNKNOWN")
	ev.Description = d.NewEvaluationResult.Annotation
	ev.OccurredAt = payloadTime(env.time, d.NewEvaluationResult.ResultRecordedTime, d.NotificationCreated)

	typ := configResourceType(resType)
	ref := event.ResourceRef{Type: typ, ID: shortID(typ, resID), Region: region, Account: account}
	ev.Resources = []event.ResourceRef{ref}

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "config_rule", rule)
	setLabel(l, "config_rule_arn", d.ConfigRuleARN)
	setLabel(l, "resource_type", resType)
	setLabel(l, "compliance_type", compliance)
	setLabel(l, "previous_compliance_type", d.OldEvaluationResult.ComplianceType)
	return ev, nil
}
