package backup

import (
	"context"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Catalog holds the compiled plans by tenant ("" for the plans of every
// tenant) and name; a tenant's own plan wins over one for every tenant
// of the same name.
type Catalog struct {
	plans map[string]map[string]*Plan
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{plans: map[string]map[string]*Plan{}} }

// Add adds a plan for tenant ("" for every tenant).
func (c *Catalog) Add(tenant string, p *Plan) {
	if c.plans[tenant] == nil {
		c.plans[tenant] = map[string]*Plan{}
	}
	c.plans[tenant][p.Name] = p
}

// Get returns the plan of that name that applies to tenant.
func (c *Catalog) Get(tenant, name string) (*Plan, bool) {
	if p, ok := c.plans[tenant][name]; ok {
		return p, true
	}
	p, ok := c.plans[""][name]
	return p, ok
}

// ForTenant lists the plans that apply to tenant, by name.
func (c *Catalog) ForTenant(tenant string) []*Plan {
	var out []*Plan
	for name, p := range c.plans[""] {
		if _, own := c.plans[tenant][name]; !own {
			out = append(out, p)
		}
	}
	for _, p := range c.plans[tenant] {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Plan) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PlanStatus is what a plan has achieved: per resource, its last point
// and restore test, the recovery point objective met now (RPO: the age
// of the newest available point) and the recovery time measured (RTO: the
// last passed restore test's duration).
type PlanStatus struct {
	Plan      string           `json:"plan"`
	Rules     []Rule           `json:"rules"`
	Methods   []string         `json:"methods"`
	Resources []ResourceStatus `json:"resources"`
	// RPO and RTO are the worst over the resources (seconds; 0: unknown).
	RPOSeconds float64 `json:"rpo_seconds"`
	RTOSeconds float64 `json:"rto_seconds"`
	// Windows name the maintenance windows the plan's rules run through.
	Windows []string `json:"windows"`
}

// ResourceStatus is one resource of a plan.
type ResourceStatus struct {
	Resource   string               `json:"resource"`
	LastPoint  *store.RecoveryPoint `json:"last_point,omitempty"`
	LastTest   *store.RestoreTest   `json:"last_test,omitempty"`
	Points     int                  `json:"points"`
	RPOSeconds float64              `json:"rpo_seconds"`
	RTOSeconds float64              `json:"rto_seconds"`
}

// statusScan bounds how many of a plan's newest points and tests a status
// reads.
const statusScan = store.MaxPageLimit

// Status computes a plan's status at the service's now.
func (s *Service) Status(ctx context.Context, tenant string, p *Plan) (PlanStatus, error) {
	now := s.now()
	out := PlanStatus{Plan: p.Name, Rules: p.Rules, Resources: []ResourceStatus{}}
	for _, sel := range p.Selections {
		if !slices.Contains(out.Methods, sel.Method) {
			out.Methods = append(out.Methods, sel.Method)
		}
	}
	if wins, err := Windows(p, tenant, now); err == nil {
		for _, w := range wins {
			out.Windows = append(out.Windows, w.Name)
		}
	}
	pts, _, err := s.o.Store.ListRecoveryPoints(ctx, tenant, store.RecoveryPointFilter{Plan: p.Name}, store.Page{Limit: statusScan})
	if err != nil {
		return out, err
	}
	tests, _, err := s.o.Store.ListRestoreTests(ctx, tenant, p.Name, store.Page{Limit: statusScan})
	if err != nil {
		return out, err
	}
	byRes := map[string]*ResourceStatus{}
	get := func(id string) *ResourceStatus {
		if r, ok := byRes[id]; ok {
			return r
		}
		byRes[id] = &ResourceStatus{Resource: id}
		return byRes[id]
	}
	for _, pt := range pts { // newest first
		r := get(pt.ResourceID)
		if pt.Status != store.PointAvailable {
			continue
		}
		r.Points++
		if r.LastPoint == nil {
			pt := pt
			r.LastPoint = &pt
			r.RPOSeconds = now.Sub(pt.CreatedAt).Seconds()
		}
	}
	for _, t := range tests {
		r := get(t.ResourceID)
		if r.LastTest == nil {
			t := t
			r.LastTest = &t
		}
		if t.Status == "passed" && r.RTOSeconds == 0 {
			r.RTOSeconds = t.Duration.Seconds()
		}
	}
	for _, r := range byRes {
		out.Resources = append(out.Resources, *r)
		out.RPOSeconds = max(out.RPOSeconds, r.RPOSeconds)
		out.RTOSeconds = max(out.RTOSeconds, r.RTOSeconds)
	}
	slices.SortFunc(out.Resources, func(a, b ResourceStatus) int { return strings.Compare(a.Resource, b.Resource) })
	return out, nil
}

// Plans lists the plans that apply to tenant.
func (s *Service) Plans(tenant string) []*Plan {
	if s.o.Plans == nil {
		return nil
	}
	return s.o.Plans.ForTenant(tenant)
}
