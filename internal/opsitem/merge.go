package opsitem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/correlate/learn"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A person's regrouping of OpsItems: merge moves the member alerts of one
// or more OpsItems into a target and closes the sources as merged; split
// moves one member alert out into an OpsItem of its own. The API, the CLI
// (through the API) and the web UI all regroup here. Each records a
// timeline entry and an audit record on every OpsItem it changes; the
// target's audit record names the alert names on either side, which is
// what learning from people's merges reads (see MergesFromAudit).

// Audit actions of a regrouping.
const (
	AuditMerge      = "opsitem.merge"
	AuditMergedInto = "opsitem.merged_into"
	AuditSplit      = "opsitem.split"
)

// MaxMergeSources bounds how many OpsItems one merge takes.
const MaxMergeSources = 50

// RegroupDetail is the audit detail of a merge or split on the OpsItem
// that gains members (merge: the target; split: the OpsItem split from).
type RegroupDetail struct {
	From []string `json:"from,omitempty"` // merged OpsItems
	Into string   `json:"into,omitempty"` // split: the new OpsItem
	// Fingerprint is the member split out.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Names are the alert names (alertname label, else title) of the
	// target's members before the merge (split: of the members that stay)
	// and Moved those of the members moved.
	Names []string `json:"names"`
	Moved []string `json:"moved"`
}

// Merge moves the members of sources into target, closes each source as
// resolved with a "merged into" timeline entry and audit record, and
// returns the target and the target's audit entry (callers append it in
// the same transaction). Only open OpsItems of the tenant take part.
func Merge(ctx context.Context, tx store.Tx, tenant, target string, sources []string, actor string, now time.Time) (store.OpsItem, audit.Entry, error) {
	if len(sources) == 0 {
		return store.OpsItem{}, audit.Entry{}, invalid("from names no OpsItem to merge")
	}
	if len(sources) > MaxMergeSources {
		return store.OpsItem{}, audit.Entry{}, invalid("from names %d OpsItems; at most %d merge at once", len(sources), MaxMergeSources)
	}
	o, err := openItem(ctx, tx, tenant, target)
	if err != nil {
		return o, audit.Entry{}, err
	}
	tm, err := tx.ListOpsItemMembers(ctx, tenant, target)
	if err != nil {
		return o, audit.Entry{}, err
	}
	d := RegroupDetail{From: sources}
	if d.Names, err = memberNames(ctx, tx, tenant, tm); err != nil {
		return o, audit.Entry{}, err
	}
	seen := map[string]bool{target: true}
	for _, sid := range sources {
		if seen[sid] {
			return o, audit.Entry{}, invalid("from names opsitem %s twice, or the target itself", sid)
		}
		seen[sid] = true
		src, err := openItem(ctx, tx, tenant, sid)
		if err != nil {
			return o, audit.Entry{}, err
		}
		ms, err := tx.ListOpsItemMembers(ctx, tenant, sid)
		if err != nil {
			return o, audit.Entry{}, err
		}
		names, err := memberNames(ctx, tx, tenant, ms)
		if err != nil {
			return o, audit.Entry{}, err
		}
		d.Moved = append(d.Moved, names...)
		for _, m := range ms {
			if err := moveMember(ctx, tx, m, target); err != nil {
				return o, audit.Entry{}, err
			}
		}
		absorb(&o, src)
		src.Status, src.ResolvedAt, src.ResolvedBy, src.UpdatedAt = StatusResolved, &now, actor, now
		if err := tx.UpdateOpsItem(ctx, src); err != nil {
			return o, audit.Entry{}, err
		}
		if err := timeline(ctx, tx, tenant, sid, "merge", fmt.Sprintf("Merged into %s (%d members moved)", target, len(ms)), actor, now); err != nil {
			return o, audit.Entry{}, err
		}
		if _, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: actor, Action: AuditMergedInto, Target: "opsitem/" + sid,
			Detail: map[string]string{"into": target}}); err != nil {
			return o, audit.Entry{}, err
		}
	}
	touch(&o, Action{Kind: "merge"}, now)
	o.UpdatedAt = now
	if err := tx.UpdateOpsItem(ctx, o); err != nil {
		return o, audit.Entry{}, err
	}
	if err := timeline(ctx, tx, tenant, target, "merge", fmt.Sprintf("Merged %s into this OpsItem", strings.Join(sources, ", ")), actor, now); err != nil {
		return o, audit.Entry{}, err
	}
	o.SettleHumanTime()
	return o, audit.Entry{Actor: actor, Action: AuditMerge, Target: "opsitem/" + target, Detail: d}, nil
}

