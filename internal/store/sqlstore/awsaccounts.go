package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const awsAccountCols = "tenant_id, id, name, regions, profile, role_arn, external_id, created_at, updated_at, inventory_at, inventory_error, inventory_count"

func scanAWSAccount(r Row) (store.AWSAccount, error) {
	var a store.AWSAccount
	var regions string
	var created, updated, invAt, invCount int64
	err := r.Scan(&a.TenantID, &a.ID, &a.Name, &regions, &a.Profile, &a.RoleARN, &a.ExternalID, &created, &updated,
		&invAt, &a.Inventory.Error, &invCount)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(regions), &a.Regions); err != nil {
		return a, fmt.Errorf("aws account %s: regions: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	if invAt != 0 {
		a.Inventory.At = fromTS(invAt)
	}
	a.Inventory.Resources = int(invCount)
	return a, nil
}

func (r reader) GetAWSAccount(ctx context.Context, tenantID, id string) (store.AWSAccount, error) {
	a, err := scanAWSAccount(r.q.QueryRow(ctx, "SELECT "+awsAccountCols+" FROM aws_accounts WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return a, r.notFound(err, "aws account "+id)
}

func (r reader) ListAWSAccounts(ctx context.Context, tenantID string, page store.Page) ([]store.AWSAccount, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, awsAccountCols, "aws_accounts", "id", w, page,
		func(rows Rows) (store.AWSAccount, error) { return scanAWSAccount(rows) },
		func(a store.AWSAccount) string { return a.ID })
}

func (r reader) AWSAccountResources(ctx context.Context, tenantID, accountID string) (map[string]store.AWSResourceState, error) {
	rows, err := r.q.Query(ctx, "SELECT resource_id, type, hash FROM aws_account_resources WHERE tenant_id = $1 AND account_id = $2", tenantID, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.AWSResourceState{}
	for rows.Next() {
		var id string
		var s store.AWSResourceState
		if err := rows.Scan(&id, &s.Type, &s.Hash); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rows.Err()
}

func (t *tx) PutAWSAccount(ctx context.Context, a store.AWSAccount) error {
	regions, err := json.Marshal(a.Regions)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, `INSERT INTO aws_accounts (tenant_id, id, name, regions, profile, role_arn, external_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, regions = excluded.regions, profile = excluded.profile,
		role_arn = excluded.role_arn, external_id = excluded.external_id, updated_at = excluded.updated_at`,
		a.TenantID, a.ID, a.Name, string(regions), a.Profile, a.RoleARN, a.ExternalID, ts(a.CreatedAt), ts(a.UpdatedAt))
	return err
}

func (t *tx) DeleteAWSAccount(ctx context.Context, tenantID, id string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM aws_accounts WHERE tenant_id = $1 AND id = $2", tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("aws account %s: %w", id, store.ErrNotFound)
	}
	if _, err := t.h.Exec(ctx, `DELETE FROM resources WHERE tenant_id = $1 AND id IN
		(SELECT resource_id FROM aws_account_resources WHERE tenant_id = $1 AND account_id = $2)`, tenantID, id); err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "DELETE FROM aws_account_resources WHERE tenant_id = $1 AND account_id = $2", tenantID, id)
	return err
}

func (t *tx) SetAWSAccountResource(ctx context.Context, tenantID, accountID, resourceID string, s store.AWSResourceState) error {
	_, err := t.h.Exec(ctx, `INSERT INTO aws_account_resources (tenant_id, account_id, resource_id, type, hash) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, account_id, resource_id) DO UPDATE SET type = excluded.type, hash = excluded.hash`,
		tenantID, accountID, resourceID, s.Type, s.Hash)
	return err
}

func (t *tx) DeleteAWSAccountResources(ctx context.Context, tenantID, accountID string, ids []string) error {
	for _, id := range ids {
		if _, err := t.h.Exec(ctx, "DELETE FROM resources WHERE tenant_id = $1 AND id = $2", tenantID, id); err != nil {
			return err
		}
		if _, err := t.h.Exec(ctx, "DELETE FROM aws_account_resources WHERE tenant_id = $1 AND account_id = $2 AND resource_id = $3",
			tenantID, accountID, id); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) SetAWSInventoryStatus(ctx context.Context, tenantID, accountID string, s store.AWSInventoryStatus) error {
	n, err := t.h.Exec(ctx, "UPDATE aws_accounts SET inventory_at = $1, inventory_error = $2, inventory_count = $3 WHERE tenant_id = $4 AND id = $5",
		ts(s.At), s.Error, int64(s.Resources), tenantID, accountID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("aws account %s: %w", accountID, store.ErrNotFound)
	}
	return nil
}
