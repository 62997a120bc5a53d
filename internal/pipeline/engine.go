// Package pipeline turns normalized events into OpsItems: deduplication by
// fingerprint, deflection (silences, maintenance windows, inhibition,
// flapping, transient auto-pause) and correlation into groups, with every
// decision recorded on the stored event so "why was this suppressed?" always
// has an answer.
//
// The Engine is deterministic and driven by event time: it reads and writes
// only through the store transaction it is given and takes "now" from the
// events (and from Tick), so the live server and `flywheel replay` run the
// same code. Intake (committer.go) makes deliveries durable first; the
// Processor (processor.go) feeds committed batches through the Engine.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/dedup"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Decisions recorded on stored events.
const (
	DecisionOpened       = "opened"
	DecisionAttached     = "attached"
	DecisionUpdated      = "updated"
	DecisionResolved     = "resolved"
	DecisionHeld         = "held"
	DecisionTransient    = "transient"
	DecisionSuppressed   = "suppressed"
	DecisionFlapping     = "flapping"
	DecisionDeduplicated = "deduplicated"
	DecisionStale        = "stale"
	DecisionReopened     = "reopened"
)

// Group is how correlation placed an event.
type Group struct {
	Rule     string
	Key      string
	Title    string
	Category string
	Params
	// Why says what an event shares with the group, for the join's record.
	Why string
	// Links are other groups of the rule the event joins when its own is
	// not open (applications linked by a dependency), in order.
	Links []Link
	// Rank is how far upstream the event is; the member with the highest
	// rank, then severity, then the earliest, is the probable root cause.
	Rank int
	// Impact is the event's application's impact (nil without one); an
	// OpsItem keeps its members' most urgent (see ImpactOf).
	Impact *application.Impact
}

// Link is another group an event may join, and why.
type Link struct {
	Key string
	Why string
}

// Params are a correlation rule's timing and resolution settings.
type Params struct {
	// Window: an event joins an open group whose last event is this recent.
	Window time.Duration
	// MaxSpan: a group never spans longer than this from its first event.
	MaxSpan time.Duration
	// Hold: a new group waits this long before opening (transient auto-pause).
	Hold time.Duration
	// Resolve: "all", "any" or "manual".
	Resolve string
	// FlapChanges state changes within FlapWindow mark an alert flapping.
	FlapChanges int
	FlapWindow  time.Duration
}

// Correlator assigns events to correlation groups.
type Correlator interface {
	Correlate(tenant string, e *event.Event) (Group, error)
	// Params returns the settings of tenant's rule by name (for Tick).
	Params(tenant, rule string) (Params, bool)
}

// Deflector decides whether a firing event is deflected by a silence or a
// maintenance window. Class is "silence" or "maintenance"; Reason names the
// silence or window.
type Deflector interface {
	Deflect(ctx context.Context, r store.Reader, tenant string, e *event.Event, at time.Time) (class, reason string, err error)
}

// Inhibitor computes inhibition keys (see internal/inhibit).
type Inhibitor interface {
	// SourceKeys are the keys a firing alert asserts.
	SourceKeys(tenant string, e *event.Event) []string
	// TargetKeys are the keys whose presence inhibits the alert.
	TargetKeys(tenant string, e *event.Event) []string
}

// Automation acts on OpsItems as events reach them — the automation rules
// (internal/rule, wired by internal/app). It runs inside the processing
// transaction and writes only through tx, so "OpsItem opened" and "runbook
// queued" commit together or not at all.
type Automation interface {
	// Wants reports whether OnEvent could act on e (a cheap check, no
	// I/O); false skips it.
	Wants(tenant string, e *event.Event) bool
	// OnEvent is called after a firing event opened, joined, updated or
	// reopened o (decision: DecisionOpened, DecisionAttached,
	// DecisionUpdated, DecisionReopened, or DecisionFlapping for an update
	// while flapping), and when Tick releases a held alert into o. It may
	// change o (and store it). With no rule matching it must cost next to
	// nothing: it runs for every such event.
	OnEvent(ctx context.Context, tx store.Tx, tenant string, e *event.Event, o *store.OpsItem, decision string) error
	// ResolvedBy says who resolved o when the pipeline resolves it (its
	// alerts cleared): "automation:…" when an automation fixed it, or ""
	// for the pipeline itself ("system:pipeline").
	// o is passed by value: the pipeline's own stays off the heap.
	ResolvedBy(ctx context.Context, tx store.Tx, o store.OpsItem) (string, error)
}

