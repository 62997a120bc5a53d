package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerRules() {
	if s.rules.Load() == nil {
		return
	}
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/rules", MinRole: store.RoleViewer}, s.listRules)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/rules/consolidation", MinRole: store.RoleViewer}, s.consolidation)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/rules/breakers", MinRole: store.RoleViewer}, s.listBreakers)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/rules/{name}/breaker/reset", MinRole: store.RoleOperator}, s.resetBreaker)
}

// BreakerResetter resets a rule's circuit breakers; *rule.Engine is one.
type BreakerResetter interface {
	ResetBreaker(ctx context.Context, tx store.Tx, tenant, rule, group, actor string) (int, error)
}

// BreakerView is one rule's circuit breaker for one target group.
type BreakerView = rule.Breaker

// BreakerReset is the body of POST /api/v1/rules/{name}/breaker/reset.
type BreakerReset struct {
	// Group resets one target group's breaker; empty resets them all.
	Group string `json:"group,omitempty"`
}

// BreakerResetResult says how many breakers a reset closed or cleared.
type BreakerResetResult struct {
	Rule   string `json:"rule"`
	Group  string `json:"group,omitempty"`
	Closed int    `json:"closed"`
}

// RuleStatus is one rule in GET /api/v1/rules.
type RuleStatus = rule.Status

// listRules is GET /api/v1/rules: the rules the tenant sees, in evaluation
// order, with mode, rate limit, breakers, last action and executions.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	list, err := rule.Statuses(r.Context(), s.st, s.rules.Load().ForTenant(tenant), tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[RuleStatus]{Items: list})
	return nil
}

// listBreakers is GET /api/v1/rules/breakers: the tenant's breakers that
// are open or have counted failures.
func (s *Server) listBreakers(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	list, err := rule.ListBreakers(r.Context(), s.st, tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[BreakerView]{Items: list})
	return nil
}

// resetBreaker is POST /api/v1/rules/{name}/breaker/reset: a person closes
// a rule's breaker for one target group, or all of them. Audited as
// rule.breaker.reset, and each breaker it closes as rule.breaker.close.
func (s *Server) resetBreaker(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	if s.breakers == nil {
		return NotFound("this server runs no automation rules")
	}
	name := r.PathValue("name")
	if _, ok := s.rules.Load().ForTenant(tenant).Rule(name); !ok {
		return NotFound("rule %q not found", name)
	}
	var in BreakerReset
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	if err := maxLen("group", in.Group, 512); err != nil {
		return err
	}
	if strings.ContainsAny(in.Group, "\n\r") {
		return BadRequest("group: must be one line")
	}
	res := BreakerResetResult{Rule: name, Group: in.Group}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		n, err := s.breakers.ResetBreaker(ctx, tx, tenant, name, in.Group, Principal(r).Actor())
		res.Closed = n
		return audit.Entry{Action: "rule.breaker.reset", Target: "rule/" + name, Detail: map[string]any{"group": in.Group, "closed": n}}, err
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, res)
	return nil
}

// ConsolidationView is GET /api/v1/rules/consolidation: how the rules the
// tenant sees route security findings onto runbooks — every GuardDuty
// finding type, and the finding types of Security Hub, Inspector and
// Macie — with counts per runbook and the route of each type.
type ConsolidationView struct {
	// Figure is the headline, "216 GuardDuty finding types → 5 runbooks".
	Figure    string       `json:"figure"`
	GuardDuty rule.Summary `json:"guardduty"`
	Sources   []SourceView `json:"sources"`
}

// SourceView is one other source's share of the consolidation.
type SourceView struct {
	Figure string `json:"figure"`
	rule.SourceSummary
}

func (s *Server) consolidation(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	rs := s.rules.Load().ForTenant(tenant)
	gd := rule.Consolidation(rs, rule.GuardDutyFindingTypes())
	v := ConsolidationView{Figure: fmt.Sprintf("%d GuardDuty finding types → %d runbooks", gd.Types, gd.Runbooks), GuardDuty: gd}
	for _, src := range rule.SourceConsolidation(rs) {
		v.Sources = append(v.Sources, SourceView{Figure: src.String(), SourceSummary: src})
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}
