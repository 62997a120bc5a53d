package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// joinGroup finds the open group an event joins: its own, else the first
// open one of its links (an application it depends on, or that depends on
// it). why says what the event shares with the group.
func (en *Engine) joinGroup(ctx context.Context, tx store.Tx, tenant string, g Group, t time.Time) (store.OpsItem, string, bool, error) {
	o, ok, err := en.openGroup(ctx, tx, tenant, g, t)
	if err != nil || ok {
		return o, g.Why, ok, err
	}
	for _, l := range g.Links {
		lg := g
		lg.Key = l.Key
		if o, ok, err := en.openGroup(ctx, tx, tenant, lg, t); err != nil || ok {
			return o, l.Why, ok, err
		}
	}
	return o, "", false, nil
}

// joinReason is the record of a join: what the event shares with the
// group, and how long after the group's first event it came.
func joinReason(why, rule string, o store.OpsItem, t time.Time) string {
	if why == "" {
		why = "same group"
	}
	return fmt.Sprintf("%s, %s after %s (rule %s)", why, t.Sub(o.FirstEventAt).Round(time.Second), o.Title, rule)
}

// RootCause is an OpsItem's probable root cause, kept in its operational
// data under "root_cause": the firing member with the highest rank (the
// most upstream in the application dependency graph), then the most
// severe, then the earliest.
type RootCause struct {
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	Rank        int       `json:"rank"`
	At          time.Time `json:"at"`
}

// RootCauseOf reads an OpsItem's root cause from its operational data.
func RootCauseOf(o store.OpsItem) (RootCause, bool) {
	var d struct {
		RootCause *RootCause `json:"root_cause"`
	}
	if len(o.OperationalData) == 0 || json.Unmarshal(o.OperationalData, &d) != nil || d.RootCause == nil {
		return RootCause{}, false
	}
	return *d.RootCause, true
}

// considerRootCause makes e, placed in group g, o's root cause when it
// ranks above the current one. Only firing events are candidates. When
// the new root cause is further upstream, the group takes its key and its
// title: every
// application linked to the root cause finds the OpsItem through its
// links, so dependants that fired before their dependency, and their
// siblings that fire after, end up together.
func considerRootCause(o *store.OpsItem, e *event.Event, g Group, t time.Time) {
	if e.Status != event.StatusFiring {
		return
	}
	considerImpact(o, g.Impact)
	rank := g.Rank
	cur, ok := RootCauseOf(*o)
	if ok && rank > cur.Rank && g.Rule == o.Rule {
		o.GroupKey = g.Key
		if g.Title != "" {
			o.Title = g.Title // titled by its probable root cause
		}
	}
	if ok && (cur.Fingerprint == e.Fingerprint || rank < cur.Rank ||
		(rank == cur.Rank && e.Severity.Rank() <= event.Severity(cur.Severity).Rank())) {
		return
	}
	title := e.Title
	if in := e.Labels["instance"]; in != "" {
		title += " on " + in
	} else if len(e.Resources) > 0 {
		title += " on " + e.Resources[0].ID
	}
	d := map[string]any{}
	if len(o.OperationalData) > 0 {
		_ = json.Unmarshal(o.OperationalData, &d) // not an object: start over
	}
	d["root_cause"] = RootCause{Fingerprint: e.Fingerprint, Title: title, Severity: string(e.Severity), Rank: rank, At: t}
	b, err := json.Marshal(d)
	if err == nil {
		o.OperationalData = b
	}
}

// ImpactOf reads an OpsItem's impact from its operational data ("impact"):
// the most urgent impact of its firing members' applications.
func ImpactOf(o store.OpsItem) (application.Impact, bool) {
	var d struct {
		Impact *application.Impact `json:"impact"`
	}
	if len(o.OperationalData) == 0 || json.Unmarshal(o.OperationalData, &d) != nil || d.Impact == nil {
		return application.Impact{}, false
	}
	return *d.Impact, true
}

// considerImpact keeps im as o's impact when it is more urgent than the
// current one (then has more dependants).
func considerImpact(o *store.OpsItem, im *application.Impact) {
	if im == nil {
		return
	}
	if cur, ok := ImpactOf(*o); ok {
		a, b := application.PriorityRank(im.Priority), application.PriorityRank(cur.Priority)
		if a < b || a == b && im.Dependants <= cur.Dependants {
			return
		}
	}
	d := map[string]any{}
	if len(o.OperationalData) > 0 {
		_ = json.Unmarshal(o.OperationalData, &d) // not an object: start over
	}
	d["impact"] = im
	if b, err := json.Marshal(d); err == nil {
		o.OperationalData = b
	}
}
