package client

import (
	"context"
	"net/url"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// Typed access to the API: one method per operation, over the wire types
// of package apiv1, e.g. c.Silences("").Create(ctx, in). Do remains for
// the operations without one yet.

// Collection is one collection of the API (/api/v1/silences): its items
// T, created from an In, changed with a Patch. Tenant "" is the token's
// own; a platform admin names another.
type Collection[T, In, Patch any] struct {
	c      *Client
	path   string
	tenant string
}

// collection is the collection at path.
func collection[T, In, Patch any](c *Client, path, tenant string) Collection[T, In, Patch] {
	return Collection[T, In, Patch]{c: c, path: path, tenant: tenant}
}

// Silences are the tenant's silences.
func (c *Client) Silences(tenant string) Collection[apiv1.Silence, apiv1.SilenceInput, struct{}] {
	return collection[apiv1.Silence, apiv1.SilenceInput, struct{}](c, "/api/v1/silences", tenant)
}

// OpsItems are the tenant's OpsItems.
func (c *Client) OpsItems(tenant string) Collection[apiv1.OpsItem, apiv1.OpsItemInput, apiv1.OpsItemPatch] {
	return collection[apiv1.OpsItem, apiv1.OpsItemInput, apiv1.OpsItemPatch](c, "/api/v1/opsitems", tenant)
}

// MaintenanceWindows are the tenant's maintenance windows.
func (c *Client) MaintenanceWindows(tenant string) Collection[apiv1.MaintenanceWindow, apiv1.MaintenanceWindowInput, struct{}] {
	return collection[apiv1.MaintenanceWindow, apiv1.MaintenanceWindowInput, struct{}](c, "/api/v1/maintenance-windows", tenant)
}

// Tenants are the platform's tenants (platform admin).
func (c *Client) Tenants() Collection[apiv1.Tenant, apiv1.TenantInput, struct{}] {
	return collection[apiv1.Tenant, apiv1.TenantInput, struct{}](c, "/api/v1/tenants", "")
}

// url is the collection's path, or its item id's, with the tenant and q
// as the query.
func (r Collection[T, In, Patch]) url(id string, q url.Values) string {
	p := r.path
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	if r.tenant != "" {
		if q == nil {
			q = url.Values{}
		}
		q.Set("tenant", r.tenant)
	}
	if enc := q.Encode(); enc != "" {
		p += "?" + enc
	}
	return p
}

// Create creates an item (POST).
func (r Collection[T, In, Patch]) Create(ctx context.Context, in In) (T, error) {
	var out T
	err := r.c.Do(ctx, "POST", r.url("", nil), in, &out)
	return out, err
}

// Get reads the item id.
func (r Collection[T, In, Patch]) Get(ctx context.Context, id string) (T, error) {
	var out T
	err := r.c.Do(ctx, "GET", r.url(id, nil), nil, &out)
	return out, err
}

// List reads one page of items; q holds the filters and the cursor.
func (r Collection[T, In, Patch]) List(ctx context.Context, q url.Values) (apiv1.List[T], error) {
	var out apiv1.List[T]
	err := r.c.Do(ctx, "GET", r.url("", q), nil, &out)
	return out, err
}

// Update changes the item id's fields that p sets (PATCH).
func (r Collection[T, In, Patch]) Update(ctx context.Context, id string, p Patch) (T, error) {
	var out T
	err := r.c.Do(ctx, "PATCH", r.url(id, nil), p, &out)
	return out, err
}

// Delete deletes (or ends: a silence expires) the item id.
func (r Collection[T, In, Patch]) Delete(ctx context.Context, id string) error {
	return r.c.Do(ctx, "DELETE", r.url(id, nil), nil, nil)
}
