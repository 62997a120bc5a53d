package forecast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Metric names: a disk's used percentage by mount point, and memory's.
const (
	DiskPrefix   = "disk_used_percent:"
	MetricMemory = cost.MetricMemory
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	Store  store.Store
	Logger *slog.Logger
	Clock  func() time.Time
	// TickEvery is how often the leader samples and forecasts (default 10m).
	TickEvery time.Duration
	// DiskThreshold and MemoryThreshold are the percentages a forecast
	// warns before (defaults 90 and 95).
	DiskThreshold, MemoryThreshold float64
	// Horizon: a crossing further off opens nothing (default 7 days).
	Horizon time.Duration
	// History is how far back a fit reads, and how long samples are kept
	// (default 14 days).
	History time.Duration
	// MinHistory is how long a series must have been sampled before its
	// forecast opens an OpsItem (default 24h): a new host's first hours
	// say little.
	MinHistory time.Duration
	Model      Options
	// Sources are series sources besides the agents' inventory (a
	// tenant's Prometheus: package promsource); their samples are kept
	// with the inventory's, so forecasts and the waste checks read both.
	Sources []Source
}

// Source yields a tenant's metric samples over (since, now].
type Source interface {
	Samples(ctx context.Context, tenant string, since, now time.Time) ([]store.MetricSample, error)
}

// Engine samples agents' disk and memory usage from the inventory, fits
// each series and opens an OpsItem when one will cross its threshold
// within the horizon.
type Engine struct {
	o   EngineOptions
	log *slog.Logger
	now func() time.Time
}

// NewEngine returns an Engine; Register its job before the queue starts.
func NewEngine(o EngineOptions) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("forecast: a store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TickEvery == 0 {
		o.TickEvery = 10 * time.Minute
	}
	if o.DiskThreshold == 0 {
		o.DiskThreshold = 90
	}
	if o.MemoryThreshold == 0 {
		o.MemoryThreshold = 95
	}
	if o.Horizon == 0 {
		o.Horizon = 7 * 24 * time.Hour
	}
	if o.History == 0 {
		o.History = 14 * 24 * time.Hour
	}
	if o.MinHistory == 0 {
		o.MinHistory = 24 * time.Hour
	}
	clock := o.Clock
	return &Engine{o: o, log: o.Logger, now: func() time.Time { return clock().UTC().Truncate(time.Second) }}, nil
}

// TickArgs is the periodic job that samples and forecasts.
type TickArgs struct{}

// Kind implements river.JobArgs.
func (TickArgs) Kind() string { return "capacity_forecast_tick" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (TickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// Register adds the tick as a periodic job, run on the queue's elected
// leader only.
func (e *Engine) Register(q *jobs.Queue) error {
	return jobs.AddTick(q, e.o.TickEvery, TickArgs{}, e.Tick)
}

// Tick samples every tenant's hosts, forecasts their series, opens the
// OpsItems due, and prunes samples older than History.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.now()
	var errs []error
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		ts, next, err := e.o.Store.ListTenants(ctx, page)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := e.Sample(ctx, t.ID, now); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: sample: %w", t.ID, err))
			}
			if _, err := e.Warn(ctx, t.ID, now); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: forecast: %w", t.ID, err))
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if err := e.o.Store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.PruneMetricSamples(ctx, now.Add(-e.o.History))
		return err
	}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// HostSamples reads the samples an agent's inventory (the host
// resource's configuration) holds: each disk's used_percent by mount
// point, memory used from total and available bytes, and CPU from the
// load section's one-minute load over the CPU count.
func HostSamples(res store.Resource, at time.Time) []store.MetricSample {
	var inv struct {
		Disks []struct {
			Mount       string   `json:"mount"`
			UsedPercent *float64 `json:"used_percent"`
		} `json:"disks"`
		Memory struct {
			Total     float64 `json:"total_bytes"`
			Available float64 `json:"available_bytes"`
		} `json:"memory"`
		Load struct {
			Load1 *float64 `json:"load1"`
			CPUs  float64  `json:"cpus"`
		} `json:"load"`
	}
	if json.Unmarshal(res.Config, &inv) != nil {
		return nil
	}
	s := func(metric string, v float64) store.MetricSample {
		return store.MetricSample{TenantID: res.TenantID, ResourceID: res.ID, Metric: metric, At: at, Value: math.Round(v*100) / 100}
	}
	var out []store.MetricSample
	for _, d := range inv.Disks {
		if d.UsedPercent != nil && d.Mount != "" {
			out = append(out, s(DiskPrefix+d.Mount, *d.UsedPercent))
		}
	}
	if inv.Memory.Total > 0 {
		out = append(out, s(MetricMemory, 100*(inv.Memory.Total-inv.Memory.Available)/inv.Memory.Total))
	}
	if inv.Load.Load1 != nil && inv.Load.CPUs > 0 {
		out = append(out, s(cost.MetricCPU, math.Min(100, 100**inv.Load.Load1/inv.Load.CPUs)))
	}
	return out
}

// Sample records a sample of each host's series at now, and what each of
// the Sources holds since the previous tick.
func (e *Engine) Sample(ctx context.Context, tenant string, now time.Time) error {
	var all []store.MetricSample
	var errs []error
	for _, src := range e.o.Sources {
		s, err := src.Samples(ctx, tenant, now.Add(-e.o.TickEvery), now)
		if err != nil {
			errs = append(errs, err)
		}
		all = append(all, s...)
	}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		hosts, next, err := e.o.Store.ListResources(ctx, tenant, store.ResourceFilter{Type: fleet.ResourceTypeHost}, page)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			all = append(all, HostSamples(h, now)...)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if len(all) == 0 {
		return errors.Join(errs...)
	}
	errs = append(errs, e.o.Store.InTx(ctx, func(tx store.Tx) error { return tx.AddMetricSamples(ctx, all) }))
	return errors.Join(errs...)
}

