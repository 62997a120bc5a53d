package web

import (
	"context"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// BreakerResetter resets a rule's circuit breakers; *rule.Engine is one.
type BreakerResetter interface {
	ResetBreaker(ctx context.Context, tx store.Tx, tenant, rule, group, actor string) (int, error)
}

var _ BreakerResetter = (*rule.Engine)(nil)

// breakerRow is one rule's breaker for one target group, as shown.
type breakerRow struct {
	rule.Breaker
	// OpenedAt is when it opened, for display ("" when closed).
	OpenedAt string
}

// breakers lists the tenant's breakers that are open or counting failures.
func (h *Handler) breakers(rq *request) ([]breakerRow, error) {
	bs, err := rule.ListBreakers(rq.ctx, h.st, rq.tenantID())
	if err != nil {
		return nil, fmt.Errorf("list rule breakers: %w", err)
	}
	var out []breakerRow
	for _, b := range bs {
		out = append(out, newBreakerRow(b))
	}
	return out, nil
}

func newBreakerRow(b rule.Breaker) breakerRow {
	row := breakerRow{Breaker: b}
	if b.OpenedAt != nil {
		row.OpenedAt = b.OpenedAt.Format("2006-01-02 15:04 UTC")
	}
	return row
}

// resetBreaker is the Reset button: a person closes a rule's breaker for
// a target group (audited as rule.breaker.reset, and rule.breaker.close
// for what it closed).
func (h *Handler) resetBreaker(rq *request) (string, error) {
	if h.brk == nil {
		return "", errNotFound("Circuit breakers cannot be reset on this server.")
	}
	name, group := rq.PathValue("name"), rq.FormValue("group")
	if len(group) > 512 || len(name) > 256 {
		return "", errBadRequest("The rule or target group is too long.")
	}
	err := h.mutate(rq, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		n, err := h.brk.ResetBreaker(ctx, tx, rq.tenantID(), name, group, rq.sess.Principal.Actor())
		return audit.Entry{Action: "rule.breaker.reset", Target: "rule/" + name, Detail: map[string]any{"group": group, "closed": n}}, err
	})
	if err != nil {
		return "", err
	}
	if rq.FormValue("back") == "rule" {
		return rq.view.Link("/rules/"+name) + "#breakers", nil
	}
	return rq.view.Link("/runbooks") + "#breakers", nil
}
