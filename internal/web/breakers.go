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

// breakerRow is one rule's breaker for one target group.
type breakerRow struct {
	Rule, Group, OpenedAt, OpsItemID string
	Failures                         int
	Open                             bool
}

// breakers lists the tenant's breakers that are open or counting failures.
func (h *Handler) breakers(rq *request) ([]breakerRow, error) {
	sts, err := h.st.ListRuleStates(rq.ctx, rq.tenantID())
	if err != nil {
		return nil, fmt.Errorf("list rule states: %w", err)
	}
	var out []breakerRow
	for _, st := range sts {
		if st.Failures == 0 && !st.BreakerOpen() {
			continue
		}
		name, group := rule.SplitStateKey(st.Rule)
		b := breakerRow{Rule: name, Group: group, Failures: st.Failures, Open: st.BreakerOpen(), OpsItemID: st.BreakerOpsItemID}
		if b.Open {
			b.OpenedAt = st.BreakerOpenedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		out = append(out, b)
	}
	return out, nil
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
	return rq.view.Link("/runbooks") + "#breakers", nil
}
