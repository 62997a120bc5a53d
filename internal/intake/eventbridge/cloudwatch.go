package eventbridge

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// alarmDetail is the detail of a "CloudWatch Alarm State Change" event
// (camel case, unlike the PascalCase body CloudWatch sends through SNS).
type alarmDetail struct {
	AlarmName     string     `json:"alarmName"`
	State         alarmState `json:"state"`
	PreviousState alarmState `json:"previousState"`
	Configuration struct {
		Description string `json:"description"`
		AlarmRule   string `json:"alarmRule"` // composite alarms only
		Metrics     []struct {
			MetricStat struct {
				Metric struct {
					Dimensions map[string]string `json:"dimensions"`
					Name       string            `json:"name"`
					Namespace  string            `json:"namespace"`
				} `json:"metric"`
			} `json:"metricStat"`
		} `json:"metrics"`
	} `json:"configuration"`
}

type alarmState struct {
	Value string `json:"value"`
	// Reason is the human text; ReasonData is a JSON document embedded as
	// a string (datapoints, threshold) that is decoded a second time.
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData"`
	Timestamp  string `json:"timestamp"`
}

// AlarmSeverity and AlarmStatus map a CloudWatch alarm state to the
// normalized model. CloudWatch alarms carry no severity, so it is a
// property of the alarm rather than of the state: ALARM and OK are both
// "high" (an OK must not downgrade the OpsItem its ALARM opened), while
// INSUFFICIENT_DATA is "low" and firing — the metric stopped reporting,
// which is worth seeing (an agent or instance may be gone) but not paging
// for. Unknown states are treated like INSUFFICIENT_DATA.
func AlarmSeverity(state string) event.Severity {
	switch state {
	case "ALARM", "OK":
		return event.SeverityHigh
	}
	return event.SeverityLow
}

// AlarmStatus: OK is resolved; ALARM, INSUFFICIENT_DATA and anything else
// are firing.
func AlarmStatus(state string) event.Status {
	if state == "OK" {
		return event.StatusResolved
	}
	return event.StatusFiring
}

// AlarmFingerprint is the dedup key of a CloudWatch alarm. The SNS adapter
// uses it too, so the same alarm delivered through SNS or EventBridge is
// one problem, and its OK resolves what its ALARM opened.
func AlarmFingerprint(alarmARN string) string {
	return event.FingerprintOf("cloudwatch", map[string]string{"alarm_arn": alarmARN})
}

// AlarmARN builds an alarm's ARN from its parts when the payload lacks it.
func AlarmARN(region, account, name string) string {
	return "arn:" + partitionOf(region) + ":cloudwatch:" + region + ":" + account + ":alarm:" + name
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func parseAlarm(env *envelope) (event.Event, error) {
	var d alarmDetail
	if err := decodeAt(env.Detail, &d, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if d.AlarmName == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.alarmName"))
	}
	if d.State.Value == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.state.value"))
	}

	ev := env.base("cloudwatch", event.KindAlert)
	ev.Title = d.AlarmName
	ev.Severity = AlarmSeverity(d.State.Value)
	ev.Status = AlarmStatus(d.State.Value)
	ev.OccurredAt = payloadTime(env.time, d.State.Timestamp)
	ev.Description = firstNonEmpty(d.Configuration.Description, d.State.Reason)

	alarmARN := ""
	for _, r := range env.Resources {
		if a, ok := parseARN(r); ok && a.Service == "cloudwatch" && strings.HasPrefix(a.Resource, "alarm:") {
			alarmARN = r
			break
		}
	}
	if alarmARN == "" {
		alarmARN = AlarmARN(env.Region, env.Account, d.AlarmName)
	}
	ev.Fingerprint = AlarmFingerprint(alarmARN)

	setLabel(ev.Labels, "alarm_name", d.AlarmName)
	setLabel(ev.Labels, "alarm_arn", alarmARN)
	setLabel(ev.Labels, "state", d.State.Value)
	setLabel(ev.Labels, "previous_state", d.PreviousState.Value)
	if d.Configuration.AlarmRule != "" {
		ev.Labels["alarm_type"] = "composite"
	}
	for _, m := range d.Configuration.Metrics {
		metric := m.MetricStat.Metric
		if _, ok := ev.Labels["metric_name"]; !ok {
			setLabel(ev.Labels, "metric_name", metric.Name)
			setLabel(ev.Labels, "namespace", metric.Namespace)
		}
		for _, name := range sortedKeys(metric.Dimensions) {
			value := metric.Dimensions[name]
			if _, ok := ev.Labels["dimension."+name]; !ok {
				setLabel(ev.Labels, "dimension."+name, value)
			}
			if ref, ok := DimensionResource(name, value); ok {
				ref.Region, ref.Account = env.Region, env.Account
				ev.Resources = addResource(ev.Resources, ref)
			}
		}
	}
	if len(ev.Resources) == 0 {
		ev.Resources = accountRef(env.Account, env.Region)
	}

	ev.Annotations = map[string]string{}
	setLabel(ev.Annotations, "reason", d.State.Reason)
	setLabel(ev.Annotations, "reason_data", compactJSON(d.State.ReasonData))
	setLabel(ev.Annotations, "alarm_rule", d.Configuration.AlarmRule)
	if len(ev.Annotations) == 0 {
		ev.Annotations = nil
	}
	return ev, nil
}

// compactJSON returns the embedded JSON document s compacted, or "" when s
// is not JSON (the raw payload still has it).
func compactJSON(s string) string {
	if s == "" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) != nil {
		return ""
	}
	return buf.String()
}
