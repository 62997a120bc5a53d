package service

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TenantIDPattern is what a tenant ID may look like: a DNS-label-like slug.
var TenantIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// TenantInput is a tenant to create (the body of POST /api/v1/tenants).
type TenantInput struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// CreateTenant creates a tenant (platform admins only) and audits
// "tenant.create" in the new tenant's chain.
func (s *Service) CreateTenant(ctx context.Context, c Caller, in TenantInput) (store.Tenant, error) {
	if !c.Principal.PlatformAdmin {
		return store.Tenant{}, errorf(Forbidden, "only a platform admin may create a tenant")
	}
	if !TenantIDPattern.MatchString(in.ID) {
		return store.Tenant{}, errorf(Invalid, "id %q must be lowercase letters, digits and '-', 1 to 63 characters", Clip(in.ID, 80))
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.ID
	}
	if len(in.Name) > 200 {
		return store.Tenant{}, errorf(Invalid, "name is longer than 200 characters")
	}
	if len(in.Description) > 2000 {
		return store.Tenant{}, errorf(Invalid, "description is longer than 2000 characters")
	}
	t := store.Tenant{ID: in.ID, Name: in.Name, Description: in.Description, CreatedAt: s.now()}
	err := s.Mutate(ctx, Caller{Principal: c.Principal, Tenant: t.ID}, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateTenant(ctx, t); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "tenant.create", Target: "tenant/" + t.ID, Detail: map[string]string{"name": t.Name}}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Tenant{}, errorf(Conflict, "tenant %q already exists", t.ID)
	}
	return t, err
}
