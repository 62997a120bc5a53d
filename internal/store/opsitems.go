package store

import (
	"context"
	"time"
)

// OpsItemReader holds the queries over OpsItems, their member alerts,
// related resources and timelines.
type OpsItemReader interface {
	GetOpsItem(ctx context.Context, tenantID, id string) (OpsItem, error)
	ListOpsItems(ctx context.Context, tenantID string, f OpsItemFilter, page Page) ([]OpsItem, string, error)
	// OpenGroup finds the newest open OpsItem of a correlation group whose
	// last event is at or after since.
	OpenGroup(ctx context.Context, tenantID, rule, key string, since time.Time) (OpsItem, error)
	ListOpsItemMembers(ctx context.Context, tenantID, opsItemID string) ([]OpsItemMember, error)
	// GetOpsItemMember returns one member alert of an OpsItem (ErrNotFound
	// when the fingerprint is not a member).
	GetOpsItemMember(ctx context.Context, tenantID, opsItemID, fingerprint string) (OpsItemMember, error)
	ListOpsItemResources(ctx context.Context, tenantID, opsItemID string) ([]OpsItemResource, error)
	ListTimeline(ctx context.Context, tenantID, opsItemID string) ([]TimelineEntry, error)
	// OpsItemGroups calls fn once with each distinct correlation group
	// (rule and group key) of the tenant's OpsItems, whatever their status,
	// in no particular order.
	OpsItemGroups(ctx context.Context, tenantID string, fn func(rule, key string) error) error
}

// OpsItemWriter stores OpsItems, their members, resources and timelines.
type OpsItemWriter interface {
	CreateOpsItem(ctx context.Context, o OpsItem) error
	UpdateOpsItem(ctx context.Context, o OpsItem) error
	PutOpsItemMember(ctx context.Context, m OpsItemMember) error
	// DeleteOpsItemMember removes a member alert from an OpsItem (a person
	// moving it to another); ErrNotFound when it is not a member.
	DeleteOpsItemMember(ctx context.Context, tenantID, opsItemID, fingerprint string) error
	AddOpsItemResource(ctx context.Context, tenantID, opsItemID string, r OpsItemResource) error
	AddTimeline(ctx context.Context, e TimelineEntry) error
}
