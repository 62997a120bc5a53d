package eventbridge

import (
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// EC2State maps an EC2 instance state to status and severity. The event's
// fingerprint is the instance, so a stop fires and the next start resolves
// it: stopping, stopped, shutting-down and terminated fire; pending and
// running resolve. Stopped and terminated are low (an instance is down,
// possibly by design — schedules stop dev machines every night); every
// other state is info. Rules raise it for instances that must stay up.
func EC2State(state string) (event.Status, event.Severity) {
	switch state {
	case "stopped", "terminated":
		return event.StatusFiring, event.SeverityLow
	case "stopping", "shutting-down":
		return event.StatusFiring, event.SeverityInfo
	case "pending", "running":
		return event.StatusResolved, event.SeverityInfo
	}
	return event.StatusFiring, event.SeverityInfo
}

func parseEC2(env *envelope) (event.Event, error) {
	var d struct {
		InstanceID string `json:"instance-id"`
		State      string `json:"state"`
	}
	if err := decodeAt(env.Detail, &d, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if d.InstanceID == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.instance-id"))
	}
	ev := env.base("ec2", event.KindChange)
	ev.Status, ev.Severity = EC2State(d.State)
	ev.Fingerprint = event.FingerprintOf("ec2", map[string]string{"instance_id": d.InstanceID})
	ev.Title = "EC2 instance " + d.InstanceID + " is " + firstNonEmpty(d.State, "in an unknown state")
	ev.Resources = []event.ResourceRef{{Type: typeEC2Instance, ID: d.InstanceID, Region: env.Region, Account: env.Account}}
	setLabel(ev.Labels, "instance_id", d.InstanceID)
	setLabel(ev.Labels, "state", d.State)
	return ev, nil
}