// Engine runs the pipeline's decisions.
type Engine struct {
	Correlator Correlator
	Deflector  Deflector    // nil: no silences or windows
	Inhibitor  Inhibitor    // nil: no inhibition
	Dedup      *dedup.Rules // nil: adapters\' fingerprints as they are
	Metrics    *Metrics     // nil: no metrics
	Automation Automation   // nil: no automation rules
	// StoreRaw keeps raw payloads on stored events.
	StoreRaw bool
}

// Outcome is what happened to one event.
type Outcome struct {
	Fingerprint string
	Decision    string
	Reason      string
	OpsItemID   string
}

// Counts accumulates noise figures for a batch.
type Counts struct {
	Received, Deduplicated, Opened int64
	Suppressed                     map[string]int64
}

func (c *Counts) suppress(class string) {
	if c.Suppressed == nil {
		c.Suppressed = map[string]int64{}
	}
	c.Suppressed[class]++
}

// Process runs events (all of one tenant) through the pipeline inside tx.
func (en *Engine) Process(ctx context.Context, tx store.Tx, tenant string, evs []event.Event) ([]Outcome, Counts, error) {
	dd := en.Dedup.ForTenant(tenant)
	for i := range evs {
		dd.Apply(&evs[i])
	}
	return en.processDeduped(ctx, tx, tenant, evs)
}

// processDeduped is Process for events the dedup rules were applied to.
func (en *Engine) processDeduped(ctx context.Context, tx store.Tx, tenant string, evs []event.Event) ([]Outcome, Counts, error) {
	var c Counts
	out := make([]Outcome, 0, len(evs))
	for i := range evs {
		o, err := en.one(ctx, tx, tenant, &evs[i], &c)
		if err != nil {
			return out, c, fmt.Errorf("event %s (%s): %w", evs[i].Fingerprint, evs[i].Title, err)
		}
		out = append(out, o)
	}
	en.Metrics.count(c)
	return out, c, nil
}

// eventTime is when the event's state took effect.
func eventTime(e *event.Event) time.Time {
	if e.Status == event.StatusResolved && !e.EndsAt.IsZero() {
		return e.EndsAt
	}
	if !e.OccurredAt.IsZero() {
		return e.OccurredAt
	}
	return e.ReceivedAt
}

func (en *Engine) one(ctx context.Context, tx store.Tx, tenant string, e *event.Event, c *Counts) (Outcome, error) {
	if event.IsOwn(e.Source) {
		// Flywheel's own events are processed like any other but are not
		// the noise it receives: counting them would credit Flywheel
		// with reducing noise it made.
		c = &Counts{}
	}
	c.Received++
	t := eventTime(e).UTC()
	out := Outcome{Fingerprint: e.Fingerprint}
	a, err := tx.GetAlert(ctx, tenant, e.Fingerprint)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return out, err
	}
	if !found {
		a = store.Alert{TenantID: tenant, Fingerprint: e.Fingerprint, FirstSeen: t}
	}
	if found && !a.HeldUntil.IsZero() && !t.Before(a.HeldUntil) && a.Status == string(event.StatusFiring) {
		// The hold ran out before this event (Tick has not caught up):
		// open first, as Tick would have, so the outcome does not depend on
		// when Tick runs.
		if err := en.releaseHold(ctx, tx, a, e.ReceivedAt, c); err != nil {
			return out, err
		}
		if a, err = tx.GetAlert(ctx, tenant, e.Fingerprint); err != nil {
			return out, err
		}
	}
	if found && !e.UpdatedAt.IsZero() && e.UpdatedAt.Before(a.SourceUpdatedAt) {
		c.Deduplicated++
		out.Decision, out.Reason, out.OpsItemID = DecisionStale, "an older version of "+e.Fingerprint, a.OpsItemID
		return out, nil
	}
	if !e.UpdatedAt.IsZero() {
		a.SourceUpdatedAt = e.UpdatedAt
	}
	a.Occurrences++
	if t.After(a.LastSeen) {
		a.LastSeen = t
	}
	if found && a.Status == string(e.Status) && a.Severity == string(e.Severity) {
		c.Deduplicated++
		out.Decision, out.OpsItemID = DecisionDeduplicated, a.OpsItemID
		if err := en.bumpMember(ctx, tx, &a, e, t); err != nil {
			return out, err
		}
		return out, tx.PutAlert(ctx, a)
	}

	g, err := en.Correlator.Correlate(tenant, e)
	if err != nil {
		return out, err
	}
	a.Rule, a.GroupKey = g.Rule, g.Key
	a.Source, a.Title, a.Severity, a.Status, a.Labels = e.Source, e.Title, string(e.Severity), string(e.Status), e.Labels
	a.LastChange = t
	a.Changes = append(recent(a.Changes, t, g.FlapWindow), t)
	if g.FlapChanges > 0 && len(a.Changes) > g.FlapChanges {
		a.Flapping = true
	}

	if e.Status == event.StatusFiring {
		err = en.firing(ctx, tx, tenant, e, t, g, &a, c, &out)
	} else {
		err = en.resolved(ctx, tx, tenant, e, t, &a, c, &out)
	}
	if err != nil {
		return out, err
	}
	if err := en.inhibitKeys(ctx, tx, tenant, e, &a); err != nil {
		return out, err
	}
	if err := tx.PutAlert(ctx, a); err != nil {
		return out, err
	}
	return out, en.storeEvent(ctx, tx, tenant, e, &out)
}