// Split moves the member alert fingerprint of OpsItem id into a new open
// OpsItem and returns the new OpsItem and the split's audit entry on id.
// An OpsItem's only member cannot be split out.
func Split(ctx context.Context, tx store.Tx, tenant, id, fingerprint, actor string, now time.Time) (store.OpsItem, audit.Entry, error) {
	if fingerprint == "" {
		return store.OpsItem{}, audit.Entry{}, invalid("fingerprint is required")
	}
	o, err := openItem(ctx, tx, tenant, id)
	if err != nil {
		return o, audit.Entry{}, err
	}
	ms, err := tx.ListOpsItemMembers(ctx, tenant, id)
	if err != nil {
		return o, audit.Entry{}, err
	}
	i := slices.IndexFunc(ms, func(m store.OpsItemMember) bool { return m.Fingerprint == fingerprint })
	if i < 0 {
		return o, audit.Entry{}, invalid("alert %q is not a member of opsitem %s", fingerprint, id)
	}
	if len(ms) == 1 {
		return o, audit.Entry{}, &InvalidError{Msg: fmt.Sprintf("alert %q is the only member of opsitem %s; nothing to split it from", fingerprint, id), Conflict: true}
	}
	m := ms[i]
	rest := slices.Delete(slices.Clone(ms), i, i+1)
	d := RegroupDetail{Fingerprint: fingerprint}
	if d.Names, err = memberNames(ctx, tx, tenant, rest); err != nil {
		return o, audit.Entry{}, err
	}
	if d.Moved, err = memberNames(ctx, tx, tenant, ms[i:i+1]); err != nil {
		return o, audit.Entry{}, err
	}
	n := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: m.Title, Category: o.Category, Severity: o.Severity,
		Status: StatusOpen, Source: m.Source, CreatedAt: now, UpdatedAt: now, FirstEventAt: m.FirstSeen, LastEventAt: m.LastSeen,
		Occurrences: m.Occurrences, Resolution: o.Resolution}
	if sev := event.Severity(m.Severity); sev.Valid() {
		n.Severity = m.Severity
	}
	d.Into = n.ID
	if err := tx.CreateOpsItem(ctx, n); err != nil {
		return o, audit.Entry{}, err
	}
	if err := moveMember(ctx, tx, m, n.ID); err != nil {
		return o, audit.Entry{}, err
	}
	o.Occurrences = max(o.Occurrences-m.Occurrences, 0)
	touch(&o, Action{Kind: "split"}, now)
	o.UpdatedAt = now
	if err := tx.UpdateOpsItem(ctx, o); err != nil {
		return o, audit.Entry{}, err
	}
	if err := timeline(ctx, tx, tenant, id, "split", fmt.Sprintf("Split %s (%s) out into %s", m.Title, fingerprint, n.ID), actor, now); err != nil {
		return o, audit.Entry{}, err
	}
	if err := timeline(ctx, tx, tenant, n.ID, "split", fmt.Sprintf("Split out of %s", id), actor, now); err != nil {
		return o, audit.Entry{}, err
	}
	if _, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: actor, Action: AuditSplit, Target: "opsitem/" + n.ID,
		Detail: map[string]string{"from": id, "fingerprint": fingerprint}}); err != nil {
		return o, audit.Entry{}, err
	}
	return n, audit.Entry{Actor: actor, Action: AuditSplit, Target: "opsitem/" + id, Detail: d}, nil
}

