package api

import (
	"fmt"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerRules() {
	if s.rules == nil {
		return
	}
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/rules/consolidation", MinRole: store.RoleViewer}, s.consolidation)
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
	rs := s.rules.ForTenant(tenant)
	gd := rule.Consolidation(rs, rule.GuardDutyFindingTypes())
	v := ConsolidationView{Figure: fmt.Sprintf("%d GuardDuty finding types → %d runbooks", gd.Types, gd.Runbooks), GuardDuty: gd}
	for _, src := range rule.SourceConsolidation(rs) {
		v.Sources = append(v.Sources, SourceView{Figure: src.String(), SourceSummary: src})
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}
