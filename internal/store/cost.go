package store

import (
	"context"
	"time"
)

// CostReader holds the queries of resource schedules, metric samples and
// cost findings (packages cost and capacity).
type CostReader interface {
	// ListScheduleStates lists the states a schedule set on its targets
	// (every schedule's when schedule is ""), by schedule and resource.
	ListScheduleStates(ctx context.Context, tenantID, schedule string) ([]ScheduleState, error)
	// ListMetricSamples returns a series' samples at or after since,
	// oldest first, at most limit.
	ListMetricSamples(ctx context.Context, tenantID, resourceID, metric string, since time.Time, limit int) ([]MetricSample, error)
	// ListMetricSeries lists a tenant's series (resource and metric).
	ListMetricSeries(ctx context.Context, tenantID string) ([]MetricSeries, error)
	// ListCostFindings lists the findings that opened OpsItems.
	ListCostFindings(ctx context.Context, tenantID string) ([]CostFinding, error)
}

// CostWriter holds their writes.
type CostWriter interface {
	PutScheduleState(ctx context.Context, s ScheduleState) error
	// AddMetricSamples stores samples; one already stored (same series
	// and instant) is left as it is.
	AddMetricSamples(ctx context.Context, s []MetricSample) error
	// PruneMetricSamples deletes every tenant's samples older than before.
	PruneMetricSamples(ctx context.Context, before time.Time) (int64, error)
	// PutCostFinding records the OpsItem of a finding; ErrConflict when
	// the key has one already.
	PutCostFinding(ctx context.Context, f CostFinding) error
	DeleteCostFinding(ctx context.Context, tenantID, key string) error
}

// ScheduleState is what a resource schedule last did to one target.
type ScheduleState struct {
	TenantID    string    `json:"tenant"`
	Schedule    string    `json:"schedule"`
	ResourceID  string    `json:"resource_id"`
	State       string    `json:"state"` // running or stopped
	Reason      string    `json:"reason,omitempty"`
	Retained    bool      `json:"retained,omitempty"`
	ExecutionID string    `json:"execution_id,omitempty"`
	Error       string    `json:"error,omitempty"`
	ChangedAt   time.Time `json:"changed_at"`
}

// MetricSample is one observation of a resource's metric
// ("disk_used_percent:/", "memory_used_percent").
type MetricSample struct {
	TenantID   string    `json:"tenant"`
	ResourceID string    `json:"resource_id"`
	Metric     string    `json:"metric"`
	At         time.Time `json:"at"`
	Value      float64   `json:"value"`
}

// MetricSeries names one series.
type MetricSeries struct {
	ResourceID string `json:"resource_id"`
	Metric     string `json:"metric"`
}

// CostFinding is a waste or forecast finding that opened an OpsItem.
type CostFinding struct {
	TenantID       string    `json:"tenant"`
	Key            string    `json:"key"`
	Kind           string    `json:"kind"`
	ResourceID     string    `json:"resource_id"`
	OpsItemID      string    `json:"opsitem_id"`
	MonthlySavings float64   `json:"monthly_savings"`
	CreatedAt      time.Time `json:"created_at"`
}
