package store

import (
	"context"
	"time"
)

// PackFile is one file of an installed pack.
type PackFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// PackInstallation is a service pack installed for a tenant: its files
// become that tenant's content on every replica.
type PackInstallation struct {
	TenantID string `json:"tenant"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	// Digest is the SHA-256 of Files (package pack).
	Digest      string     `json:"digest"`
	Files       []PackFile `json:"files,omitempty"`
	InstalledAt time.Time  `json:"installed_at"`
	InstalledBy string     `json:"installed_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// PackReader reads installed packs.
type PackReader interface {
	// ListPackInstallations returns the tenant's installed packs by name.
	ListPackInstallations(ctx context.Context, tenantID string) ([]PackInstallation, error)
	// ListAllPackInstallations returns every tenant's, by tenant then
	// name: the server loads them all as content.
	ListAllPackInstallations(ctx context.Context) ([]PackInstallation, error)
	// GetPackInstallation returns ErrNotFound when the tenant has not
	// installed the pack.
	GetPackInstallation(ctx context.Context, tenantID, name string) (PackInstallation, error)
}

// PackWriter writes them.
type PackWriter interface {
	// PutPackInstallation installs or replaces the tenant's pack (keeping
	// its first installation's time and actor).
	PutPackInstallation(ctx context.Context, p PackInstallation) error
	// DeletePackInstallation returns ErrNotFound when there is none.
	DeletePackInstallation(ctx context.Context, tenantID, name string) error
}
