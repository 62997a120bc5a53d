package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// EventSource is the source of the events evaluation raises; the built-in
// correlation rule compliance-guardrails groups them into one OpsItem per
// rule and account (category guardrails), its resources as members.
const EventSource = "compliance"

// Sink takes the events evaluation raises (the pipeline's intake).
type Sink interface {
	Submit(ctx context.Context, tenant string, ev event.Event) error
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Library returns the current rules and packs (content may reload).
	Library func() *Library
	// Sink takes the events of results that turn NON_COMPLIANT or back;
	// nil raises none.
	Sink Sink
	// Starter starts remediation runbooks; nil remediates nothing.
	Starter runbook.Starter
	// Queue queues re-evaluations after remediations (optional).
	Queue  Enqueuer
	Logger *slog.Logger
	Clock  func() time.Time
	// MaxResources bounds the resources one evaluation reads per tenant.
	MaxResources int // default 200,000
}

// Service evaluates tenants' packs over their inventory and keeps the
// results, history and trend in the store.
type Service struct {
	o Options
}

// NewService returns a Service.
func NewService(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MaxResources <= 0 {
		o.MaxResources = 200_000
	}
	return &Service{o: o}
}

// Outcome of one evaluation.
type RunResult struct {
	Report *Report
	// Changed counts results whose status changed; Remediations the
	// runbooks started.
	Changed      int
	Remediations []string
}

// Evaluate evaluates every pack of tenant over its whole inventory,
// stores results, changes and scores, raises events for results that
// turned NON_COMPLIANT or stopped being so, and starts remediations.
func (s *Service) Evaluate(ctx context.Context, tenant string) (*RunResult, error) {
	return s.evaluate(ctx, tenant, nil)
}

// EvaluateResources re-evaluates only the named resources (an inventory
// change, a Config or CloudTrail event, a finished remediation); scores
// are left to the next full evaluation.
func (s *Service) EvaluateResources(ctx context.Context, tenant string, ids []string) (*RunResult, error) {
	if len(ids) == 0 {
		return &RunResult{}, nil
	}
	return s.evaluate(ctx, tenant, ids)
}

func (s *Service) evaluate(ctx context.Context, tenant string, only []string) (*RunResult, error) {
	now := s.o.Clock().UTC()
	lib := s.o.Library()
	plan := NewPlan(lib.Packs(tenant))
	subjects, err := s.subjects(ctx, tenant, only)
	if err != nil {
		return nil, err
	}
	exc, err := s.exceptions(ctx, tenant)
	if err != nil {
		return nil, err
	}
	res := plan.Evaluate(subjects)
	findings := res.Findings(exc, now)
	out := &RunResult{Report: res.Report(tenant, exc, now)}
	prev, err := s.previous(ctx, tenant, only)
	if err != nil {
		return nil, err
	}

	var results []store.ComplianceResult
	var changes []store.ComplianceChange
	var events []event.Event
	for _, f := range findings {
		key := f.Rule.Name + "/" + f.Resource.ID
		p, seen := prev[key]
		r := store.ComplianceResult{TenantID: tenant, Rule: f.Rule.Name, ResourceID: f.Resource.ID, ResourceType: f.Resource.Type,
			Account: f.Account, Status: string(f.Status), Annotation: f.Annotation, Since: now, EvaluatedAt: now}
		if seen && p.Status == r.Status {
			r.Since = p.Since
		}
		if seen && p.Status == string(NonCompliant) && r.Status == string(NonCompliant) {
			r.RemediationAttempts, r.RemediatedAt, r.ExecutionID = p.RemediationAttempts, p.RemediatedAt, p.ExecutionID
		}
		if !seen || p.Status != r.Status {
			changes = append(changes, store.ComplianceChange{TenantID: tenant, Rule: r.Rule, ResourceID: r.ResourceID,
				From: p.Status, To: r.Status, Annotation: r.Annotation, At: now})
			switch {
			case r.Status == string(NonCompliant):
				events = append(events, findingEvent(f, event.StatusFiring, now))
			case seen && p.Status == string(NonCompliant):
				events = append(events, findingEvent(f, event.StatusResolved, now))
			}
		}
		results = append(results, r)
	}
	out.Changed = len(changes)
	// Events first: a failed submit leaves the state unchanged, so the
	// next evaluation raises them again (the fingerprint makes that
	// idempotent).
	if s.o.Sink != nil {
		for _, ev := range events {
			if err := s.o.Sink.Submit(ctx, tenant, ev); err != nil {
				return nil, fmt.Errorf("compliance event %s: %w", ev.Fingerprint, err)
			}
		}
	}
	err = s.o.Store.InTx(ctx, func(tx store.Tx) error {
		out.Remediations, err = s.remediate(ctx, tx, tenant, findings, results, now)
		if err != nil {
			return err
		}
		if err := tx.PutComplianceResults(ctx, results); err != nil {
			return err
		}
		if _, err := tx.DeleteComplianceResults(ctx, tenant, now, only); err != nil {
			return err
		}
		if err := tx.AddComplianceChanges(ctx, changes); err != nil {
			return err
		}
		if only != nil {
			return nil
		}
		return tx.AddComplianceScores(ctx, scores(out.Report, now))
	})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: store compliance: %w", tenant, err)
	}
	s.o.Logger.Info("compliance evaluated", "tenant", tenant, "resources", len(subjects), "checks", plan.Checks(),
		"changed", out.Changed, "remediations", len(out.Remediations), "compliance_percent", out.Report.Score.Percent)
	return out, nil
}

