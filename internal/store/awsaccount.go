package store

import "time"

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
}
