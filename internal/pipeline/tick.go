package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Tick applies the passage of time up to now: alerts whose hold ended while
// still firing open (or join) their OpsItem, and flapping alerts that have
// been stable for their flap window settle (resolving their OpsItem if they
// ended resolved). The live server ticks every second; replay ticks in event
// time.
func (en *Engine) Tick(ctx context.Context, tx store.Tx, now time.Time) (map[string]Counts, error) {
	counts := map[string]Counts{}
	held, err := tx.DueHeldAlerts(ctx, now, 1000)
	if err != nil {
		return counts, err
	}
	for _, a := range held {
		c := counts[a.TenantID]
		if err := en.releaseHold(ctx, tx, a, now, &c); err != nil {
			return counts, err
		}
		counts[a.TenantID] = c
	}
	for _, c := range counts {
		en.Metrics.count(c)
	}
	flapping, err := tx.FlappingAlerts(ctx, 1000)
	if err != nil {
		return counts, err
	}
	for _, a := range flapping {
		p, _ := en.Correlator.Params(a.TenantID, a.Rule)
		if now.Sub(a.LastChange) < p.FlapWindow {
			continue
		}
		a.Flapping, a.Changes = false, nil
		if a.OpsItemID != "" && a.Status == string(event.StatusResolved) {
			o, err := tx.GetOpsItem(ctx, a.TenantID, a.OpsItemID)
			if err != nil {
				return counts, err
			}
			o.Flapping = false
			if err := en.maybeResolve(ctx, tx, &o, a.LastChange.Add(p.FlapWindow), "stable again after flapping; all member alerts resolved"); err != nil {
				return counts, err
			}
			if !opsitem.IsClosed(o.Status) {
				if err := tx.UpdateOpsItem(ctx, o); err != nil {
					return counts, err
				}
			}
		}
		if err := tx.PutAlert(ctx, a); err != nil {
			return counts, err
		}
	}
	return counts, nil
}

// releaseHold opens the OpsItem of an alert whose hold ended while firing.
// now is when that happens (Tick's clock, or the receipt of the event that
// found the hold over): the OpsItem's created_at, while its first event
// keeps the time the hold ended (first_event_at).
func (en *Engine) releaseHold(ctx context.Context, tx store.Tx, a store.Alert, now time.Time, c *Counts) error {
	t := a.HeldUntil
	a.HeldUntil = time.Time{}
	if a.Status != string(event.StatusFiring) {
		return tx.PutAlert(ctx, a)
	}
	e := event.Event{Source: a.Source, Title: a.Title, Severity: event.Severity(a.Severity), Status: event.StatusFiring,
		Labels: a.Labels, Fingerprint: a.Fingerprint, OccurredAt: t, ReceivedAt: now, Kind: event.KindAlert}
	if !a.LastChange.IsZero() && a.LastChange.Before(t) {
		e.OccurredAt = a.LastChange // the held alert's own time: first_event_at
	}
	if err := heldResources(ctx, tx, a, &e); err != nil {
		return err
	}
	g, err := en.Correlator.Correlate(a.TenantID, &e)
	if err != nil {
		return err
	}
	if p, ok := en.Correlator.Params(a.TenantID, a.Rule); ok && a.Rule != "" {
		// The group was decided when the alert arrived, from the whole
		// event; keep it (the stored state lacks resources and annotations).
		g.Rule, g.Key, g.Params = a.Rule, a.GroupKey, p
	}
	o, why, ok, err := en.joinGroup(ctx, tx, a.TenantID, g, t)
	if err != nil {
		return err
	}
	decision, reason := DecisionAttached, ""
	if ok {
		reason = "still firing after its hold; " + joinReason(why, g.Rule, o, t)
		considerRootCause(&o, &e, g, t)
		err = en.attach(ctx, tx, &o, &e, t, &a, true)
	} else {
		o, err = en.open(ctx, tx, a.TenantID, &e, t, g, &a)
		decision, reason = DecisionOpened, fmt.Sprintf("still firing after its hold (rule %s)", g.Rule)
		c.Opened++
	}
	if err != nil {
		return err
	}
	if err := en.automate(ctx, tx, a.TenantID, &e, &o, decision); err != nil {
		return err
	}
	if err := tx.PutAlert(ctx, a); err != nil {
		return err
	}
	out := Outcome{Fingerprint: a.Fingerprint, Decision: decision, Reason: reason, OpsItemID: a.OpsItemID}
	return en.storeEvent(ctx, tx, a.TenantID, &e, &out)
}

// heldResources gives e the resources of the held event it stands for,
// from its stored copy (alert state keeps labels only): the OpsItem lists
// the hosts, and runbooks that target them find them.
func heldResources(ctx context.Context, tx store.Tx, a store.Alert, e *event.Event) error {
	evs, _, err := tx.ListEvents(ctx, a.TenantID, store.EventFilter{Fingerprint: a.Fingerprint, Decision: DecisionHeld}, store.Page{Limit: 1})
	if err != nil || len(evs) == 0 || len(evs[0].Resources) == 0 {
		return err
	}
	return json.Unmarshal(evs[0].Resources, &e.Resources)
}
