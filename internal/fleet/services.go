package fleet

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// RequiredServicesTag names the systemd services that must be running on
// an agent's host, separated by spaces or semicolons ("nginx
// postgresql.service"): set it on the enrollment token (or the agent's
// --tags). A unit without a suffix gets ".service".
const RequiredServicesTag = "required-services"

// ServiceStoppedFingerprint is the fingerprint of the "service stopped"
// event of unit on agent.
func ServiceStoppedFingerprint(agentID, unit string) string {
	return event.ServiceStoppedPrefix + agentID + ":" + unit
}

// RequiredServices parses the agent's required-services tag; without one
// the server's default list applies (an empty tag requires nothing).
func RequiredServices(tags map[string]string, defaults ...string) []string {
	list, tagged := tags[RequiredServicesTag]
	if !tagged {
		list = strings.Join(defaults, " ")
	}
	var out []string
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ' ' || r == ';' || r == '|' || r == ',' }) {
		if !strings.Contains(f, ".") {
			f += ".service"
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// unitState is one unit of the inventory's services section.
type unitState struct {
	Load   string `json:"load"`
	Active string `json:"active"`
	Sub    string `json:"sub"`
}

// unitStates reads the services section; ok is false without one (no
// systemd, or not reported yet).
func unitStates(cfg map[string]json.RawMessage) (map[string]unitState, bool) {
	raw, ok := cfg["services"]
	if !ok {
		return nil, false
	}
	var sec struct {
		Units map[string]unitState `json:"units"`
	}
	if json.Unmarshal(raw, &sec) != nil {
		return nil, false
	}
	return sec.Units, true
}

// serviceEvents compares the required services' states in the previous and
// next inventory: a stopped one fires (on every report that carries the
// services, so a lost submission is repeated; the pipeline deduplicates),
// one that runs again resolves.
func serviceEvents(a store.Agent, defaults []string, prev, next map[string]json.RawMessage, at time.Time) []event.Event {
	required := RequiredServices(a.Tags, defaults...)
	if len(required) == 0 {
		return nil
	}
	now, ok := unitStates(next)
	if !ok {
		return nil
	}
	before, hadBefore := unitStates(prev)
	var evs []event.Event
	for _, unit := range required {
		st, present := now[unit]
		down := !present || st.Active != "active"
		wasDown := hadBefore && (before[unit].Active != "active")
		switch {
		case down:
			evs = append(evs, serviceEvent(a, unit, st, present, event.StatusFiring, at))
		case wasDown:
			evs = append(evs, serviceEvent(a, unit, st, present, event.StatusResolved, at))
		}
	}
	return evs
}

func serviceEvent(a store.Agent, unit string, st unitState, present bool, status event.Status, at time.Time) event.Event {
	desc := fmt.Sprintf("Required service %s on %s is %s/%s (agent %s).", unit, a.Hostname, st.Active, st.Sub, a.ID)
	if !present {
		desc = fmt.Sprintf("Required service %s is not known to systemd on %s (agent %s).", unit, a.Hostname, a.ID)
	}
	if status == event.StatusResolved {
		desc = fmt.Sprintf("Required service %s on %s is running again.", unit, a.Hostname)
	}
	return event.Event{
		Source: EventSource, Kind: event.KindHealth, Severity: event.SeverityHigh, Status: status,
		Title: "Required service stopped: " + unit + " on " + a.Hostname, Description: desc,
		Resources: []event.ResourceRef{{Type: ResourceTypeHost, ID: a.Hostname}},
		Labels: map[string]string{"alertname": "RequiredServiceStopped", "agent": a.ID, "hostname": a.Hostname, "unit": unit,
			"active": st.Active, "sub": st.Sub, "resource_id": a.ResourceID},
		OccurredAt:  at,
		Fingerprint: ServiceStoppedFingerprint(a.ID, unit),
	}
}