func (en *Engine) firing(ctx context.Context, tx store.Tx, tenant string, e *event.Event, t time.Time, g Group, a *store.Alert, c *Counts, out *Outcome) error {
	class, reason, err := en.deflect(ctx, tx, tenant, e, t, a)
	if err != nil {
		return err
	}
	if class != "" {
		a.Suppressed = class + ": " + reason
		a.HeldUntil = time.Time{}
		c.suppress(class)
		out.Decision, out.Reason, out.OpsItemID = DecisionSuppressed, a.Suppressed, a.OpsItemID
		return nil
	}
	a.Suppressed = ""
	if a.OpsItemID != "" {
		o, err := tx.GetOpsItem(ctx, tenant, a.OpsItemID)
		if err != nil {
			return err
		}
		if !opsitem.IsClosed(o.Status) {
			if a.Flapping {
				c.suppress("flapping")
				out.Decision, out.Reason = DecisionFlapping, "fired again while flapping; kept on the open OpsItem"
			} else {
				out.Decision = DecisionUpdated
			}
			out.OpsItemID = o.ID
			if err := en.attach(ctx, tx, &o, e, t, a, false); err != nil {
				return err
			}
			return en.automate(ctx, tx, tenant, e, &o, out.Decision)
		}
		if reopen(o, t, g.FlapWindow) {
			o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = opsitem.StatusOpen, nil, "", t
			if err := en.timeline(ctx, tx, &o, t, "reopened", e.Title+" fired again soon after it resolved"); err != nil {
				return err
			}
			out.Decision, out.Reason, out.OpsItemID = DecisionReopened, "fired again within the flap window", o.ID
			if err := en.attach(ctx, tx, &o, e, t, a, false); err != nil {
				return err
			}
			return en.automate(ctx, tx, tenant, e, &o, out.Decision)
		}
		a.OpsItemID = ""
	}
	if !a.HeldUntil.IsZero() {
		out.Decision, out.Reason = DecisionHeld, "still in its hold until "+a.HeldUntil.Format(time.RFC3339)
		return nil
	}
	if o, why, ok, err := en.joinGroup(ctx, tx, tenant, g, t); err != nil {
		return err
	} else if ok {
		out.Decision, out.Reason, out.OpsItemID = DecisionAttached, joinReason(why, g.Rule, o, t), o.ID
		considerRootCause(&o, e, g, t)
		if err := en.attach(ctx, tx, &o, e, t, a, true); err != nil {
			return err
		}
		return en.automate(ctx, tx, tenant, e, &o, out.Decision)
	}
	if g.Hold > 0 && !a.Flapping {
		a.HeldUntil = t.Add(g.Hold)
		out.Decision, out.Reason = DecisionHeld, fmt.Sprintf("held %s before opening (rule %s)", g.Hold, g.Rule)
		return nil
	}
	o, err := en.open(ctx, tx, tenant, e, t, g, a)
	if err != nil {
		return err
	}
	c.Opened++
	out.Decision, out.Reason, out.OpsItemID = DecisionOpened, "rule "+g.Rule, o.ID
	return en.automate(ctx, tx, tenant, e, &o, out.Decision)
}

