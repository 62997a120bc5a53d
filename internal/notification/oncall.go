package notification

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The on-call channels: PagerDuty (Events API v2) and Opsgenie (Alert
// API), where an OpsItem a rule paged becomes an incident that is
// acknowledged and resolved as the OpsItem is; and Microsoft Teams, one
// Adaptive Card per notification.
//
// The incident's key there is the OpsItem's (dedupKey): a rule firing
// again for the same OpsItem, or the OpsItem flapping, is the same
// incident. Each page is recorded (store.OnCallPage) with what the
// service was last told; a periodic job on the leader (syncPages) tells
// it what changed since — acknowledged, resolved, or re-opened — however
// the OpsItem changed (a person in the UI, API or CLI, the pipeline
// resolving it, a runbook), and records each outcome on the OpsItem's
// timeline and in the audit log.

// The vendors' addresses, used unless a channel sets url.
const (
	PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"
	OpsgenieURL        = "https://api.opsgenie.com"
	OpsgenieEUURL      = "https://api.eu.opsgenie.com"
)

// What an on-call service is told.
const (
	actTrigger     = "trigger"
	actAcknowledge = "acknowledge"
	actResolve     = "resolve"
)

// onCall reports whether channels of type typ keep incidents in step.
func onCall(typ string) bool { return typ == config.ChannelPagerDuty || typ == config.ChannelOpsgenie }

// sentBy is whether a channel type is sent by this file (not the notify
// action).
func sentBy(typ string) bool { return onCall(typ) || typ == config.ChannelTeams }

// dedupKey is the incident key of an OpsItem on every on-call service:
// at most 255 characters (PagerDuty's limit; Opsgenie's alias takes 512).
func dedupKey(tenant, opsItemID string) string {
	k := "flywheel/" + tenant + "/" + opsItemID
	if len(k) > 255 {
		k = k[:255]
	}
	return k
}

// pageEvent is one thing to tell an on-call service of an OpsItem.
type pageEvent struct {
	action  string
	tenant  string
	item    store.OpsItem // ID always set; the rest when readable
	rule    string
	message string
	at      time.Time
}

// pagerDutySeverity maps an OpsItem's severity onto the Events API's
// four (critical, error, warning, info).
func pagerDutySeverity(s string) string {
	switch s {
	case "critical":
		return "critical"
	case "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "info"
}

// opsgeniePriority maps it onto Opsgenie's P1 (highest) to P5.
func opsgeniePriority(s string) string {
	switch s {
	case "critical":
		return "P1"
	case "high":
		return "P2"
	case "medium":
		return "P3"
	case "low":
		return "P4"
	}
	return "P5"
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// summary is the incident's one line: "[high] Disk almost full on web-03".
func (e pageEvent) summary() string {
	title := e.item.Title
	if title == "" {
		title = "OpsItem " + e.item.ID
	}
	if e.item.Severity == "" {
		return oneLine(title)
	}
	return "[" + e.item.Severity + "] " + oneLine(title)
}

func (e pageEvent) details() map[string]any {
	d := map[string]any{"opsitem": e.item.ID, "tenant": e.tenant}
	for k, v := range map[string]string{"rule": e.rule, "message": e.message, "category": e.item.Category,
		"status": e.item.Status, "source": e.item.Source} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

// pagerDutyEvent is the Events API v2 body for e.
func pagerDutyEvent(routingKey string, e pageEvent) map[string]any {
	body := map[string]any{"routing_key": routingKey, "event_action": e.action, "dedup_key": dedupKey(e.tenant, e.item.ID)}
	if e.action != actTrigger {
		return body
	}
	p := map[string]any{
		"summary":        clip(e.summary(), 1024),
		"source":         "flywheel/" + e.tenant,
		"severity":       pagerDutySeverity(e.item.Severity),
		"timestamp":      e.at.UTC().Format(time.RFC3339),
		"group":          e.tenant,
		"custom_details": e.details(),
	}
	if e.item.Category != "" {
		p["component"] = e.item.Category
	}
	if e.item.Source != "" {
		p["class"] = e.item.Source
	}
	body["payload"] = p
	body["client"] = "Flywheel"
	return body
}

// opsgenieRequest is the Alert API call for e: where and what.
func opsgenieRequest(base *url.URL, e pageEvent) (*url.URL, map[string]any) {
	alias := dedupKey(e.tenant, e.item.ID)
	u := *base
	u.RawQuery = ""
	switch e.action {
	case actTrigger:
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v2/alerts"
		body := map[string]any{
			"message":  clip(e.summary(), 130),
			"alias":    alias,
			"priority": opsgeniePriority(e.item.Severity),
			"source":   "Flywheel",
			"entity":   clip(e.tenant, 512),
			"details":  stringDetails(e.details()),
		}
		if e.message != "" {
			body["description"] = clip(e.message, 15000)
		}
		tags := []string{"flywheel"}
		if e.item.Category != "" {
			tags = append(tags, clip(e.item.Category, 50))
		}
		body["tags"] = tags
		return &u, body
	case actAcknowledge, actResolve:
		verb := "acknowledge"
		if e.action == actResolve {
			verb = "close"
		}
		// The alias is one path segment: escaped ('/' as %2F) in the raw path.
		esc := strings.TrimSuffix(base.EscapedPath(), "/") + "/v2/alerts/" + url.PathEscape(alias) + "/" + verb
		u.Path, _ = url.PathUnescape(esc)
		u.RawPath = esc
		u.RawQuery = "identifierType=alias"
		return &u, map[string]any{"source": "Flywheel", "user": "Flywheel", "note": clip(e.message, 25000)}
	}
	return &u, nil
}

// stringDetails: Opsgenie's details are string to string.
func stringDetails(d map[string]any) map[string]string {
	out := make(map[string]string, len(d))
	for k, v := range d {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// teamsMessage is an incoming webhook's message: one Adaptive Card.
func teamsMessage(e pageEvent) map[string]any {
	facts := []map[string]any{}
	for _, f := range [][2]string{{"Severity", e.item.Severity}, {"Status", e.item.Status}, {"Area", e.item.Category},
		{"Source", e.item.Source}, {"Tenant", e.tenant}, {"OpsItem", e.item.ID}, {"Rule", e.rule}} {
		if f[1] != "" {
			facts = append(facts, map[string]any{"title": f[0], "value": f[1]})
		}
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": e.summary(), "weight": "Bolder", "size": "Medium", "wrap": true},
	}
	if e.message != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": e.message, "wrap": true})
	}
	body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}
}

// sendOnCall tells the channel named name of type pagerduty, opsgenie or
// teams about e.
func (s *Service) sendOnCall(ctx context.Context, name string, ch notify.Channel, e pageEvent) (action.Output, error) {
	ctx, cancel := context.WithTimeout(ctx, s.settings.Timeout)
	defer cancel()
	u, err := url.Parse(ch.URL)
	if err != nil || u.Host == "" {
		return action.Output{}, action.Permanent(fmt.Errorf("notify: %s: the channel's URL is not an http(s) URL", name))
	}
	var (
		out action.Output
		to  = u
		hdr map[string]string
		pay any
	)
	switch ch.Type {
	case config.ChannelPagerDuty:
		pay = pagerDutyEvent(ch.Key, e)
	case config.ChannelOpsgenie:
		to, pay = opsgenieRequest(u, e)
		hdr = map[string]string{"Authorization": "GenieKey " + ch.Key}
	case config.ChannelTeams:
		pay = teamsMessage(e)
	default:
		return out, action.Permanent(fmt.Errorf("notify: %s: type %q is not an on-call channel", name, ch.Type))
	}
	out, err = s.notify.PostJSON(ctx, name, to, hdr, pay)
	if err != nil {
		err = fmt.Errorf("notify: %s: %w", name, err)
	}
	return out, err
}

// SyncArgs is the periodic job that keeps paged incidents in step with
// their OpsItems.
type SyncArgs struct{}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "notification_oncall_sync" }

// InsertOpts: a failed tick is not retried (the next one does its work),
// and there is one at a time in the whole cluster: two at once would tell
// an incident the same thing twice.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// DefaultSyncEvery is how often the leader looks for OpsItems whose
// incidents are out of step.
const DefaultSyncEvery = 5 * time.Second

// registerSync adds the sync tick to q when a channel keeps incidents in
// step.
func (s *Service) registerSync(q *jobs.Queue, every time.Duration) error {
	for _, ch := range s.channels {
		if onCall(ch.Type) {
			return jobs.AddTick(q, every, SyncArgs{}, s.SyncPages)
		}
	}
	return nil
}

// syncBatch bounds one tick's work.
const syncBatch = 100

// SyncPages tells each on-call service what changed of the OpsItems it
// was paged for: acknowledged, resolved, or open again. A refusal (a 4xx
// but 408 and 429) is recorded and not repeated; a network error or a
// 5xx is tried again at the next tick.
func (s *Service) SyncPages(ctx context.Context) error {
	pages, err := s.st.ListOnCallPagesOutOfStep(ctx, syncBatch)
	if err != nil {
		return err
	}
	for _, p := range pages {
		act := map[string]string{store.OnCallTriggered: actTrigger, store.OnCallAcknowledged: actAcknowledge,
			store.OnCallResolved: actResolve}[p.Want]
		if p.State == store.OnCallResolved {
			// Open again (acknowledged or not): a resolved incident is
			// triggered first; the next tick acknowledges it if need be.
			act, p.Want = actTrigger, store.OnCallTriggered
		}
		e := pageEvent{action: act, tenant: p.TenantID, at: s.clock().UTC(),
			item: store.OpsItem{ID: p.OpsItemID, Title: p.Title, Severity: p.Severity, Status: p.Status}}
		ch, ok := s.channels[p.Channel]
		var o outcome
		if !ok {
			o = outcome{typ: p.ChannelType, err: fmt.Errorf("%q is not a notification channel configured on this server (%s)", p.Channel, configured(s.channels))}
		} else {
			if act == actTrigger {
				// Re-opened: the incident's details again.
				if it, err := s.st.GetOpsItem(ctx, p.TenantID, p.OpsItemID); err == nil {
					e.item = it
				}
			}
			o.typ, o.attempts = ch.Type, 1
			o.out, o.err = s.sendOnCall(ctx, p.Channel, ch, e)
			s.metrics.outcomes.WithLabelValues(p.Channel, map[bool]string{true: "delivered", false: "failed"}[o.err == nil]).Inc()
		}
		if o.err != nil && ok && !notify.Permanent(o.err) {
			s.log.WarnContext(ctx, "on-call incident not updated; trying again at the next tick", "tenant", p.TenantID,
				"opsitem", p.OpsItemID, "channel", p.Channel, "action", act, "err", o.err, "reply", notify.Reply(o.err))
			continue
		}
		page := p.OnCallPage
		page.State, page.UpdatedAt = p.Want, s.clock().UTC()
		o.page = &page
		a := Args{ID: store.NewID("ntf", e.at), Tenant: p.TenantID, OpsItemID: p.OpsItemID, Channel: p.Channel, At: e.at}
		s.recordSync(ctx, a, act, o)
	}
	return nil
}

// recordSync records a sync's outcome and the page's new state together.
func (s *Service) recordSync(ctx context.Context, a Args, act string, o outcome) {
	at := s.clock().UTC()
	via := a.Channel + " (" + o.typ + ")"
	msg := map[string]string{actTrigger: "Re-opened the incident in ", actAcknowledge: "Acknowledged the incident in ",
		actResolve: "Resolved the incident in "}[act] + via
	auditAction, result := "notification.synced", "ok"
	if o.err != nil {
		msg = fmt.Sprintf("Could not %s the incident in %s, not retried: %v", act, via, o.err)
		auditAction, result = "notification.sync_failed", "failed: "+o.err.Error()
	}
	detail := map[string]any{"id": a.ID, "channel": a.Channel, "type": o.typ, "action": act, "dedup_key": o.page.DedupKey}
	if v, ok := o.out.Values["status"]; ok {
		detail["status"] = v
	}
	err := s.st.InTx(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if err := tx.PutOnCallPage(ctx, *o.page); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: a.Tenant, OpsItemID: a.OpsItemID,
			At: at, Kind: "notification", Message: msg, Actor: "system:notification"}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, a.Tenant, at, audit.Entry{Actor: "system:notification", Action: auditAction,
			Target: "opsitem/" + a.OpsItemID, Result: result, Detail: detail})
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "on-call sync not recorded; it will be sent again", "tenant", a.Tenant, "opsitem", a.OpsItemID, "channel", a.Channel, "err", err)
	}
}
