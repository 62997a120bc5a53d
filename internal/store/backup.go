package store

import (
	"context"
	"errors"
	"time"
)

// ErrImmutable is returned for a change the recovery point's immutability
// window forbids.
var ErrImmutable = errors.New("within the immutability window")

// BackupReader holds the queries over the backup catalogue: recovery
// points and restore tests (internal/backup).
type BackupReader interface {
	GetRecoveryPoint(ctx context.Context, tenantID, id string) (RecoveryPoint, error)
	// ListRecoveryPoints lists a tenant's points, newest first, of one
	// plan and one resource when they are given.
	ListRecoveryPoints(ctx context.Context, tenantID string, f RecoveryPointFilter, page Page) ([]RecoveryPoint, string, error)
	// ListRestoreTests lists a tenant's restore tests of one plan (every
	// plan when plan is ""), newest first.
	ListRestoreTests(ctx context.Context, tenantID, plan string, page Page) ([]RestoreTest, string, error)
}

// BackupWriter holds their writes.
type BackupWriter interface {
	CreateRecoveryPoint(ctx context.Context, p RecoveryPoint) error
	// UpdateRecoveryPoint saves a point's status, verification and
	// expiry. It never moves ImmutableUntil earlier, nor ExpiresAt before
	// ImmutableUntil, nor deletes a point (status deleted) before
	// ImmutableUntil: the database keeps the immutability window whatever
	// the caller asks (ErrImmutable).
	UpdateRecoveryPoint(ctx context.Context, p RecoveryPoint) error
	CreateRestoreTest(ctx context.Context, r RestoreTest) error
}

// Recovery point statuses.
const (
	PointAvailable = "available"
	PointFailed    = "failed"
	PointDeleted   = "deleted"
)

// Recovery point verification states.
const (
	VerifyNone   = "unverified"
	VerifyPassed = "verified"
	VerifyFailed = "failed"
)

// RecoveryPoint is one backup of one resource: what a restore starts from.
type RecoveryPoint struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	Plan       string `json:"plan"`
	Rule       string `json:"rule"`
	ResourceID string `json:"resource_id"`
	// Method is restic or postgres.
	Method string `json:"method"`
	// Repository is where the point's data lives (a restic repository, a
	// dump directory on the host); Location names the point in it (a
	// restic snapshot ID, a dump file).
	Repository string        `json:"repository"`
	Location   string        `json:"location"`
	CreatedAt  time.Time     `json:"created_at"`
	Duration   time.Duration `json:"duration"`
	SizeBytes  int64         `json:"size_bytes"`
	// Checksum sums the point's content (SHA-256, hex); Manifest holds
	// what a restore test checks against (per table rows and checksums,
	// per file checksums), as the method wrote it.
	Checksum string         `json:"checksum"`
	Manifest map[string]any `json:"manifest,omitempty"`
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	// Verification is unverified, verified or failed (the last restore
	// test of this point).
	Verification string     `json:"verification"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	// ExpiresAt is when retention deletes the point; ImmutableUntil is
	// before it nothing can delete it or shorten its retention.
	ExpiresAt      time.Time  `json:"expires_at"`
	ImmutableUntil time.Time  `json:"immutable_until"`
	DeletedAt      *time.Time `json:"deleted_at,omitempty"`
	OpsItemID      string     `json:"opsitem_id,omitempty"`
}

// RecoveryPointFilter narrows ListRecoveryPoints.
type RecoveryPointFilter struct {
	Plan, ResourceID, Status string
	// ExpiredBy lists only points not yet deleted (available or failed)
	// whose ExpiresAt is at or before it.
	ExpiredBy *time.Time
}

// RestoreTest is one restore of a recovery point into a scratch place and
// the validation of what came back.
type RestoreTest struct {
	ID         string    `json:"id"`
	TenantID   string    `json:"tenant"`
	Plan       string    `json:"plan"`
	PointID    string    `json:"point_id"`
	ResourceID string    `json:"resource_id"`
	StartedAt  time.Time `json:"started_at"`
	// Duration is the restore's measured time to recover (RTO).
	Duration time.Duration `json:"duration"`
	// Status is passed or failed.
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	OpsItemID string `json:"opsitem_id,omitempty"`
}
