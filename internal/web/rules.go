package web

import (
	"fmt"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/rule"
)

// The rules page: every automation rule the tenant sees, with its mode,
// rate limit, circuit breakers (reset here), last action and executions;
// and one rule's page. The same list: GET /api/v1/rules, `flywheel rule
// list`.

// RuleSet gives the rules in force; *rule.Engine is one (it follows
// content reloads).
type RuleSet interface {
	Current() *rule.Rules
}

var _ RuleSet = (*rule.Engine)(nil)

type rulesData struct {
	Rules    []rule.Status
	CanReset bool
}

type ruleData struct {
	Rule     rule.Status
	Breakers []breakerRow
	CanReset bool
}

func (h *Handler) ruleRoutes() {
	h.page("GET /rules", "rules", h.rulesPage)
	h.page("GET /rules/{name}", "rule", h.rulePage)
}

func (h *Handler) ruleStatuses(rq *request) ([]rule.Status, error) {
	if h.rules == nil {
		return nil, nil
	}
	rs := h.rules.Current()
	if rs == nil {
		return nil, nil
	}
	list, err := rule.Statuses(rq.ctx, h.st, rs.ForTenant(rq.tenantID()), rq.tenantID())
	if err != nil {
		return nil, fmt.Errorf("rule statuses: %w", err)
	}
	return list, nil
}

func (h *Handler) rulesPage(rq *request) (any, error) {
	rq.view.Title = "Rules"
	list, err := h.ruleStatuses(rq)
	if err != nil {
		return nil, err
	}
	return rulesData{Rules: list, CanReset: h.brk != nil && rq.canAct()}, nil
}

func (h *Handler) rulePage(rq *request) (any, error) {
	name := rq.PathValue("name")
	list, err := h.ruleStatuses(rq)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.Name == name {
			rq.view.Title = "Rule " + r.Name
			d := ruleData{Rule: r, CanReset: h.brk != nil && rq.canAct()}
			for _, b := range r.Breakers {
				d.Breakers = append(d.Breakers, newBreakerRow(b))
			}
			return d, nil
		}
	}
	return nil, &pageError{Status: http.StatusNotFound, Message: fmt.Sprintf("There is no rule %q.", name)}
}