// automate hands an event that reached o to the automation rules. It
// works on a copy of o so that o itself never escapes to the heap: events
// no rule wants (most) cost no allocation.
func (en *Engine) automate(ctx context.Context, tx store.Tx, tenant string, e *event.Event, o *store.OpsItem, decision string) error {
	if en.Automation == nil || !en.Automation.Wants(tenant, e) {
		return nil
	}
	c := *o
	err := en.Automation.OnEvent(ctx, tx, tenant, e, &c, decision)
	*o = c
	return err
}

func (en *Engine) resolved(ctx context.Context, tx store.Tx, tenant string, e *event.Event, t time.Time, a *store.Alert, c *Counts, out *Outcome) error {
	switch {
	case !a.HeldUntil.IsZero() && a.OpsItemID == "":
		a.HeldUntil = time.Time{}
		c.suppress("transient")
		out.Decision, out.Reason = DecisionTransient, "resolved within its hold: no OpsItem"
		return nil
	case a.OpsItemID == "":
		out.Decision = DecisionResolved
		if a.Suppressed != "" {
			out.Reason = "was " + a.Suppressed
		}
		a.Suppressed = ""
		return nil
	}
	o, err := tx.GetOpsItem(ctx, tenant, a.OpsItemID)
	if err != nil {
		return err
	}
	out.OpsItemID = o.ID
	if err := en.attach(ctx, tx, &o, e, t, a, false); err != nil {
		return err
	}
	if a.Flapping {
		c.suppress("flapping")
		out.Decision, out.Reason = DecisionFlapping, "resolved while flapping; the OpsItem stays open until the alert is stable"
		return nil
	}
	out.Decision = DecisionResolved
	return en.maybeResolve(ctx, tx, &o, t, "")
}

// deflect checks silences, maintenance windows and inhibition, in that order.
func (en *Engine) deflect(ctx context.Context, tx store.Tx, tenant string, e *event.Event, t time.Time, a *store.Alert) (string, string, error) {
	if en.Deflector != nil {
		class, reason, err := en.Deflector.Deflect(ctx, tx, tenant, e, t)
		if err != nil || class != "" {
			return class, reason, err
		}
	}
	if en.Inhibitor != nil {
		if keys := en.Inhibitor.TargetKeys(tenant, e); len(keys) > 0 {
			fp, err := tx.InhibitingAlert(ctx, tenant, keys, e.Fingerprint)
			if err != nil || fp != "" {
				return "inhibited", "by firing alert " + fp, err
			}
		}
	}
	return "", "", nil
}

func (en *Engine) inhibitKeys(ctx context.Context, tx store.Tx, tenant string, e *event.Event, a *store.Alert) error {
	if en.Inhibitor == nil {
		return nil
	}
	var keys []string
	if e.Status == event.StatusFiring {
		keys = en.Inhibitor.SourceKeys(tenant, e)
	}
	if len(keys) == 0 && e.Status == event.StatusFiring {
		return nil
	}
	return tx.SetInhibitKeys(ctx, tenant, a.Fingerprint, keys)
}

func (en *Engine) openGroup(ctx context.Context, tx store.Tx, tenant string, g Group, t time.Time) (store.OpsItem, bool, error) {
	since := time.Time{}
	if g.Window > 0 {
		since = t.Add(-g.Window)
	}
	o, err := tx.OpenGroup(ctx, tenant, g.Rule, g.Key, since)
	if errors.Is(err, store.ErrNotFound) {
		return o, false, nil
	}
	if err != nil {
		return o, false, err
	}
	if g.MaxSpan > 0 && t.Sub(o.FirstEventAt) > g.MaxSpan {
		return o, false, nil
	}
	return o, true, nil
}

