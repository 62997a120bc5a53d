package store

import (
	"context"
	"time"
)

// AWSAccount is one AWS account a tenant's inventory and remediations
// reach, with how Flywheel gets credentials for it: a shared-config
// profile on the server, or a role assumed in the account with an
// external ID (an MSP's usual set-up), or both (the profile's credentials
// assume the role).
type AWSAccount struct {
	TenantID string `json:"tenant"`
	// ID is the 12-digit AWS account ID.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Regions are the regions inventoried; global services (IAM, S3's
	// bucket list) are read once, through the first.
	Regions []string `json:"regions"`
	// Profile names a profile in the server's shared config and
	// credentials files; empty: the SDK's default chain.
	Profile string `json:"profile,omitempty"`
	// RoleARN is a role to assume in the account, with ExternalID.
	RoleARN    string    `json:"role_arn,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Inventory is set by the store (PutAWSAccount ignores it).
	Inventory AWSInventoryStatus `json:"inventory"`
}

// AWSInventoryStatus is the outcome of an account's last inventory.
type AWSInventoryStatus struct {
	At time.Time `json:"at,omitzero"`
	// Resources is how many resources it found.
	Resources int `json:"resources"`
	// Error is what failed, if anything (a partial inventory still
	// writes what it read).
	Error string `json:"error,omitempty"`
}

// AWSResourceState is what an account's inventory last wrote for one
// resource.
type AWSResourceState struct {
	Type string
	// Hash identifies the content written (type, name, tags, config).
	Hash string
}

// AWSAccountReader holds the queries over tenants' AWS accounts.
type AWSAccountReader interface {
	GetAWSAccount(ctx context.Context, tenantID, id string) (AWSAccount, error)
	// ListAWSAccounts lists a tenant's accounts by ID.
	ListAWSAccounts(ctx context.Context, tenantID string, page Page) ([]AWSAccount, string, error)
	// AWSAccountResources returns, by resource ID, what the account's
	// inventory last wrote.
	AWSAccountResources(ctx context.Context, tenantID, accountID string) (map[string]AWSResourceState, error)
}

// AWSAccountWriter holds their writes.
type AWSAccountWriter interface {
	// PutAWSAccount creates an account or replaces its settings (not its
	// inventory status).
	PutAWSAccount(ctx context.Context, a AWSAccount) error
	// DeleteAWSAccount deletes an account and the resources its inventory
	// wrote; ErrNotFound if the tenant has no such account.
	DeleteAWSAccount(ctx context.Context, tenantID, id string) error
	// SetAWSAccountResource records what the inventory wrote for one
	// resource.
	SetAWSAccountResource(ctx context.Context, tenantID, accountID, resourceID string, s AWSResourceState) error
	// DeleteAWSAccountResources deletes resources the account's inventory
	// no longer finds, and their records.
	DeleteAWSAccountResources(ctx context.Context, tenantID, accountID string, ids []string) error
	// SetAWSInventoryStatus records the outcome of an inventory.
	SetAWSInventoryStatus(ctx context.Context, tenantID, accountID string, s AWSInventoryStatus) error
}
