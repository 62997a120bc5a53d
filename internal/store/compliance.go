package store

import (
	"context"
	"time"
)

// ComplianceReader holds the queries over config-rule evaluation state
// (internal/compliance).
type ComplianceReader interface {
	// ListComplianceResults lists a tenant's current results, by rule then
	// resource.
	ListComplianceResults(ctx context.Context, tenantID string, f ComplianceResultFilter, page Page) ([]ComplianceResult, string, error)
	// ListComplianceChanges lists a tenant's result changes, newest first.
	ListComplianceChanges(ctx context.Context, tenantID string, f ComplianceResultFilter, page Page) ([]ComplianceChange, string, error)
	// ListComplianceScores lists a tenant's scores of one scope (and name,
	// when not "") since a time, oldest first, at most limit.
	ListComplianceScores(ctx context.Context, tenantID, scope, name string, since time.Time, limit int) ([]ComplianceScore, error)
	GetComplianceException(ctx context.Context, tenantID, id string) (ComplianceException, error)
	// ListComplianceExceptions lists a tenant's exceptions, expired ones
	// included, newest first.
	ListComplianceExceptions(ctx context.Context, tenantID string, page Page) ([]ComplianceException, string, error)
}

// ComplianceWriter holds their writes.
type ComplianceWriter interface {
	// PutComplianceResults creates or replaces results (by tenant, rule and
	// resource).
	PutComplianceResults(ctx context.Context, rs []ComplianceResult) error
	// DeleteComplianceResults deletes a tenant's results of rules or
	// resources no longer evaluated: those not evaluated at or after
	// before, of the given resource ids when any are given.
	DeleteComplianceResults(ctx context.Context, tenantID string, before time.Time, resourceIDs []string) (int64, error)
	AddComplianceChanges(ctx context.Context, cs []ComplianceChange) error
	AddComplianceScores(ctx context.Context, ss []ComplianceScore) error
	// PruneComplianceHistory deletes changes and scores older than before.
	PruneComplianceHistory(ctx context.Context, before time.Time) (int64, error)
	CreateComplianceException(ctx context.Context, e ComplianceException) error
	// DeleteComplianceException is ErrNotFound when the tenant has no such
	// exception.
	DeleteComplianceException(ctx context.Context, tenantID, id string) error
}

// ComplianceResult is a rule's current verdict on one resource.
type ComplianceResult struct {
	TenantID     string `json:"tenant"`
	Rule         string `json:"rule"`
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"`
	Account      string `json:"account"`
	// Status is COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, ERROR or EXEMPT.
	Status     string `json:"status"`
	Annotation string `json:"annotation,omitempty"`
	// Since is when the resource took this status; EvaluatedAt the last
	// evaluation.
	Since       time.Time `json:"since"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Remediation: how many times the rule's runbook was started for the
	// resource while NON_COMPLIANT, the last time and execution.
	RemediationAttempts int       `json:"remediation_attempts,omitempty"`
	RemediatedAt        time.Time `json:"remediated_at,omitempty"`
	ExecutionID         string    `json:"execution_id,omitempty"`
}

// ComplianceResultFilter narrows result and change lists; empty fields
// match all.
type ComplianceResultFilter struct {
	Rule       string
	ResourceID string
	Status     string
}

// ComplianceChange is one change of a result's status: the history.
type ComplianceChange struct {
	TenantID   string    `json:"tenant"`
	Rule       string    `json:"rule"`
	ResourceID string    `json:"resource_id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Annotation string    `json:"annotation,omitempty"`
	At         time.Time `json:"at"`
}

// Compliance score scopes.
const (
	ScopeTenant  = "tenant"
	ScopePack    = "pack"
	ScopeControl = "control"
	ScopeAccount = "account"
)

// ComplianceScore is the compliance of one scope at one evaluation: the
// trend.
type ComplianceScore struct {
	TenantID string    `json:"tenant"`
	At       time.Time `json:"at"`
	// Scope is tenant, pack, control or account; Name the pack, control
	// id (PACK/CONTROL) or account ("" for the tenant).
	Scope        string  `json:"scope"`
	Name         string  `json:"name"`
	Compliant    int     `json:"compliant"`
	NonCompliant int     `json:"non_compliant"`
	Percent      float64 `json:"compliance_percent"`
}

// ComplianceException exempts results from a rule: of one rule (or
// every rule), on one resource, or on resources with a tag, until it
// expires. At least one of Rule, ResourceID and TagKey is set.
type ComplianceException struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	Rule       string `json:"rule,omitempty"`
	ResourceID string `json:"resource_id,omitempty"`
	TagKey     string `json:"tag_key,omitempty"`
	// TagValue, when set, is the value the tag must have.
	TagValue  string    `json:"tag_value,omitempty"`
	Reason    string    `json:"reason"`
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Covers reports whether the exception exempts rule's result on resource
// r at now: not yet expired, and every part it sets matches.
func (e ComplianceException) Covers(rule string, r Resource, now time.Time) bool {
	if !now.Before(e.ExpiresAt) || (e.Rule == "" && e.ResourceID == "" && e.TagKey == "") {
		return false
	}
	if e.Rule != "" && e.Rule != rule {
		return false
	}
	if e.ResourceID != "" && e.ResourceID != r.ID {
		return false
	}
	if e.TagKey != "" {
		v, ok := r.Tags[e.TagKey]
		if !ok || (e.TagValue != "" && v != e.TagValue) {
			return false
		}
	}
	return true
}