func (en *Engine) open(ctx context.Context, tx store.Tx, tenant string, e *event.Event, t time.Time, g Group, a *store.Alert) (store.OpsItem, error) {
	now := t
	if !e.ReceivedAt.IsZero() && e.ReceivedAt.After(now) {
		now = e.ReceivedAt
	}
	first := t // an alert held before it opened: its own time
	if !e.OccurredAt.IsZero() && e.OccurredAt.Before(t) {
		first = e.OccurredAt
	}
	o := store.OpsItem{
		ID: store.NewID("oi", now), TenantID: tenant, Title: g.Title, Description: e.Description,
		Category: g.Category, Severity: string(e.Severity), Status: opsitem.StatusOpen, Source: e.Source,
		CreatedAt: now, UpdatedAt: now, Rule: g.Rule, GroupKey: g.Key, FirstEventAt: first, LastEventAt: t,
		Resolution: g.Resolve, Flapping: a.Flapping, OperationalData: opsData(e),
	}
	considerRootCause(&o, e, g, t)
	if o.Title == "" {
		o.Title = e.Title
	}
	if o.Category == "" {
		o.Category = "monitoring"
	}
	if err := tx.CreateOpsItem(ctx, o); err != nil {
		return o, err
	}
	// The timeline's "opened" is when the OpsItem was opened, as its
	// created_at; the event's own time is first_event_at.
	if err := en.timeline(ctx, tx, &o, now, "opened", fmt.Sprintf("opened by %s (rule %s)", e.Title, g.Rule)); err != nil {
		return o, err
	}
	if _, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: "system:pipeline", Action: "opsitem.open",
		Target: "opsitem/" + o.ID, Detail: map[string]string{"rule": g.Rule, "fingerprint": e.Fingerprint, "title": o.Title}}); err != nil {
		return o, err
	}
	return o, en.attach(ctx, tx, &o, e, t, a, true)
}

// attach records e as a member event of o and keeps o's derived fields.
func (en *Engine) attach(ctx context.Context, tx store.Tx, o *store.OpsItem, e *event.Event, t time.Time, a *store.Alert, joined bool) error {
	a.OpsItemID = o.ID
	a.HeldUntil = time.Time{}
	m := store.OpsItemMember{TenantID: o.TenantID, OpsItemID: o.ID, Fingerprint: e.Fingerprint, Title: e.Title, Source: e.Source,
		Severity: string(e.Severity), Status: string(e.Status), Occurrences: 1, FirstSeen: t, LastSeen: t}
	if prev, ok, err := en.member(ctx, tx, o, e.Fingerprint); err != nil {
		return err
	} else if ok {
		m.Occurrences, m.FirstSeen = prev.Occurrences+1, prev.FirstSeen
		if prev.LastSeen.After(t) {
			m.LastSeen = prev.LastSeen
		}
	}
	if err := tx.PutOpsItemMember(ctx, m); err != nil {
		return err
	}
	for _, r := range e.Resources {
		if err := tx.AddOpsItemResource(ctx, o.TenantID, o.ID, store.OpsItemResource{Type: r.Type, ID: r.ID}); err != nil {
			return err
		}
	}
	o.Occurrences++
	if t.After(o.LastEventAt) {
		o.LastEventAt = t
	}
	if e.Status == event.StatusFiring && event.Severity(o.Severity).Rank() < e.Severity.Rank() {
		o.Severity = string(e.Severity)
	}
	o.Flapping = o.Flapping || a.Flapping
	if joined && o.Occurrences > 1 {
		if err := en.timeline(ctx, tx, o, t, "event", "joined by "+e.Title+" ("+e.Fingerprint+")"); err != nil {
			return err
		}
	} else if !joined {
		if err := en.timeline(ctx, tx, o, t, "event", fmt.Sprintf("%s is %s", e.Title, e.Status)); err != nil {
			return err
		}
	}
	return tx.UpdateOpsItem(ctx, *o)
}

func (en *Engine) member(ctx context.Context, tx store.Tx, o *store.OpsItem, fp string) (store.OpsItemMember, bool, error) {
	m, err := tx.GetOpsItemMember(ctx, o.TenantID, o.ID, fp)
	if errors.Is(err, store.ErrNotFound) {
		return m, false, nil
	}
	return m, err == nil, err
}

// bumpMember counts a repeat on the alert's OpsItem without a timeline entry
// (one statement per member, which the Processor adds up per transaction).
func (en *Engine) bumpMember(ctx context.Context, tx store.Tx, a *store.Alert, e *event.Event, t time.Time) error {
	if a.OpsItemID == "" {
		return nil
	}
	return tx.CountRepeats(ctx, []store.Repeat{{TenantID: a.TenantID, OpsItemID: a.OpsItemID, Fingerprint: a.Fingerprint, N: 1, LastSeen: t}})
}

