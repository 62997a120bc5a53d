package cost

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// HoursPerMonth is AWS's billing month (365 × 24 / 12).
const HoursPerMonth = 730

// WasteOptions are the thresholds of the waste checks.
type WasteOptions struct {
	// SnapshotAge makes a snapshot old (default 90 days).
	SnapshotAge time.Duration
	// Window is how far back utilisation is read (default 14 days), and
	// MinSamples how many samples it needs to judge (default 24).
	Window     time.Duration
	MinSamples int
	// IdleCPU: an instance whose CPU stays below it (95th percentile) is
	// idle (default 5 %); OversizedCPU and OversizedMemory: below both it
	// could be a size smaller (defaults 20 % and 30 %).
	IdleCPU, OversizedCPU, OversizedMemory float64
}

func (o WasteOptions) withDefaults() WasteOptions {
	if o.SnapshotAge == 0 {
		o.SnapshotAge = 90 * 24 * time.Hour
	}
	if o.Window == 0 {
		o.Window = 14 * 24 * time.Hour
	}
	if o.MinSamples == 0 {
		o.MinSamples = 24
	}
	if o.IdleCPU == 0 {
		o.IdleCPU = 5
	}
	if o.OversizedCPU == 0 {
		o.OversizedCPU = 20
	}
	if o.OversizedMemory == 0 {
		o.OversizedMemory = 30
	}
	return o
}

// Metrics sampled per resource (package forecast's sampler records them
// from agents' reports).
const (
	MetricCPU    = "cpu_percent"
	MetricMemory = "memory_used_percent"
)

