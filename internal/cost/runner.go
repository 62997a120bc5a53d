package cost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The runbooks a schedule starts, by resource kind (content/runbooks).
const (
	RunbookHost = "schedule-host-units"
	RunbookEC2  = "schedule-ec2-instance"
	RunbookRDS  = "schedule-rds-instance"
)

// Options configure a Runner.
type Options struct {
	Store store.Store
	// Starter starts the stop and start runbooks (the executor).
	Starter runbook.Starter
	// Schedules are the compiled ResourceSchedule content.
	Schedules []*Schedule
	Prices    *Prices // default BuiltinPrices
	Logger    *slog.Logger
	Clock     func() time.Time // default time.Now
	// TickEvery is how often the leader reconciles (default 1m).
	TickEvery time.Duration
	// WasteEvery is how often the tick runs the waste checks (default
	// 1h); Waste sets their thresholds.
	WasteEvery time.Duration
	Waste      WasteOptions
}

// Runner reconciles resource schedules: at each tick it compares the
// state each schedule wants for each target with the one it last set
// and starts the runbook that stops or starts it.
type Runner struct {
	o         Options
	schedules atomic.Pointer[[]*Schedule] // o.Schedules until SetSchedules
	log       *slog.Logger
	now       func() time.Time
	mu        sync.Mutex
	lastWaste time.Time
}