// subjects reads and prepares the tenant's resources (only those named,
// when only is not nil).
func (s *Service) subjects(ctx context.Context, tenant string, only []string) ([]Subject, error) {
	var rs []store.Resource
	if only != nil {
		for _, id := range only {
			r, err := s.o.Store.GetResource(ctx, tenant, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // gone: its results are deleted
			}
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
	} else {
		for cur := ""; ; {
			page, next, err := s.o.Store.ListResources(ctx, tenant, store.ResourceFilter{}, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
			if err != nil {
				return nil, fmt.Errorf("tenant %s: resources: %w", tenant, err)
			}
			rs = append(rs, page...)
			if cur = next; cur == "" || len(rs) >= s.o.MaxResources {
				break
			}
		}
	}
	out := make([]Subject, 0, len(rs))
	for _, r := range rs {
		subj, err := Prepare(r)
		if err != nil {
			s.o.Logger.Warn("compliance: resource skipped", "tenant", tenant, "resource", r.ID, "err", err)
			continue
		}
		out = append(out, subj)
	}
	return out, nil
}

func (s *Service) exceptions(ctx context.Context, tenant string) ([]store.ComplianceException, error) {
	var out []store.ComplianceException
	for cur := ""; ; {
		page, next, err := s.o.Store.ListComplianceExceptions(ctx, tenant, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		if err != nil {
			return nil, fmt.Errorf("tenant %s: exceptions: %w", tenant, err)
		}
		out = append(out, page...)
		if cur = next; cur == "" {
			return out, nil
		}
	}
}

// previous reads the stored results, by rule/resource.
func (s *Service) previous(ctx context.Context, tenant string, only []string) (map[string]store.ComplianceResult, error) {
	out := map[string]store.ComplianceResult{}
	read := func(f store.ComplianceResultFilter) error {
		for cur := ""; ; {
			page, next, err := s.o.Store.ListComplianceResults(ctx, tenant, f, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
			if err != nil {
				return fmt.Errorf("tenant %s: results: %w", tenant, err)
			}
			for _, r := range page {
				out[r.Rule+"/"+r.ResourceID] = r
			}
			if cur = next; cur == "" {
				return nil
			}
		}
	}
	if only == nil {
		return out, read(store.ComplianceResultFilter{})
	}
	for _, id := range only {
		if err := read(store.ComplianceResultFilter{ResourceID: id}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// remediate starts, per rule in auto or approval mode, the runbook of up
// to max_resources NON_COMPLIANT resources whose attempts are not spent
// and whose last attempt is retry_interval old, and records the attempt
// on their results.
func (s *Service) remediate(ctx context.Context, tx store.Tx, tenant string, findings []Finding, results []store.ComplianceResult, now time.Time) ([]string, error) {
	if s.o.Starter == nil {
		return nil, nil
	}
	var started []string
	perRule := map[string]int{}
	for i, f := range findings {
		rem, r := f.Rule.Remediation, &results[i]
		if f.Status != NonCompliant || rem == nil || rem.Mode == ModeManual || perRule[f.Rule.Name] >= rem.MaxResources ||
			r.RemediationAttempts >= rem.Attempts || (!r.RemediatedAt.IsZero() && now.Sub(r.RemediatedAt) < rem.RetryInterval) {
			continue
		}
		params, err := f.Rule.RemediationParams(f.Resource, f.Params)
		if err != nil {
			s.o.Logger.Warn("compliance: remediation parameters", "rule", f.Rule.Name, "resource", f.Resource.ID, "err", err)
			continue
		}
		mode := runbook.ModeAuto
		if rem.Mode == ModeApproval {
			mode = runbook.ModeApproval
		}
		id, err := s.o.Starter.Start(ctx, tx, runbook.StartRequest{TenantID: tenant, Runbook: rem.Runbook, Parameters: params,
			Targets: []string{f.Resource.ID}, Mode: mode, StartedBy: "compliance:" + f.Rule.Name})
		if errors.Is(err, runbook.ErrNoTarget) {
			s.o.Logger.Warn("compliance: remediation has no target", "rule", f.Rule.Name, "resource", f.Resource.ID, "err", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("remediate %s on %s: %w", f.Rule.Name, f.Resource.ID, err)
		}
		perRule[f.Rule.Name]++
		r.RemediationAttempts++
		r.RemediatedAt, r.ExecutionID = now, id
		started = append(started, id)
	}
	return started, nil
}

// RemediationParams evaluates the rule's remediation parameters for a
// resource.
func (r *Rule) RemediationParams(res store.Resource, params map[string]any) (map[string]any, error) {
	subj, err := Prepare(res)
	if err != nil {
		return nil, err
	}
	act := &activation{resource: subj.val, params: toVal(params)}
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(r.remediation)) {
		v, _, err := r.remediation[k].prg.Eval(act)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		nv, err := v.ConvertToNative(anyType)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// findingEvent is the event of a result that turned NON_COMPLIANT
// (firing) or stopped being so (resolved).
func findingEvent(f Finding, status event.Status, at time.Time) event.Event {
	title := "Guardrail " + f.Rule.Name + " in " + f.Account
	desc := f.Annotation
	if status == event.StatusResolved {
		desc = fmt.Sprintf("%s is %s again", f.Resource.ID, f.Status)
	}
	return event.Event{
		Source: EventSource, Kind: event.KindCompliance, Severity: event.Severity(f.Rule.Severity), Status: status,
		Title: title, Description: desc,
		Resources: []event.ResourceRef{{Type: f.Resource.Type, ID: f.Resource.ID, Account: f.Account}},
		Labels: map[string]string{"config_rule": f.Rule.Name, "account": f.Account, "resource_id": f.Resource.ID,
			"resource_type": f.Resource.Type, "controls": strings.Join(f.Rule.Controls, ",")},
		OccurredAt:  at,
		Fingerprint: "compliance:" + f.Rule.Name + ":" + f.Resource.ID,
	}
}

// scores are a report's scores to store: tenant, packs, controls
// (PACK/CONTROL) and accounts.
func scores(rep *Report, at time.Time) []store.ComplianceScore {
	mk := func(scope, name string, s Score) store.ComplianceScore {
		return store.ComplianceScore{TenantID: rep.Tenant, At: at, Scope: scope, Name: name, Compliant: s.Compliant, NonCompliant: s.NonCompliant, Percent: s.Percent}
	}
	out := []store.ComplianceScore{mk(store.ScopeTenant, "", rep.Score)}
	for _, p := range rep.Packs {
		out = append(out, mk(store.ScopePack, p.Name, p.Score))
		for _, c := range p.Controls {
			var s Score
			for _, r := range c.Resources {
				s.add(r.Status)
			}
			s.finish()
			out = append(out, mk(store.ScopeControl, p.Name+"/"+c.ID, s))
		}
	}
	for _, a := range rep.Accounts {
		out = append(out, mk(store.ScopeAccount, a.Account, a.Score))
	}
	return out
}

// EvaluateArgs is the periodic job that evaluates every tenant (leader
// only, through River's periodic jobs like the fleet's drift check).
type EvaluateArgs struct{}

// Kind implements river.JobArgs.
func (EvaluateArgs) Kind() string { return "compliance_evaluate" }

// InsertOpts implements river.JobArgsWithInsertOpts: one attempt; the next
// period retries anyway.
func (EvaluateArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// EvaluateWorker runs Evaluate for every tenant.
type EvaluateWorker struct {
	river.WorkerDefaults[EvaluateArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *EvaluateWorker) Work(ctx context.Context, _ *river.Job[EvaluateArgs]) error {
	return w.Service.EvaluateAll(ctx)
}

// EvaluateAll evaluates every tenant; one tenant's failure does not stop
// the others.
func (s *Service) EvaluateAll(ctx context.Context) error {
	var errs []error
	for cur := ""; ; {
		ts, next, err := s.o.Store.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		if err != nil {
			return err
		}
		for _, t := range ts {
			if _, err := s.Evaluate(ctx, t.ID); err != nil {
				errs = append(errs, err)
			}
		}
		if cur = next; cur == "" {
			return errors.Join(errs...)
		}
	}
}

// PeriodicEvaluate is the River schedule of EvaluateAll, every interval.
func PeriodicEvaluate(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return EvaluateArgs{}, nil },
		&river.PeriodicJobOpts{ID: EvaluateArgs{}.Kind(), RunOnStart: true})
}

// Enqueuer puts jobs on the queue in the caller's transaction
// (*jobs.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// RecordResult queues a re-evaluation of the resources a remediation ran
// on when its execution ends (execution.ResultRecorder; chain it after
// the rule engine's), in the transaction that records the end. The
// inventory may not show the fix yet; its next change re-evaluates again.
func (s *Service) RecordResult(ctx context.Context, tx store.Tx, e store.Execution) error {
	if !strings.HasPrefix(e.StartedBy, "compliance:") || s.o.Queue == nil {
		return nil
	}
	var targets []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(e.Targets, &targets); err != nil || len(targets) == 0 {
		return nil
	}
	args := ReevaluateArgs{Tenant: e.TenantID}
	for _, t := range targets {
		args.Resources = append(args.Resources, t.ID)
	}
	return s.o.Queue.InsertTx(ctx, tx, args, nil)
}

// ReevaluateArgs is the job that re-evaluates some of a tenant's
// resources.
type ReevaluateArgs struct {
	Tenant    string   `json:"tenant"`
	Resources []string `json:"resources"`
}

// Kind implements river.JobArgs.
func (ReevaluateArgs) Kind() string { return "compliance_reevaluate" }

// ReevaluateWorker runs EvaluateResources.
type ReevaluateWorker struct {
	river.WorkerDefaults[ReevaluateArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *ReevaluateWorker) Work(ctx context.Context, j *river.Job[ReevaluateArgs]) error {
	_, err := w.Service.EvaluateResources(ctx, j.Args.Tenant, j.Args.Resources)
	return err
}
