package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The compliance API (docs/compliance.md): the current result of each
// config rule on each resource, their history and the scores' trend,
// and the exceptions that exempt results.
func (s *Server) registerCompliance() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/compliance/results", MinRole: store.RoleViewer}, s.listComplianceResults)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/compliance/changes", MinRole: store.RoleViewer}, s.listComplianceChanges)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/compliance/scores", MinRole: store.RoleViewer}, s.listComplianceScores)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/compliance/exceptions", MinRole: store.RoleViewer},
		tenantList(s, s.st.ListComplianceExceptions, func(e store.ComplianceException) string { return e.ID }))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/compliance/exceptions", MinRole: store.RoleOperator}, s.createComplianceException)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/compliance/exceptions/{id}", MinRole: store.RoleOperator}, s.deleteComplianceException)
}

// complianceStatuses are the statuses results may be filtered by.
var complianceStatuses = map[string]bool{"COMPLIANT": true, "NON_COMPLIANT": true, "NOT_APPLICABLE": true, "ERROR": true, "EXEMPT": true}

// complianceFilter reads ?rule=, ?resource= and ?status=.
func complianceFilter(r *http.Request) (store.ComplianceResultFilter, error) {
	q := r.URL.Query()
	f := store.ComplianceResultFilter{Rule: q.Get("rule"), ResourceID: q.Get("resource"), Status: q.Get("status")}
	if f.Status != "" && !complianceStatuses[f.Status] {
		return f, BadRequest("status %q is not one of COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, ERROR, EXEMPT", f.Status)
	}
	for field, v := range map[string]string{"rule": f.Rule, "resource": f.ResourceID} {
		if err := maxLen(field, v, 2048); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (s *Server) listComplianceResults(w http.ResponseWriter, r *http.Request) error {
	items, next, err := complianceList(s, r, s.st.ListComplianceResults)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(c store.ComplianceResult) string { return c.Rule + "/" + c.ResourceID }, same[store.ComplianceResult])
}

func (s *Server) listComplianceChanges(w http.ResponseWriter, r *http.Request) error {
	items, next, err := complianceList(s, r, s.st.ListComplianceChanges)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[store.ComplianceChange]{Items: nonNil(items), NextCursor: next})
	return nil
}

// complianceList runs list for the request's tenant, filter and page.
func complianceList[T any](s *Server, r *http.Request,
	list func(context.Context, string, store.ComplianceResultFilter, store.Page) ([]T, string, error)) ([]T, string, error) {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return nil, "", err
	}
	f, err := complianceFilter(r)
	if err != nil {
		return nil, "", err
	}
	return list(r.Context(), tenant, f, page)
}

// scoreScopes are the scopes of GET /api/v1/compliance/scores.
var scoreScopes = map[string]bool{store.ScopeTenant: true, store.ScopePack: true, store.ScopeControl: true, store.ScopeAccount: true}

// listComplianceScores answers the trend of one scope (?scope=tenant,
// pack, control or account; ?name= one pack, control or account) since
// ?since= (RFC 3339; default 30 days ago), oldest first.
func (s *Server) listComplianceScores(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	scope := q.Get("scope")
	if scope == "" {
		scope = store.ScopeTenant
	}
	if !scoreScopes[scope] {
		return BadRequest("scope %q is not one of tenant, pack, control, account", scope)
	}
	since := s.now().Add(-30 * 24 * time.Hour)
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return BadRequest("since %q is not an RFC 3339 time", v)
		}
	}
	if err := maxLen("name", q.Get("name"), 2048); err != nil {
		return err
	}
	items, err := s.st.ListComplianceScores(r.Context(), tenant, scope, q.Get("name"), since, 5000)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, List[store.ComplianceScore]{Items: nonNil(items)})
	return nil
}

// ComplianceExceptionInput is the body of POST
// /api/v1/compliance/exceptions: what it exempts (a rule, a resource, a
// tag; at least one), why, who answers for it and until when.
type ComplianceExceptionInput struct {
	Rule       string    `json:"rule"`
	ResourceID string    `json:"resource_id"`
	TagKey     string    `json:"tag_key"`
	TagValue   string    `json:"tag_value"`
	Reason     string    `json:"reason"`
	Owner      string    `json:"owner"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// maxExceptionTTL bounds an exception's life: exceptions are reviewed.
const maxExceptionTTL = 366 * 24 * time.Hour

var ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

func (s *Server) createComplianceException(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in ComplianceExceptionInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	now := s.now()
	switch {
	case in.TagValue != "" && in.TagKey == "":
		return BadRequest("tag_value needs a tag_key")
	case in.Rule == "" && in.ResourceID == "" && in.TagKey == "":
		return BadRequest("an exception names a rule, a resource_id or a tag_key (or several)")
	case in.Rule != "" && !ruleNameRE.MatchString(in.Rule):
		return BadRequest("rule %q is not a content name", in.Rule)
	case in.Reason == "":
		return BadRequest("reason is required")
	case in.Owner == "":
		return BadRequest("owner is required")
	case !in.ExpiresAt.After(now):
		return BadRequest("expires_at must be in the future")
	case in.ExpiresAt.Sub(now) > maxExceptionTTL:
		return BadRequest("expires_at is more than %d days away; exceptions are reviewed at least yearly", int(maxExceptionTTL.Hours()/24))
	}
	for field, v := range map[string]string{"resource_id": in.ResourceID, "tag_key": in.TagKey, "tag_value": in.TagValue, "owner": in.Owner} {
		if err := maxLen(field, v, 1024); err != nil {
			return err
		}
	}
	if err := maxLen("reason", in.Reason, maxComment); err != nil {
		return err
	}
	e := store.ComplianceException{ID: store.NewID("cx", now), TenantID: tenant, Rule: in.Rule, ResourceID: in.ResourceID,
		TagKey: in.TagKey, TagValue: in.TagValue, Reason: in.Reason, Owner: in.Owner, ExpiresAt: in.ExpiresAt.UTC().Truncate(time.Microsecond),
		CreatedBy: Principal(r).Actor(), CreatedAt: now}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateComplianceException(ctx, e); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "compliance.exception.create", Target: "compliance-exception/" + e.ID, Detail: map[string]any{
			"rule": e.Rule, "resource_id": e.ResourceID, "tag_key": e.TagKey, "tag_value": e.TagValue, "owner": e.Owner,
			"reason": e.Reason, "expires_at": e.ExpiresAt}}, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/compliance/exceptions/"+e.ID)
	WriteJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) deleteComplianceException(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.DeleteComplianceException(ctx, tenant, id); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "compliance.exception.delete", Target: "compliance-exception/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("compliance exception %q not found", id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
