package store

import (
	"context"
	"time"
)

// PrometheusConnection is a tenant's Prometheus: where package promsource
// reads hosts' disk, memory and CPU series.
type PrometheusConnection struct {
	TenantID string `json:"tenant"`
	// URL is the server's base URL.
	URL string `json:"url"`
	// TokenEnv names the FLYWHEEL_* environment variable holding a bearer
	// token ("" for none); the token itself is never stored.
	TokenEnv  string    `json:"token_env,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PrometheusReader reads tenants' Prometheus connections.
type PrometheusReader interface {
	// GetPrometheusConnection returns ErrNotFound when the tenant has none.
	GetPrometheusConnection(ctx context.Context, tenantID string) (PrometheusConnection, error)
}

// PrometheusWriter writes them.
type PrometheusWriter interface {
	// PutPrometheusConnection creates or replaces the tenant's connection
	// (keeping its creation time).
	PutPrometheusConnection(ctx context.Context, c PrometheusConnection) error
	// DeletePrometheusConnection returns ErrNotFound when there is none.
	DeletePrometheusConnection(ctx context.Context, tenantID string) error
}
