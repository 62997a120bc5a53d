package service

import (
	"context"
	"errors"

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
	return out, OpsItemError(err, id)
}

// OpsItemError gives opsitem's refusals their kind.
func OpsItemError(err error, id string) error {
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