// openItem gets an OpsItem a regrouping may change: the tenant's, not closed.
func openItem(ctx context.Context, tx store.Tx, tenant, id string) (store.OpsItem, error) {
	o, err := tx.GetOpsItem(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, &InvalidError{Msg: fmt.Sprintf("opsitem %q not found", id), NotFound: true}
	} else if err != nil {
		return o, err
	}
	if IsClosed(o.Status) {
		return o, &InvalidError{Msg: fmt.Sprintf("opsitem %s is %s; reopen it first", id, o.Status), Conflict: true}
	}
	return o, nil
}

// moveMember makes m a member of OpsItem to, and its alert follow.
func moveMember(ctx context.Context, tx store.Tx, m store.OpsItemMember, to string) error {
	if err := tx.DeleteOpsItemMember(ctx, m.TenantID, m.OpsItemID, m.Fingerprint); err != nil {
		return err
	}
	m.OpsItemID = to
	if err := tx.PutOpsItemMember(ctx, m); err != nil {
		return err
	}
	a, err := tx.GetAlert(ctx, m.TenantID, m.Fingerprint)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	a.OpsItemID = to
	return tx.PutAlert(ctx, a)
}

// absorb adds a merged source's counts, span and severity to o.
func absorb(o *store.OpsItem, src store.OpsItem) {
	o.Occurrences += src.Occurrences
	if !src.FirstEventAt.IsZero() && (o.FirstEventAt.IsZero() || src.FirstEventAt.Before(o.FirstEventAt)) {
		o.FirstEventAt = src.FirstEventAt
	}
	if src.LastEventAt.After(o.LastEventAt) {
		o.LastEventAt = src.LastEventAt
	}
	if event.Severity(src.Severity).Rank() > event.Severity(o.Severity).Rank() {
		o.Severity = src.Severity
	}
}

// memberNames are the distinct alert names of members, sorted.
func memberNames(ctx context.Context, tx store.Tx, tenant string, ms []store.OpsItemMember) ([]string, error) {
	fps := make([]string, len(ms))
	title := map[string]string{}
	for i, m := range ms {
		fps[i] = m.Fingerprint
		title[m.Fingerprint] = m.Title
	}
	as, err := tx.GetAlerts(ctx, tenant, fps)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if n := a.Labels["alertname"]; n != "" {
			title[a.Fingerprint] = n
		}
	}
	var out []string
	for _, n := range title {
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func timeline(ctx context.Context, tx store.Tx, tenant, id, kind, msg, actor string, now time.Time) error {
	return tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", now), TenantID: tenant, OpsItemID: id,
		At: now, Kind: kind, Message: msg, Actor: actor})
}

// LearnedMerges reads people's merges and splits from the tenant's audit
// chain, as the alert-name pairs learning counts: a merge pairs each name
// the target had with each name moved in; a split pairs the name split out
// with each name that stayed (counting against the pair).
func LearnedMerges(ctx context.Context, r store.Reader, tenant string) ([]learn.Merge, error) {
	var out []learn.Merge
	err := r.ScanAudit(ctx, tenant, 0, func(rec store.AuditRecord) error {
		split := rec.Action == AuditSplit
		if rec.Action != AuditMerge && !split {
			return nil
		}
		var d RegroupDetail
		if json.Unmarshal(rec.Detail, &d) != nil {
			return nil // the new OpsItem's split record: no names
		}
		for _, a := range d.Names {
			for _, b := range d.Moved {
				if a != b {
					out = append(out, learn.Merge{A: a, B: b, Split: split})
				}
			}
		}
		return nil
	})
	return out, err
}
