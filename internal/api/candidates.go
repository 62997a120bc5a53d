package api

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// DefaultCandidatePeriod is the period automation candidates look at when
// the request names none: the last 30 days.
const DefaultCandidatePeriod = 30 * 24 * time.Hour

func (s *Server) registerCandidates() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/automation/candidates", MinRole: store.RoleViewer}, s.listCandidates)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/automation/candidates/{id}/rule", MinRole: store.RoleViewer}, s.candidateRule)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/opsitems/{id}/rule", MinRole: store.RoleViewer}, s.opsItemRule)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/automation/rules", MinRole: store.RoleAdmin}, s.saveDraftRule)
}

func (s *Server) listCandidates(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	from, to, err := StatsPeriod(r, s.now(), DefaultCandidatePeriod)
	if err != nil {
		return err
	}
	cs, err := stats.Candidates(r.Context(), s.st, tenant, from, to)
	if err != nil {
		return err
	}
	WriteList(w, nonNil(cs), "")
	return nil
}

// findCandidate recomputes the candidates of the period and returns id's.
func (s *Server) findCandidate(ctx context.Context, tenant, id string, from, to time.Time) (stats.Candidate, error) {
	cs, err := stats.Candidates(ctx, s.st, tenant, from, to)
	if err != nil {
		return stats.Candidate{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, nil
		}
	}
	return stats.Candidate{}, NotFound("automation candidate %q not found between %s and %s", id, from.Format(time.RFC3339), to.Format(time.RFC3339))
}

func (s *Server) candidateRule(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	from, to, err := StatsPeriod(r, s.now(), DefaultCandidatePeriod)
	if err != nil {
		return err
	}
	c, err := s.findCandidate(r.Context(), tenant, id, from, to)
	if err != nil {
		return err
	}
	d, err := stats.CandidateDraft(r.Context(), s.st, tenant, c, r.URL.Query().Get("runbook"))
	return s.writeDraft(w, r, d, err)
}

func (s *Server) opsItemRule(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	o, err := s.st.GetOpsItem(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	} else if err != nil {
		return err
	}
	d, err := stats.OpsItemDraft(r.Context(), s.st, tenant, o, r.URL.Query().Get("runbook"))
	return s.writeDraft(w, r, d, err)
}

// writeDraft answers a drafted Rule as YAML, checked against the library
// and the server's content; download=true asks the browser to save it.
func (s *Server) writeDraft(w http.ResponseWriter, r *http.Request, d stats.Draft, err error) error {
	if err := draftError(err); err != nil {
		return err
	}
	y, err := stats.CheckDraft(d, s.contentDir)
	if err := draftError(err); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	if r.URL.Query().Get("download") == "true" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+d.Name()+`.yaml"`)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(y)
	return nil
}

// draftError maps drafting errors to API errors.
func draftError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stats.ErrNoRunbook), errors.Is(err, stats.ErrInvalidDraft):
		return BadRequest("%v", err)
	case errors.Is(err, stats.ErrDraftExists):
		return Conflict("%v", err)
	}
	return err
}

// DraftRuleInput is the body of POST /api/v1/automation/rules: draft from
// a candidate (of the period from–to) or an OpsItem, optionally naming
// the runbook.
type DraftRuleInput struct {
	Candidate string    `json:"candidate,omitempty"`
	OpsItem   string    `json:"opsitem,omitempty"`
	Runbook   string    `json:"runbook,omitempty"`
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	// AllTenants saves the rule for every tenant (no metadata.tenant);
	// only a platform admin may. Otherwise the rule is the tenant's.
	AllTenants bool `json:"all_tenants,omitempty"`
}

// SavedRule is the answer of POST /api/v1/automation/rules.
type SavedRule struct {
	Name string `json:"name"`
	Path string `json:"path"`
	YAML string `json:"yaml"`
}

func (s *Server) saveDraftRule(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in DraftRuleInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if (in.Candidate == "") == (in.OpsItem == "") {
		return BadRequest("give one of candidate and opsitem")
	}
	if in.AllTenants && !Principal(r).PlatformAdmin {
		return Forbidden("only a platform admin may save a rule for every tenant (all_tenants); without it the rule is tenant %s's", tenant)
	}
	ctx := r.Context()
	var d stats.Draft
	if in.Candidate != "" {
		to := in.To
		if to.IsZero() {
			to = s.now().Truncate(time.Minute).Add(time.Minute)
		}
		from := in.From
		if from.IsZero() {
			from = to.Add(-DefaultCandidatePeriod)
		}
		if err := stats.CheckPeriod(from, to); err != nil {
			return BadRequest("%v", err)
		}
		c, err := s.findCandidate(ctx, tenant, in.Candidate, from, to)
		if err != nil {
			return err
		}
		d, err = stats.CandidateDraft(ctx, s.st, tenant, c, strings.TrimSpace(in.Runbook))
		if err := draftError(err); err != nil {
			return err
		}
	} else {
		o, err := s.st.GetOpsItem(ctx, tenant, in.OpsItem)
		if errors.Is(err, store.ErrNotFound) {
			return NotFound("opsitem %q not found", in.OpsItem)
		} else if err != nil {
			return err
		}
		d, err = stats.OpsItemDraft(ctx, s.st, tenant, o, strings.TrimSpace(in.Runbook))
		if err := draftError(err); err != nil {
			return err
		}
	}
	if in.AllTenants {
		d.Tenant = ""
	}
	if s.contentDir == "" {
		return Conflict("the server has no content directory to save rules in (start it with --content DIR); download the rule instead")
	}
	var saved SavedRule
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		path, err := stats.SaveDraft(s.contentDir, d)
		if err := draftError(err); err != nil {
			return audit.Entry{}, err
		}
		y, _ := d.YAML()
		saved = SavedRule{Name: d.Name(), Path: path, YAML: string(y)}
		return audit.Entry{Action: "automation.rule.save", Target: "rule/" + d.Name(), Result: "ok",
			Detail: map[string]any{"path": path, "runbook": d.Runbook, "candidate": in.Candidate, "opsitem": in.OpsItem, "rule_tenant": d.Tenant}}, nil
	})
	if err != nil {
		if saved.Path != "" {
			_ = os.Remove(saved.Path) // not audited, so not kept
		}
		return err
	}
	WriteJSON(w, http.StatusCreated, saved)
	return nil
}
