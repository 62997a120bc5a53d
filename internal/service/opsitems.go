package service

import (
	"context"
	"errors"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A person's handling of an OpsItem (acknowledge, assign, note, status,
// resolve) and regrouping (merge, split): the rules, timeline entries and
// in-hands time are the opsitem package's; the transaction, the audit
// record and the error text are here.

// HandleOpsItem applies a to OpsItem id as the caller.
func (s *Service) HandleOpsItem(ctx context.Context, c Caller, id string, a opsitem.Action) (store.OpsItem, error) {
	a.Actor = c.Actor()
	return s.opsItemOp(ctx, c, id, func(ctx context.Context, tx store.Tx) (store.OpsItem, audit.Entry, error) {
		return opsitem.Apply(ctx, tx, c.Tenant, id, a, s.now())
	})
}

// MergeOpsItems moves the members of the OpsItems from into id.
func (s *Service) MergeOpsItems(ctx context.Context, c Caller, id string, from []string) (store.OpsItem, error) {
	return s.opsItemOp(ctx, c, id, func(ctx context.Context, tx store.Tx) (store.OpsItem, audit.Entry, error) {
		return opsitem.Merge(ctx, tx, c.Tenant, id, from, c.Actor(), s.now())
	})
}

// SplitOpsItem moves id's member alert fingerprint into a new OpsItem,
// which it returns.
func (s *Service) SplitOpsItem(ctx context.Context, c Caller, id, fingerprint string) (store.OpsItem, error) {
	return s.opsItemOp(ctx, c, id, func(ctx context.Context, tx store.Tx) (store.OpsItem, audit.Entry, error) {
		return opsitem.Split(ctx, tx, c.Tenant, id, fingerprint, c.Actor(), s.now())
	})
}

// opsItemOp runs op with its audit entry in one transaction.
func (s *Service) opsItemOp(ctx context.Context, c Caller, id string,
	op func(ctx context.Context, tx store.Tx) (store.OpsItem, audit.Entry, error)) (store.OpsItem, error) {
	var out store.OpsItem
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		o, e, err := op(ctx, tx)
		out = o
		return e, err
	})
	return out, opsItemError(err, id)
}

// opsItemError gives opsitem's refusals their kind.
func opsItemError(err error, id string) error {
	if ie, ok := opsitem.IsInvalid(err); ok {
		switch {
		case ie.Conflict:
			return &Error{Kind: Conflict, Msg: ie.Msg, Err: err}
		case ie.NotFound:
			return &Error{Kind: NotFound, Msg: ie.Msg, Err: err}
		}
		return &Error{Kind: Invalid, Msg: ie.Msg, Err: err}
	}
	if errors.Is(err, store.ErrNotFound) {
		return errorf(NotFound, "opsitem %q not found", id)
	}
	return err
}

// Bounds on an OpsItem's text.
const (
	MaxOpsItemTitle       = 500
	MaxOpsItemDescription = 64 << 10
)

// OpsItemInput is a manual OpsItem to open (the body of POST
// /api/v1/opsitems); category defaults to operations, severity to medium.
type OpsItemInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
}

// OpsItemPatch changes the fields present and keeps the others (the body
// of PATCH /api/v1/opsitems/{id}).
type OpsItemPatch struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Category    *string `json:"category"`
	Severity    *string `json:"severity"`
	Status      *string `json:"status"`
}

// CreateOpsItem opens a manual OpsItem and audits "opsitem.create".
func (s *Service) CreateOpsItem(ctx context.Context, c Caller, in OpsItemInput) (store.OpsItem, error) {
	if in.Category == "" {
		in.Category = "operations"
	}
	if in.Severity == "" {
		in.Severity = "medium"
	}
	if err := validOpsItemFields(in.Title, in.Description, in.Category, in.Severity); err != nil {
		return store.OpsItem{}, err
	}
	now := s.now()
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: c.Tenant, Title: in.Title, Description: in.Description,
		Category: in.Category, Severity: in.Severity, Status: opsitem.StatusOpen, Source: "manual", CreatedAt: now, UpdatedAt: now}
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "opsitem.create", Target: "opsitem/" + o.ID, Detail: map[string]string{"title": o.Title}}, nil
	})
	return o, err
}

// UpdateOpsItem changes an OpsItem's fields and audits "opsitem.update"
// with what changed; a change of status is a person's handling (its
// timeline entry, resolved_by and in-hands time are opsitem.Apply's).
func (s *Service) UpdateOpsItem(ctx context.Context, c Caller, id string, in OpsItemPatch) (store.OpsItem, error) {
	return s.opsItemOp(ctx, c, id, func(ctx context.Context, tx store.Tx) (store.OpsItem, audit.Entry, error) {
		o, err := tx.GetOpsItem(ctx, c.Tenant, id)
		if err != nil {
			return o, audit.Entry{}, err
		}
		changed := map[string]string{}
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				changed[field] = *v
				*dst = *v
			}
		}
		set("title", &o.Title, in.Title)
		set("description", &o.Description, in.Description)
		set("category", &o.Category, in.Category)
		set("severity", &o.Severity, in.Severity)
		if err := validOpsItemFields(o.Title, o.Description, o.Category, o.Severity); err != nil {
			return o, audit.Entry{}, err
		}
		now := s.now()
		o.UpdatedAt = now
		if err := tx.UpdateOpsItem(ctx, o); err != nil {
			return o, audit.Entry{}, err
		}
		if d, ok := changed["description"]; ok {
			changed["description"] = Clip(d, 200)
		}
		out := o
		if in.Status != nil && *in.Status != o.Status {
			a := opsitem.Action{Kind: opsitem.SetStatus, Status: *in.Status, Actor: c.Actor()}
			if out, _, err = opsitem.Apply(ctx, tx, c.Tenant, id, a, now); err != nil {
				return out, audit.Entry{}, err
			}
			changed["status"] = *in.Status
		}
		return out, audit.Entry{Action: "opsitem.update", Target: "opsitem/" + o.ID, Detail: changed}, nil
	})
}

func validOpsItemFields(title, description, category, severity string) error {
	switch {
	case strings.TrimSpace(title) == "":
		return errorf(Invalid, "title is required")
	case len(title) > MaxOpsItemTitle:
		return errorf(Invalid, "title is longer than %d characters", MaxOpsItemTitle)
	case len(description) > MaxOpsItemDescription:
		return errorf(Invalid, "description is longer than %d characters", MaxOpsItemDescription)
	}
	if err := opsitem.ValidCategory(category); err != nil {
		return wrap(Invalid, err)
	}
	if err := opsitem.ValidSeverity(severity); err != nil {
		return wrap(Invalid, err)
	}
	return nil
}
