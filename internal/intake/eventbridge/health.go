package eventbridge

import (
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// healthDetail is the detail of an "AWS Health Event". Its times are
// RFC 1123 strings ("Tue, 24 Mar 2026 09:00:00 GMT").
type healthDetail struct {
	EventARN          string `json:"eventArn"`
	Service           string `json:"service"`
	EventTypeCode     string `json:"eventTypeCode"`
	EventTypeCategory string `json:"eventTypeCategory"`
	EventScopeCode    string `json:"eventScopeCode"`
	StatusCode        string `json:"statusCode"`
	EventRegion       string `json:"eventRegion"`
	StartTime         string `json:"startTime"`
	EndTime           string `json:"endTime"`
	LastUpdatedTime   string `json:"lastUpdatedTime"`
	AffectedAccount   string `json:"affectedAccount"`
	EventDescription  []struct {
		Language          string `json:"language"`
		LatestDescription string `json:"latestDescription"`
	} `json:"eventDescription"`
	AffectedEntities []struct {
		EntityValue string `json:"entityValue"`
		Status      string `json:"status"`
	} `json:"affectedEntities"`
}

// HealthSeverity maps an AWS Health event type category: an "issue" (a
// service problem happening now) is high, "investigation" and
// "scheduledChange" (planned work such as instance retirement that needs
// action before a date) are medium, and "accountNotification" is info.
// Unknown categories are low.
func HealthSeverity(category string) event.Severity {
	switch category {
	case "issue":
		return event.SeverityHigh
	case "investigation", "scheduledChange":
		return event.SeverityMedium
	case "accountNotification":
		return event.SeverityInfo
	}
	return event.SeverityLow
}

func parseHealth(env *envelope) (event.Event, error) {
	var d healthDetail
	if err := decodeAt(env.Detail, &d, env.at("detail")); err != nil {
		return event.Event{}, err
	}
	if d.EventARN == "" {
		return event.Event{}, intake.Badf("%s is required", env.at("detail.eventArn"))
	}
	account := firstNonEmpty(d.AffectedAccount, env.Account)
	region := firstNonEmpty(d.EventRegion, env.Region)

	ev := env.base("health", event.KindHealth)
	// One Health event covers many accounts for an organization view;
	// each account's copy is its own problem.
	ev.Fingerprint = event.FingerprintOf("health", map[string]string{"event_arn": d.EventARN, "account": account})
	ev.Title = firstNonEmpty(strings.TrimSpace(d.Service+" "+d.EventTypeCode), d.EventARN)
	ev.Severity = HealthSeverity(d.EventTypeCategory)
	ev.OccurredAt = payloadTime(env.time, d.LastUpdatedTime, d.StartTime)
	if strings.EqualFold(d.StatusCode, "closed") {
		ev.Status = event.StatusResolved
		ev.EndsAt = payloadTime(ev.OccurredAt, d.EndTime)
	}
	for _, desc := range d.EventDescription {
		if ev.Description == "" || desc.Language == "en_US" {
			ev.Description = desc.LatestDescription
		}
	}

	for _, e := range d.AffectedEntities {
		ref, ok := resourceFromARN(e.EntityValue)
		if !ok {
			continue
		}
		ref.Region = firstNonEmpty(ref.Region, region)
		ref.Account = firstNonEmpty(ref.Account, account)
		ev.Resources = addResource(ev.Resources, ref)
	}
	if len(ev.Resources) == 0 {
		ev.Resources = accountRef(account, region)
	}

	l := ev.Labels
	setLabel(l, "account", account)
	setLabel(l, "region", region)
	setLabel(l, "service", d.Service)
	setLabel(l, "event_type_code", d.EventTypeCode)
	setLabel(l, "event_type_category", d.EventTypeCategory)
	setLabel(l, "event_scope", d.EventScopeCode)
	setLabel(l, "status_code", d.StatusCode)
	setLabel(l, "event_arn", d.EventARN)
	// The window of a scheduled change is what runbooks act on.
	if t := payloadTime(time.Time{}, d.StartTime); !t.IsZero() {
		l["start_time"] = t.Format(timeLabel)
	}
	if t := payloadTime(time.Time{}, d.EndTime); !t.IsZero() {
		l["end_time"] = t.Format(timeLabel)
	}
	return ev, nil
}