// maybeResolve resolves o when its resolution policy is met.
func (en *Engine) maybeResolve(ctx context.Context, tx store.Tx, o *store.OpsItem, t time.Time, why string) error {
	if opsitem.IsClosed(o.Status) || o.Resolution == "manual" {
		return nil
	}
	ms, err := tx.ListOpsItemMembers(ctx, o.TenantID, o.ID)
	if err != nil {
		return err
	}
	firing := slices.ContainsFunc(ms, func(m store.OpsItemMember) bool { return m.Status == string(event.StatusFiring) })
	if o.Resolution != "any" && firing {
		return nil
	}
	if why == "" {
		why = "all member alerts resolved"
		if o.Resolution == "any" {
			why = "a member alert resolved"
		}
	}
	by := ResolvedBySystem
	if en.Automation != nil {
		auto, err := en.Automation.ResolvedBy(ctx, tx, *o)
		if err != nil {
			return err
		}
		if auto != "" {
			by, why = auto, why+"; resolved by automation ("+strings.TrimPrefix(auto, ResolvedByAutomation)+")"
		}
	}
	o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt, o.Flapping = opsitem.StatusResolved, &t, by, t, false
	if err := tx.UpdateOpsItem(ctx, *o); err != nil {
		return err
	}
	if err := en.timeline(ctx, tx, o, t, "resolved", why); err != nil {
		return err
	}
	_, err = audit.Append(ctx, tx, o.TenantID, t, audit.Entry{Actor: "system:pipeline", Action: "opsitem.resolve",
		Target: "opsitem/" + o.ID, Detail: map[string]string{"reason": why, "resolved_by": by}})
	return err
}

// Who resolved an OpsItem the pipeline resolved (store.OpsItem.ResolvedBy):
// the pipeline itself when its alerts cleared, or, when an automation had
// fixed it first, "automation:<what>" (Automation.ResolvedBy). Every
// automated resolution's resolved_by starts with ResolvedByAutomation.
const (
	ResolvedBySystem     = "system:pipeline"
	ResolvedByAutomation = "automation:"
)

func (en *Engine) timeline(ctx context.Context, tx store.Tx, o *store.OpsItem, t time.Time, kind, msg string) error {
	return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", t), TenantID: o.TenantID, OpsItemID: o.ID,
		At: t, Kind: kind, Message: msg, Actor: "system:pipeline"})
}

func (en *Engine) storeEvent(ctx context.Context, tx store.Tx, tenant string, e *event.Event, out *Outcome) error {
	se := store.Event{
		ID: store.NewID("ev", e.ReceivedAt), TenantID: tenant, Source: e.Source, SourceID: e.SourceID, Fingerprint: e.Fingerprint,
		Kind: string(e.Kind), Severity: string(e.Severity), Status: string(e.Status), Title: e.Title, Description: e.Description,
		Labels: e.Labels, OccurredAt: e.OccurredAt, ReceivedAt: e.ReceivedAt, OpsItemID: out.OpsItemID,
		Decision: out.Decision, Reason: out.Reason,
	}
	if len(e.Resources) > 0 {
		se.Resources, _ = json.Marshal(e.Resources)
		se.ResourceKey = e.Resources[0].ID
	}
	if en.StoreRaw {
		se.Raw = e.Raw
	}
	return tx.InsertEvent(ctx, se)
}

// reopen reports whether a firing alert should reopen its resolved OpsItem
// instead of opening a new one: the pipeline resolved it (not a person) and
// only within the flap window, so an alert that bounces is one problem.
func reopen(o store.OpsItem, t time.Time, window time.Duration) bool {
	byPipeline := o.ResolvedBy == ResolvedBySystem || strings.HasPrefix(o.ResolvedBy, ResolvedByAutomation)
	return o.Status == opsitem.StatusResolved && byPipeline && o.ResolvedAt != nil &&
		window > 0 && t.Sub(*o.ResolvedAt) <= window
}

// recent keeps the change times within window before t.
func recent(ts []time.Time, t time.Time, window time.Duration) []time.Time {
	if window <= 0 {
		return nil
	}
	cut := t.Add(-window)
	out := ts[:0]
	for _, x := range ts {
		if x.After(cut) {
			out = append(out, x)
		}
	}
	return out
}

// opsData keeps source facts worth showing on the OpsItem.
func opsData(e *event.Event) json.RawMessage {
	d := map[string]string{}
	for _, k := range []string{"alertmanager_truncated_alerts", "alertmanager_group_key", "generator_url"} {
		if v := e.Labels[k]; v != "" {
			d[k] = v
		}
	}
	if v := e.Annotations["runbook_url"]; v != "" {
		d["runbook_url"] = v
	}
	if len(d) == 0 {
		return nil
	}
	b, _ := json.Marshal(d)
	return b
}
