package opsitem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A person's handling of an OpsItem: acknowledge, assign, note, change of
// status, resolve. The API, the CLI (through the API) and the web UI all
// apply them here, so each records the same timeline entry, audit record
// and in-hands time.
//
// In-hands time (store.OpsItem.HumanSeconds) starts with the first action
// of a person and runs until the OpsItem resolves or is unassigned; a later
// action starts a new interval. Automated changes never start one.

// Handling kinds.
const (
	Acknowledge = "acknowledge"
	Assign      = "assign"
	Note        = "note"
	SetStatus   = "status"
	Resolve     = "resolve"
	RunRunbook  = "runbook"
)

// Limits on what a person writes.
const (
	MaxNote     = 8 << 10
	MaxAssignee = 200
)

// Action is one handling step by Actor ("token:<id>").
type Action struct {
	Kind  string
	Actor string
	// Assignee for Assign ("" unassigns); Status for SetStatus; Text for
	// Note, and an optional comment for Resolve and Acknowledge; Runbook and
	// Execution for RunRunbook.
	Assignee  string
	Status    string
	Text      string
	Runbook   string
	Execution string
}

// InvalidError is an action that cannot apply; the API answers 400 (or 409
// for a state conflict) with its message.
type InvalidError struct {
	Msg      string
	Conflict bool
	// NotFound: an OpsItem the action names does not exist (404).
	NotFound bool
}

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, a ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, a...)}
}

// Validate checks an action's fields before any store work.
func (a Action) Validate() error {
	switch a.Kind {
	case Acknowledge, Resolve, RunRunbook:
	case Assign:
		if len(a.Assignee) > MaxAssignee {
			return invalid("assignee is longer than %d bytes", MaxAssignee)
		}
		if strings.ContainsFunc(a.Assignee, func(r rune) bool { return r < ' ' || r == 0x7f }) || !utf8.ValidString(a.Assignee) {
			return invalid("assignee holds control characters or invalid UTF-8")
		}
	case Note:
		if strings.TrimSpace(a.Text) == "" {
			return invalid("text is required")
		}
	case SetStatus:
		if err := ValidStatus(a.Status); err != nil {
			return invalid("%v", err)
		}
	default:
		return invalid("unknown action %q", a.Kind)
	}
	if len(a.Text) > MaxNote {
		return invalid("text is longer than %d bytes", MaxNote)
	}
	if !utf8.ValidString(a.Text) {
		return invalid("text is not valid UTF-8")
	}
	return nil
}

// Apply performs a in tx on the tenant's OpsItem id at now: it updates the
// OpsItem, adds a timeline entry and returns the audit entry to append
// (callers append it in the same transaction). store.ErrNotFound when there
// is no such OpsItem.
func Apply(ctx context.Context, tx store.Tx, tenant, id string, a Action, now time.Time) (store.OpsItem, audit.Entry, error) {
	if err := a.Validate(); err != nil {
		return store.OpsItem{}, audit.Entry{}, err
	}
	o, err := tx.GetOpsItem(ctx, tenant, id)
	if err != nil {
		return o, audit.Entry{}, err
	}
	detail := map[string]string{}
	var msg string
	switch a.Kind {
	case Acknowledge:
		if o.AcknowledgedAt != nil {
			return o, audit.Entry{}, &InvalidError{Msg: fmt.Sprintf("opsitem %s was acknowledged by %s", id, o.AcknowledgedBy), Conflict: true}
		}
		o.AcknowledgedAt, o.AcknowledgedBy = &now, a.Actor
		if o.Status == StatusOpen {
			o.Status = StatusInProgress
		}
		msg = "Acknowledged"
	case Assign:
		if a.Assignee == o.Assignee {
			return o, audit.Entry{}, &InvalidError{Msg: fmt.Sprintf("opsitem %s is already assigned to %q", id, a.Assignee), Conflict: true}
		}
		detail["assignee"] = a.Assignee
		o.Assignee = a.Assignee
		if a.Assignee == "" {
			msg = "Unassigned"
		} else {
			msg = "Assigned to " + a.Assignee
		}
	case Note:
		msg = a.Text
	case SetStatus, Resolve:
		status := a.Status
		if a.Kind == Resolve {
			status = StatusResolved
		}
		if status == o.Status {
			return o, audit.Entry{}, &InvalidError{Msg: fmt.Sprintf("opsitem %s is already %s", id, status), Conflict: true}
		}
		detail["status"] = status
		o.Status = status
		if IsClosed(status) {
			o.ResolvedAt, o.ResolvedBy = &now, a.Actor
			msg = "Status " + status
		} else {
			o.ResolvedAt, o.ResolvedBy = nil, ""
			msg = "Reopened as " + status
		}
	case RunRunbook:
		detail["runbook"], detail["execution"] = a.Runbook, a.Execution
	}
	if a.Kind != Note && a.Text != "" {
		msg += ": " + a.Text
	}
	touch(&o, a, now)
	o.UpdatedAt = now
	if err := tx.UpdateOpsItem(ctx, o); err != nil {
		return o, audit.Entry{}, err
	}
	kind := a.Kind
	if kind == SetStatus || kind == Resolve {
		kind = "status"
	}
	// A run's own timeline entries come from the executor.
	if a.Kind != RunRunbook {
		err = tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", now), TenantID: tenant, OpsItemID: id,
			At: now, Kind: kind, Message: msg, Actor: a.Actor})
		if err != nil {
			return o, audit.Entry{}, err
		}
	}
	if a.Text != "" {
		detail["text"] = clip(a.Text, 200)
	}
	o.SettleHumanTime()
	return o, audit.Entry{Actor: a.Actor, Action: "opsitem." + a.Kind, Target: "opsitem/" + id, Detail: detail}, nil
}

// touch moves the in-hands clock for a person's action: resolving or
// unassigning ends the running interval (the store settles a resolution);
// anything else starts one when none runs.
func touch(o *store.OpsItem, a Action, now time.Time) {
	switch {
	case IsClosed(o.Status):
		// The store settles the running interval at the resolution.
	case a.Kind == Assign && a.Assignee == "":
		o.HumanSeconds, o.HumanSince = o.HumanSecondsAt(now), nil
	case o.HumanSince == nil:
		o.HumanSince = &now
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// IsInvalid reports whether err is an InvalidError, returning it.
func IsInvalid(err error) (*InvalidError, bool) {
	var ie *InvalidError
	ok := errors.As(err, &ie)
	return ie, ok
}

// RecordRun notes on an OpsItem that a person ran a runbook for it: the
// in-hands clock starts. The execution's own timeline entries and audit
// record say what ran, so it adds neither.
func RecordRun(ctx context.Context, tx store.Tx, tenant, id, actor, runbook, execution string, now time.Time) error {
	_, _, err := Apply(ctx, tx, tenant, id, Action{Kind: RunRunbook, Actor: actor, Runbook: runbook, Execution: execution}, now)
	return err
}
