package sns

import (
	"encoding/json"
	"slices"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
)

// alarmMessage is the body CloudWatch publishes to SNS for an alarm state
// change (PascalCase, "+0000" offsets, Region as the long name). Composite
// alarms have AlarmRule and no Trigger.
type alarmMessage struct {
	AlarmName        string `json:"AlarmName"`
	AlarmDescription string `json:"AlarmDescription"`
	AWSAccountID     string `json:"AWSAccountId"`
	NewStateValue    string `json:"NewStateValue"`
	NewStateReason   string `json:"NewStateReason"`
	StateChangeTime  string `json:"StateChangeTime"`
	Region           string `json:"Region"`
	AlarmARN         string `json:"AlarmArn"`
	OldStateValue    string `json:"OldStateValue"`
	AlarmRule        string `json:"AlarmRule"`
	Trigger          *struct {
		MetricName string      `json:"MetricName"`
		Namespace  string      `json:"Namespace"`
		Dimensions []dimension `json:"Dimensions"`
		// Metric math alarms list their metrics instead.
		Metrics []struct {
			MetricStat *struct {
				Metric struct {
					MetricName string      `json:"MetricName"`
					Namespace  string      `json:"Namespace"`
					Dimensions []dimension `json:"Dimensions"`
				} `json:"Metric"`
			} `json:"MetricStat"`
		} `json:"Metrics"`
	} `json:"Trigger"`
}

type dimension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// isAlarm reports whether a decoded Message has the keys of a CloudWatch
// alarm body.
func isAlarm(keys map[string]json.RawMessage) bool {
	_, name := keys["AlarmName"]
	_, state := keys["NewStateValue"]
	return name && state
}

// alarmEvent normalizes a CloudWatch alarm body. Status, severity and
// fingerprint come from the EventBridge adapter's rules, so an alarm is the
// same problem whichever way it is delivered.
func alarmEvent(m *message, body []byte) (event.Event, error) {
	var am alarmMessage
	if err := json.Unmarshal([]byte(*m.Message), &am); err != nil {
		br, _ := intake.AsBadRequest(intake.JSONError([]byte(*m.Message), err))
		return event.Event{}, intake.Badf("Message: %s", br.Message)
	}
	switch {
	case am.AlarmName == "":
		return event.Event{}, intake.Badf("Message.AlarmName is required")
	case am.NewStateValue == "":
		return event.Event{}, intake.Badf("Message.NewStateValue is required")
	}
	topic, _ := splitARN(m.TopicARN)
	region, account := topic.region, firstNonEmpty(am.AWSAccountID, topic.account)
	alarmARN := am.AlarmARN
	if a, ok := splitARN(alarmARN); ok {
		region, account = firstNonEmpty(a.region, region), firstNonEmpty(a.account, account)
	} else {
		alarmARN = eventbridge.AlarmARN(region, account, am.AlarmName)
	}

	ev := event.Event{
		Source:      "cloudwatch",
		SourceID:    m.MessageID,
		Kind:        event.KindAlert,
		Severity:    eventbridge.AlarmSeverity(am.NewStateValue),
		Status:      eventbridge.AlarmStatus(am.NewStateValue),
		Title:       am.AlarmName,
		Description: firstNonEmpty(am.AlarmDescription, am.NewStateReason),
		Fingerprint: eventbridge.AlarmFingerprint(alarmARN),
		OccurredAt:  messageTime(m, am.StateChangeTime),
		Raw:         body,
		Labels:      map[string]string{},
	}
	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "region_name", am.Region)
	setLabel(l, "alarm_name", am.AlarmName)
	setLabel(l, "alarm_arn", alarmARN)
	setLabel(l, "state", am.NewStateValue)
	setLabel(l, "previous_state", am.OldStateValue)
	setLabel(l, "topic_arn", m.TopicARN)
	if am.AlarmRule != "" {
		l["alarm_type"] = "composite"
	}

	var dims []dimension
	if t := am.Trigger; t != nil {
		setLabel(l, "metric_name", t.MetricName)
		setLabel(l, "namespace", t.Namespace)
		dims = append(dims, t.Dimensions...)
		for _, mq := range t.Metrics {
			if ms := mq.MetricStat; ms != nil {
				if _, ok := l["metric_name"]; !ok {
					setLabel(l, "metric_name", ms.Metric.MetricName)
					setLabel(l, "namespace", ms.Metric.Namespace)
				}
				dims = append(dims, ms.Metric.Dimensions...)
			}
		}
	}
	for _, d := range dims {
		if _, ok := l["dimension."+d.Name]; !ok && d.Name != "" {
			setLabel(l, "dimension."+d.Name, d.Value)
		}
		if ref, ok := eventbridge.DimensionResource(d.Name, d.Value); ok {
			ref.Region, ref.Account = region, account
			if !slices.Contains(ev.Resources, ref) {
				ev.Resources = append(ev.Resources, ref)
			}
		}
	}
	if len(ev.Resources) == 0 && account != "" {
		ev.Resources = []event.ResourceRef{{Type: "aws-account", ID: account, Region: region, Account: account}}
	}

	ev.Annotations = map[string]string{}
	setLabel(ev.Annotations, "reason", am.NewStateReason)
	setLabel(ev.Annotations, "alarm_rule", am.AlarmRule)
	if len(ev.Annotations) == 0 {
		ev.Annotations = nil
	}
	return ev, nil
}