// CompileSet compiles the ResourceSchedule items of a content set.
func CompileSet(set *content.Set) ([]*Schedule, error) {
	var out []*Schedule
	var errs []error
	for _, it := range set.Items(KindName) {
		s, err := Compile(it.Tenant, it.Name, it.Spec.(*Spec))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", KindName, it.Name, err))
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// New returns a Runner; Register its job before the queue starts.
func New(o Options) (*Runner, error) {
	if o.Store == nil || o.Starter == nil {
		return nil, errors.New("cost: store and starter are required")
	}
	if o.Prices == nil {
		o.Prices = BuiltinPrices()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TickEvery == 0 {
		o.TickEvery = time.Minute
	}
	if o.WasteEvery == 0 {
		o.WasteEvery = time.Hour
	}
	clock := o.Clock
	r := &Runner{o: o, log: o.Logger, now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }}
	r.schedules.Store(&o.Schedules)
	return r, nil
}

// Prices is the runner's price table.
func (r *Runner) Prices() *Prices { return r.o.Prices }

// TickArgs is the periodic job that reconciles every schedule.
type TickArgs struct{}

// Kind implements river.JobArgs.
func (TickArgs) Kind() string { return "resource_schedule_tick" }

// InsertOpts implements river.JobArgsWithInsertOpts: the next tick does
// a failed one's work.
func (TickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// Register adds the tick as a periodic job of the queue, which runs
// periodic jobs on its elected leader only — the same timing and
// leadership maintenance windows use.
func (r *Runner) Register(q *jobs.Queue) error {
	return jobs.AddTick(q, r.o.TickEvery, TickArgs{}, r.Tick)
}

// SetSchedules puts schedules in force (a content reload); a tick in
// progress finishes with the ones it started with.
func (r *Runner) SetSchedules(schedules []*Schedule) { r.schedules.Store(&schedules) }

// Schedules returns the schedules that apply to tenant (its own and the
// unscoped ones), by name.
func (r *Runner) Schedules(tenant string) []*Schedule {
	var out []*Schedule
	for _, s := range *r.schedules.Load() {
		if s.Tenant == "" || s.Tenant == tenant {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Schedule returns the named schedule of tenant.
func (r *Runner) Schedule(tenant, name string) (*Schedule, bool) {
	for _, s := range r.Schedules(tenant) {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Tick reconciles every tenant's schedules and, every WasteEvery, opens
// OpsItems for new waste findings.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.now()
	r.mu.Lock()
	waste := now.Sub(r.lastWaste) >= r.o.WasteEvery
	if waste {
		r.lastWaste = now
	}
	r.mu.Unlock()
	var errs []error
	err := eachTenant(ctx, r.o.Store, func(tenant string) {
		if _, err := r.Reconcile(ctx, tenant, now, false); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
		if waste {
			if _, err := r.Findings(ctx, tenant, now, r.o.Waste); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: waste: %w", tenant, err))
			}
		}
	})
	if err := errors.Join(append(errs, err)...); err != nil {
		r.log.WarnContext(ctx, "resource schedule tick", "error", err)
		return err
	}
	return nil
}

func eachTenant(ctx context.Context, st store.Reader, fn func(string)) error {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		ts, next, err := st.ListTenants(ctx, page)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fn(t.ID)
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}

// Step is what reconciling did (or, in a dry run, would do) to one
// target of one schedule.
type Step struct {
	Schedule    string `json:"schedule"`
	ResourceID  string `json:"resource_id"`
	Resource    string `json:"resource"`
	Kind        string `json:"kind"`
	Want        string `json:"want"`
	Reason      string `json:"reason"`
	Observed    string `json:"observed,omitempty"`
	Action      string `json:"action"` // stop, start, retain, record, none
	Runbook     string `json:"runbook,omitempty"`
	ExecutionID string `json:"execution_id,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Target is one resource a schedule runs, as the inventory describes it.
type Target struct {
	Resource store.Resource
	Described
}

// Targets lists the inventory resources schedule s applies to in tenant:
// hosts (when the schedule names units), EC2 and RDS instances.
func (r *Runner) Targets(ctx context.Context, tenant string, s *Schedule) ([]Target, error) {
	var out []Target
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		rs, next, err := r.o.Store.ListResources(ctx, tenant, store.ResourceFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, res := range rs {
			d := Describe(res)
			if !s.Targets(res.Tags) || (d.Kind != KindEC2 && d.Kind != KindRDS && d.Kind != KindHost) {
				continue
			}
			out = append(out, Target{Resource: res, Described: d})
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource.ID < out[j].Resource.ID })
	return out, nil
}

// observed maps a resource's reported state onto running or stopped
// ("" when unknown or in between).
func observed(d Described) string {
	switch strings.ToLower(d.State) {
	case "running", "available", "active":
		return Running
	case "stopped", "inactive":
		return Stopped
	}
	return ""
}

// Reconcile brings tenant's targets to the state their schedules want at
// now; dryRun reports the steps without starting or recording anything.
func (r *Runner) Reconcile(ctx context.Context, tenant string, now time.Time, dryRun bool) ([]Step, error) {
	var steps []Step
	var errs []error
	for _, s := range r.Schedules(tenant) {
		targets, err := r.Targets(ctx, tenant, s)
		if err != nil {
			return steps, err
		}
		states, err := r.o.Store.ListScheduleStates(ctx, tenant, s.Name)
		if err != nil {
			return steps, err
		}
		prev := map[string]store.ScheduleState{}
		for _, st := range states {
			prev[st.ResourceID] = st
		}
		dec := s.At(now)
		for _, t := range targets {
			p, had := prev[t.Resource.ID]
			step := r.decide(s, t, dec, p, had)
			if step.Action != "none" && !dryRun {
				if err := r.apply(ctx, tenant, s, t, &step, now); err != nil {
					errs = append(errs, fmt.Errorf("schedule %s, resource %s: %w", s.Name, t.Resource.ID, err))
				}
			}
			steps = append(steps, step)
		}
	}
	return steps, errors.Join(errs...)
}

// decide is the state machine: act when the wanted state differs from
// the one last set (or, enforced, from the one observed); leave a
// resource that was already running when its period began running at the
// end (retain_running).
func (r *Runner) decide(s *Schedule, t Target, dec Decision, p store.ScheduleState, had bool) Step {
	step := Step{Schedule: s.Name, ResourceID: t.Resource.ID, Resource: t.Resource.Name, Kind: t.Kind, Want: dec.State, Reason: dec.Reason,
		Observed: observed(t.Described), Action: "none"}
	if t.Kind == KindHost && len(s.Spec.Units) == 0 {
		step.Error = "the schedule names no units to stop on a host"
		return step
	}
	// Drift counts only on an observation newer than the last action: a
	// stop in flight is not a drift.
	drifted := s.Spec.Enforced && step.Observed != "" && step.Observed != dec.State && t.Resource.UpdatedAt.After(p.ChangedAt)
	switch {
	case had && p.State == dec.State && !drifted:
		return step
	case dec.State == Stopped && had && p.Retained:
		step.Action, step.Reason = "record", "retained: it was running when the period began"
	case dec.State == Running && s.Spec.RetainRunning && step.Observed == Running:
		step.Action, step.Reason = "retain", dec.Reason+"; already running"
	case !had && step.Observed == dec.State:
		step.Action = "record"
	case dec.State == Stopped:
		step.Action = "stop"
	default:
		step.Action = "start"
	}
	return step
}

// apply starts the step's runbook and records the new state in one
// transaction, with its audit record.
func (r *Runner) apply(ctx context.Context, tenant string, s *Schedule, t Target, step *Step, now time.Time) error {
	state := store.ScheduleState{TenantID: tenant, Schedule: s.Name, ResourceID: t.Resource.ID, State: step.Want, Reason: step.Reason,
		Retained: step.Action == "retain", ChangedAt: now}
	return r.o.Store.InTx(ctx, func(tx store.Tx) error {
		if step.Action == "stop" || step.Action == "start" {
			req := startRequest(tenant, s, t, step.Action)
			step.Runbook = req.Runbook
			id, err := r.o.Starter.Start(ctx, tx, req)
			if err != nil && !errors.Is(err, runbook.ErrNoTarget) {
				return err
			}
			if err != nil {
				step.Error, state.Error = err.Error(), err.Error()
			}
			step.ExecutionID, state.ExecutionID = id, id
		}
		if err := tx.PutScheduleState(ctx, state); err != nil {
			return err
		}
		result := "ok"
		if step.Error != "" {
			result = "failed: " + step.Error
		}
		_, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: "schedule:" + s.Name, Action: "schedule." + step.Action,
			Target: "resource/" + t.Resource.ID, Result: result,
			Detail: map[string]any{"want": step.Want, "reason": step.Reason, "execution": step.ExecutionID, "runbook": step.Runbook}})
		return err
	})
}

func startRequest(tenant string, s *Schedule, t Target, action string) runbook.StartRequest {
	req := runbook.StartRequest{TenantID: tenant, Mode: runbook.ModeAuto, StartedBy: "schedule:" + s.Name}
	switch t.Kind {
	case KindHost:
		req.Runbook, req.Targets = RunbookHost, []string{t.Resource.ID}
		req.Parameters = map[string]any{"units": strings.Join(s.Spec.Units, " "), "state": action}
	case KindEC2:
		req.Runbook = RunbookEC2
		req.Parameters = map[string]any{"instance_id": t.CloudID, "region": t.Region, "state": action}
	case KindRDS:
		req.Runbook = RunbookRDS
		req.Parameters = map[string]any{"db_instance": t.CloudID, "region": t.Region, "state": action}
	}
	return req
}