// Waste checks tenant's inventory and returns its waste findings, each
// with the monthly savings of acting on it:
//
//   - an EBS volume attached to nothing (its monthly price);
//   - a snapshot older than SnapshotAge (its size at the snapshot price:
//     an upper bound, as snapshots are incremental);
//   - a stopped instance keeping volumes that no resource schedule stops
//     on purpose (its volumes' monthly price);
//   - an idle instance: CPU below IdleCPU at the 95th percentile over the
//     window (its monthly on-demand price);
//   - an oversized one: below OversizedCPU and OversizedMemory, with the
//     next smaller size of its family as the suggestion (the difference).
func (r *Runner) Waste(ctx context.Context, tenant string, now time.Time, o WasteOptions) ([]Finding, error) {
	o = o.withDefaults()
	var all []store.Resource
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		rs, next, err := r.o.Store.ListResources(ctx, tenant, store.ResourceFilter{}, page)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	volumes := map[string]Described{}
	for _, res := range all {
		if d := Describe(res); d.Kind == "volume" {
			volumes[d.CloudID] = d
		}
	}
	scheduled := func(tags map[string]string) bool {
		for _, s := range r.Schedules(tenant) {
			if s.Targets(tags) {
				return true
			}
		}
		return false
	}
	p := r.o.Prices
	var out []Finding
	for _, res := range all {
		d := Describe(res)
		switch {
		case d.Kind == "volume" && len(d.Attached) == 0 && d.State == "available":
			m, _ := p.VolumeMonthly(d.Region, d.Type, d.SizeGB)
			out = append(out, Finding{Key: "unattached-volume/" + res.ID, Kind: "unattached-volume", Resource: res, Severity: "low", MonthlySavings: round2(m),
				Title:       fmt.Sprintf("Volume %s (%g GB %s) is attached to nothing: %s a month", d.CloudID, d.SizeGB, d.Type, money(m, p.Currency)),
				Description: "The volume is available, not in use. Snapshot it if its data matters, then delete it.",
				Data:        map[string]any{"volume": d.CloudID, "size_gb": d.SizeGB, "type": d.Type, "region": d.Region}})
		case d.Kind == "snapshot":
			created, err := time.Parse(time.RFC3339, d.CreatedAt)
			if err != nil || now.Sub(created) < o.SnapshotAge {
				continue
			}
			m, _ := p.SnapshotMonthly(d.Region, d.SizeGB)
			days := int(now.Sub(created).Hours() / 24)
			out = append(out, Finding{Key: "old-snapshot/" + res.ID, Kind: "old-snapshot", Resource: res, Severity: "low", MonthlySavings: round2(m),
				Title:       fmt.Sprintf("Snapshot %s is %d days old: up to %s a month", d.CloudID, days, money(m, p.Currency)),
				Description: "Older than the retention the waste check assumes; delete it unless a backup plan keeps it.",
				Data:        map[string]any{"snapshot": d.CloudID, "age_days": days, "size_gb": d.SizeGB, "region": d.Region}})
		case d.Kind == KindEC2 && d.State == "stopped" && len(d.Attached) > 0 && !scheduled(res.Tags):
			var m float64
			for _, v := range d.Attached {
				if vd, ok := volumes[v]; ok {
					vm, _ := p.VolumeMonthly(vd.Region, vd.Type, vd.SizeGB)
					m += vm
				}
			}
			out = append(out, Finding{Key: "stopped-instance-volumes/" + res.ID, Kind: "stopped-instance-volumes", Resource: res, Severity: "low",
				MonthlySavings: round2(m),
				Title:          fmt.Sprintf("Stopped instance %s keeps %d volume(s): %s a month", d.CloudID, len(d.Attached), money(m, p.Currency)),
				Description:    "A stopped instance still pays for its EBS volumes. Snapshot and terminate it if it is no longer needed.",
				Data:           map[string]any{"instance": d.CloudID, "volumes": d.Attached}})
		case d.Kind == KindEC2 || d.Kind == KindHost:
			f, ok, err := r.utilisation(ctx, tenant, res, d, now, o)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// utilisation judges an instance idle or oversized from its samples.
func (r *Runner) utilisation(ctx context.Context, tenant string, res store.Resource, d Described, now time.Time, o WasteOptions) (Finding, bool, error) {
	since := now.Add(-o.Window)
	cpu, err := r.o.Store.ListMetricSamples(ctx, tenant, res.ID, MetricCPU, since, 100000)
	if err != nil || len(cpu) < o.MinSamples {
		return Finding{}, false, err
	}
	mem, err := r.o.Store.ListMetricSamples(ctx, tenant, res.ID, MetricMemory, since, 100000)
	if err != nil {
		return Finding{}, false, err
	}
	cpu95, mem95 := p95(cpu), p95(mem)
	hourly, priced := r.o.Prices.Hourly(d.Region, d.Type)
	name := d.CloudID
	if d.Kind == KindHost {
		name = res.Name
	}
	data := map[string]any{"cpu_p95": round2(cpu95), "memory_p95": round2(mem95), "samples": len(cpu), "window_days": o.Window.Hours() / 24,
		"type": d.Type, "region": d.Region}
	if cpu95 < o.IdleCPU {
		m := hourly * HoursPerMonth
		return Finding{Key: "idle-instance/" + res.ID, Kind: "idle-instance", Resource: res, Severity: "medium", MonthlySavings: round2(m), Data: data,
			Title:       fmt.Sprintf("%s is idle: CPU below %.1f %% for %g days%s", name, cpu95, o.Window.Hours()/24, savingsNote(m, priced, r.o.Prices.Currency)),
			Description: "Stop it, put it under a resource schedule, or terminate it if nothing uses it."}, true, nil
	}
	if cpu95 < o.OversizedCPU && len(mem) >= o.MinSamples && mem95 < o.OversizedMemory {
		smaller, ok := r.smaller(d)
		if !ok {
			return Finding{}, false, nil
		}
		sp, _ := r.o.Prices.Hourly(d.Region, smaller)
		m := (hourly - sp) * HoursPerMonth
		data["suggested_type"] = smaller
		return Finding{Key: "oversized-instance/" + res.ID, Kind: "oversized-instance", Resource: res, Severity: "low", MonthlySavings: round2(m), Data: data,
			Title: fmt.Sprintf("%s (%s) is oversized: CPU %.1f %%, memory %.1f %% at the 95th percentile; %s would do%s", name, d.Type, cpu95, mem95,
				smaller, savingsNote(m, true, r.o.Prices.Currency)),
			Description: "Rightsizing: resize the instance to the suggested type in a maintenance window."}, true, nil
	}
	return Finding{}, false, nil
}

var sizes = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"}

// smaller is the next smaller size of an instance's family that the price
// table knows in its region.
func (r *Runner) smaller(d Described) (string, bool) {
	family, size, ok := strings.Cut(d.Type, ".")
	i := slices.Index(sizes, size)
	if !ok || i <= 0 {
		return "", false
	}
	for j := i - 1; j >= 0; j-- {
		t := family + "." + sizes[j]
		if _, ok := r.o.Prices.Hourly(d.Region, t); ok {
			return t, true
		}
	}
	return "", false
}

func p95(s []store.MetricSample) float64 {
	if len(s) == 0 {
		return 0
	}
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = x.Value
	}
	sort.Float64s(v)
	return v[int(math.Ceil(0.95*float64(len(v))))-1]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func money(v float64, currency string) string { return fmt.Sprintf("%.2f %s", v, currency) }

func savingsNote(m float64, priced bool, currency string) string {
	if !priced || m <= 0 {
		return ""
	}
	return "; " + money(m, currency) + " a month"
}

// Findings checks tenant's waste and opens an OpsItem for each new
// finding; it returns how many it opened.
func (r *Runner) Findings(ctx context.Context, tenant string, now time.Time, o WasteOptions) (int, error) {
	fs, err := r.Waste(ctx, tenant, now, o)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range fs {
		opened, err := Open(ctx, r.o.Store, tenant, f, now)
		if err != nil {
			return n, err
		}
		if opened {
			n++
		}
	}
	return n, nil
}