// Forecast is one series' outlook.
type Forecast struct {
	ResourceID  string     `json:"resource_id"`
	Resource    string     `json:"resource"`
	Metric      string     `json:"metric"`
	Last        float64    `json:"last"`
	LastAt      time.Time  `json:"last_at"`
	Threshold   float64    `json:"threshold"`
	SlopePerDay float64    `json:"slope_per_day"`
	Crossing    *time.Time `json:"crossing,omitempty"`
	Samples     []Sample   `json:"samples,omitempty"`
	Model       *Model     `json:"-"`
}

// Threshold is the percentage a metric warns before.
func (e *Engine) Threshold(metric string) (float64, bool) {
	switch {
	case strings.HasPrefix(metric, DiskPrefix):
		return e.o.DiskThreshold, true
	case metric == MetricMemory:
		return e.o.MemoryThreshold, true
	}
	return 0, false
}

// Forecasts fits each of tenant's disk and memory series (only
// resourceID's when not "").
func (e *Engine) Forecasts(ctx context.Context, tenant, resourceID string, now time.Time) ([]Forecast, error) {
	series, err := e.o.Store.ListMetricSeries(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var out []Forecast
	for _, s := range series {
		th, ok := e.Threshold(s.Metric)
		if !ok || (resourceID != "" && s.ResourceID != resourceID) {
			continue
		}
		rows, err := e.o.Store.ListMetricSamples(ctx, tenant, s.ResourceID, s.Metric, now.Add(-e.o.History), 100000)
		if err != nil {
			return nil, err
		}
		samples := make([]Sample, len(rows))
		for i, r := range rows {
			samples[i] = Sample{At: r.At, Value: r.Value}
		}
		f := Forecast{ResourceID: s.ResourceID, Metric: s.Metric, Threshold: th, Samples: samples}
		if len(samples) > 0 {
			f.Last, f.LastAt = samples[len(samples)-1].Value, samples[len(samples)-1].At
		}
		if res, err := e.o.Store.GetResource(ctx, tenant, s.ResourceID); err == nil {
			f.Resource = res.Name
		}
		if m, err := Fit(samples, e.o.Model); err == nil {
			f.Model, f.SlopePerDay = m, math.Round(m.Slope*24*100)/100
			if at, ok := m.Crossing(th, e.o.Horizon); ok {
				f.Crossing = &at
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Crossing == nil) != (out[j].Crossing == nil) {
			return out[i].Crossing != nil
		}
		if out[i].Crossing != nil && !out[i].Crossing.Equal(*out[j].Crossing) {
			return out[i].Crossing.Before(*out[j].Crossing)
		}
		return out[i].ResourceID+out[i].Metric < out[j].ResourceID+out[j].Metric
	})
	return out, nil
}

// Warn opens an OpsItem for each series forecast to cross its threshold
// within the horizon, and not yet past it: prevention, not reaction. It
// suggests the disk-cleanup runbook for a disk. It returns how many it
// opened.
func (e *Engine) Warn(ctx context.Context, tenant string, now time.Time) (int, error) {
	fs, err := e.Forecasts(ctx, tenant, "", now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range fs {
		if f.Crossing == nil || f.Last >= f.Threshold || f.LastAt.Sub(f.Samples[0].At) < e.o.MinHistory {
			continue
		}
		res, err := e.o.Store.GetResource(ctx, tenant, f.ResourceID)
		if err != nil {
			continue
		}
		in := f.Crossing.Sub(now)
		what, suggestion := "memory", "Find the process that grows (collect-host-diagnostics) or add memory."
		if mount, ok := strings.CutPrefix(f.Metric, DiskPrefix); ok {
			what = "disk " + mount
			suggestion = "Run the disk-cleanup runbook on the host, or resize the volume before it fills."
		}
		sev := "medium"
		if in < 24*time.Hour {
			sev = "high"
		}
		title := fmt.Sprintf("%s on %s %.0f %% full in ~%s", what, res.Name, f.Threshold, About(in))
		opened, err := cost.Open(ctx, e.o.Store, tenant, cost.Finding{Key: "forecast/" + f.ResourceID + "/" + f.Metric, Kind: "forecast", Resource: res,
			Title: title, Severity: sev,
			Description: fmt.Sprintf("At %.1f %% now and growing %.2f points a day, %s is forecast to reach %.0f %% at %s. %s",
				f.Last, f.SlopePerDay, what, f.Threshold, f.Crossing.Format(time.RFC3339), suggestion),
			Data: map[string]any{"metric": f.Metric, "last": f.Last, "threshold": f.Threshold, "crossing": f.Crossing,
				"slope_per_day": f.SlopePerDay, "suggested_runbook": map[bool]string{true: "disk-cleanup", false: "collect-host-diagnostics"}[strings.HasPrefix(f.Metric, DiskPrefix)]}}, now)
		if err != nil {
			return n, err
		}
		if opened {
			n++
		}
	}
	return n, nil
}

// About renders a lead time as people say it: "3 days", "5 hours".
func About(d time.Duration) string {
	switch h := d.Hours(); {
	case h >= 36:
		return fmt.Sprintf("%.0f days", math.Round(h/24))
	case h >= 1.5:
		return fmt.Sprintf("%.0f hours", math.Round(h))
	default:
		return fmt.Sprintf("%.0f minutes", math.Max(1, math.Round(d.Minutes())))
	}
}
