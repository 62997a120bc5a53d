package rule

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Why a rule escalates an OpsItem.
const (
	// EscalateIneffective: the rule's run did every step but its verify
	// found the problem not fixed.
	EscalateIneffective = "ineffective"
	// EscalateBlocked: the OpsItem fired again while the rule was kept
	// from acting (its cool-down after an earlier run, or its breaker):
	// the earlier fix did not last and nothing runs now.
	EscalateBlocked = "blocked"
)

// NeedsHumanKey is the OpsItem operational data key an escalation sets:
// {"reason", "rule", "why", "at", "execution"}. The UI and API show it;
// a person handling the OpsItem clears nothing — it records history.
const NeedsHumanKey = "needs_human"

// DefaultEscalateSeverity is what an escalated OpsItem is raised to.
const DefaultEscalateSeverity = "critical"

// escalate raises OpsItem oid because rule r's automation was not enough
// (reason EscalateIneffective or EscalateBlocked; why says what happened):
// its severity goes up to the rule's escalate.severity (default critical,
// never down), its operational data gets needs_human, its timeline says
// so, and the rule's channel (escalate.channel, else then.notify.channel)
// is notified through Engine.Notify. An OpsItem escalated already for the
// same reason since it last (re)opened is not escalated again.
func (en *Engine) escalate(ctx context.Context, tx store.Tx, tenant string, r *Rule, oid, reason, why, execID string) error {
	if oid == "" {
		return nil
	}
	o, err := tx.GetOpsItem(ctx, tenant, oid)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if opsitem.IsClosed(o.Status) {
		return nil
	}
	at := en.now()
	data := map[string]any{}
	if len(o.OperationalData) > 0 {
		if err := json.Unmarshal(o.OperationalData, &data); err != nil {
			return fmt.Errorf("OpsItem %s: operational data: %w", oid, err)
		}
	}
	if prev, ok := data[NeedsHumanKey].(map[string]any); ok && prev["reason"] == reason && prev["rule"] == r.Name {
		if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(prev["at"])); err == nil && !t.Before(o.LastEventAt) && reason == EscalateBlocked {
			return nil // already escalated for this occurrence
		}
	}
	nh := map[string]any{"reason": reason, "rule": r.Name, "why": why, "at": at.Format(time.RFC3339Nano)}
	if execID != "" {
		nh["execution"] = execID
	}
	data[NeedsHumanKey] = nh
	if o.OperationalData, err = json.Marshal(data); err != nil {
		return err
	}
	sev := r.Escalate.Severity
	if sev == "" {
		sev = DefaultEscalateSeverity
	}
	raised := ""
	if sev != "none" && moreUrgent(sev, o.Severity) {
		raised = fmt.Sprintf("; severity %s → %s", o.Severity, sev)
		o.Severity = sev
	}
	o.UpdatedAt = later(o.UpdatedAt, at)
	if err := tx.UpdateOpsItem(ctx, o); err != nil {
		return err
	}
	msg := fmt.Sprintf("needs a person: rule %s's automation was %s: %s%s", r.Name, reason, why, raised)
	if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: tenant, OpsItemID: oid, At: at,
		Kind: "escalated", Message: msg, Actor: actor(r)}); err != nil {
		return err
	}
	channel := r.Escalate.Channel
	if channel == "" && r.Notify != nil {
		channel = r.Notify.Channel
	}
	detail := map[string]any{"reason": reason, "severity": o.Severity, "execution": execID}
	if channel != "" {
		detail["channel"] = channel
	}
	if _, err := audit.Append(ctx, tx, tenant, at, audit.Entry{Actor: actor(r), Action: "rule.escalated",
		Target: "opsitem/" + oid, Result: reason + ": " + clipReason(why), Detail: detail}); err != nil {
		return err
	}
	if channel == "" || en.Notify == nil {
		return nil
	}
	return en.Notify(ctx, tx, tenant, r.Name, Notification{Channel: channel, OpsItemID: oid,
		Message: fmt.Sprintf("%s needs a person: %s was %s (%s)", o.Title, r.Runbook, reason, clipReason(why))})
}

// moreUrgent reports whether severity a is more urgent than b.
func moreUrgent(a, b string) bool {
	ia, ib := slices.Index(opsitem.Severities, a), slices.Index(opsitem.Severities, b)
	return ia >= 0 && (ib < 0 || ia < ib)
}

func clipReason(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
