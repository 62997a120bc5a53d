package store

import "context"

// TenantReader holds the queries over tenants.
type TenantReader interface {
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context, page Page) ([]Tenant, string, error)
}

// TenantWriter creates tenants.
type TenantWriter interface {
	CreateTenant(ctx context.Context, t Tenant) error
}
