// Package patch is the `patch` step action: scan a host's packages, or
// install the updates its patch baseline approves, through the host agent.
//
// The agent runs the operation with its own package backend (apt); the
// server decides what to install (internal/patch: the host's patch group,
// baseline, exceptions) and records the host's state after every scan and
// install, which is what compliance reports read. Maintenance windows run
// it as a task (the library's patch-install runbook); an expedite runs it
// for one package after an approval.
package patch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const defaultTimeout = 30 * time.Minute

// leaseMargin is how much longer than the install's timeout a coordinated
// install holds its application's lease, should its server be lost.
const leaseMargin = 5 * time.Minute

// Service is what the action needs of internal/patch.
type Service interface {
	Record(ctx context.Context, tenant, resourceID string, rep wire.PatchReport) (store.PatchState, patch.HostDetail, error)
	Plan(ctx context.Context, tenant, resourceID string, rep wire.PatchReport, only []string) (patch.Plan, error)
	Lock(ctx context.Context, tenant, key, resourceID string, hold time.Duration) (*patch.Lease, error)
}

var _ Service = (*patch.Service)(nil)

// Options configure the action; without a Dispatcher and a Service it
// only validates.
type Options struct {
	Dispatcher exec.Dispatcher
	Service    Service
	// TenantOf returns the tenant of the calling execution.
	TenantOf func(ctx context.Context) string
}

// Action is the patch action.
type Action struct{ o Options }

var _ action.Action = (*Action)(nil)

// New returns the action.
func New(o Options) *Action { return &Action{o: o} }

// Name implements action.Action.
func (*Action) Name() string { return "patch" }

type step struct {
	operation string
	packages  []string
	timeout   time.Duration
}

func parse(r *with.Reader) step {
	r.Require("operation")
	s := step{timeout: defaultTimeout}
	if op, ok := r.String("operation"); ok {
		if op != wire.PatchScan && op != wire.PatchInstall {
			r.Errorf("operation", "%q is not scan or install", op)
		}
		s.operation = op
	}
	if pkgs, ok := r.Strings("packages", true); ok {
		for i, p := range pkgs {
			if !wire.ValidPackageName(p) {
				r.Errorf(fmt.Sprintf("packages[%d]", i), "%q is not a package name", p)
			}
		}
		if s.operation == wire.PatchScan {
			r.Errorf("packages", "is for install only")
		}
		s.packages = pkgs
	}
	if d, ok := r.Duration("timeout"); ok {
		s.timeout = d
	}
	return s
}

// Validate implements action.Action.
func (*Action) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	parse(r)
	return r.Err()
}

// Run implements action.Action.
func (a *Action) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	s := parse(r)
	if err := r.Err(); err != nil {
		return action.Output{}, action.Permanent(fmt.Errorf("patch: %w", err))
	}
	if a.o.Dispatcher == nil || a.o.Service == nil {
		return action.Output{}, errors.New("patch: the host agent and the patch service are not available")
	}
	if in.Target == nil || in.Target.ID == exec.LocalTarget {
		return action.Output{}, action.Permanent(errors.New("patch: the step needs host targets (per_target: true) run by an agent"))
	}
	tenant := ""
	if a.o.TenantOf != nil {
		tenant = a.o.TenantOf(ctx)
	}
	target := in.Target.ID
	var log strings.Builder
	scan, err := a.dispatch(ctx, *in.Target, wire.PatchRequest{Operation: wire.PatchScan}, s.timeout, &log)
	if err != nil {
		return action.Output{Log: log.String()}, err
	}
	st, d, err := a.o.Service.Record(ctx, tenant, target, scan)
	if err != nil {
		return action.Output{Log: log.String()}, err
	}
	if s.operation == wire.PatchScan {
		return output(st, d, log.String()), nil
	}
	var only []string
	if s.packages != nil {
		only = s.packages
	}
	plan, err := a.o.Service.Plan(ctx, tenant, target, scan, only)
	if err != nil {
		return output(st, d, log.String()), err
	}
	if len(plan.Request.Install) == 0 && len(scan.Failed) == 0 {
		fmt.Fprintf(&log, "%s: nothing to install\n", target)
		return output(st, d, log.String()), nil
	}
	var lease *patch.Lease
	if plan.Coordinate != "" {
		// Held through the install, and through the reboot until the
		// host's agent is back: one host of the application at a time.
		if lease, err = a.o.Service.Lock(ctx, tenant, plan.Coordinate, target, s.timeout+leaseMargin); err != nil {
			return output(st, d, log.String()), err
		}
	}
	after, err := a.dispatch(ctx, *in.Target, plan.Request, s.timeout, &log)
	if lease != nil {
		// A host that rebooted, or whose install ended unseen (its agent
		// lost, perhaps to the reboot), keeps the lease until it is back.
		if derr := lease.Done(context.WithoutCancel(ctx), after.Rebooted || err != nil); derr != nil {
			fmt.Fprintf(&log, "%s: %v\n", target, derr)
		}
	}
	if err != nil {
		return output(st, d, log.String()), err
	}
	return a.installed(ctx, tenant, target, after, &log)
}

// installed records a host's state after an install and fails the step
// when a package or a hook failed.
func (a *Action) installed(ctx context.Context, tenant, target string, after wire.PatchReport, log *strings.Builder) (action.Output, error) {
	st, d, err := a.o.Service.Record(ctx, tenant, target, after)
	out := output(st, d, log.String())
	if err != nil {
		return out, err
	}
	var failed []string
	for _, r := range after.InstallResults {
		if r.Status != "installed" {
			failed = append(failed, fmt.Sprintf("%s %s %s: %s", r.Name, r.Version, r.Status, r.Error))
		}
	}
	if after.HookError != "" {
		failed = append(failed, after.HookError)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("patch: %s", strings.Join(failed, "; "))
	}
	return out, nil
}

// dispatch runs one operation on the target's agent and reads its report.
func (a *Action) dispatch(ctx context.Context, t action.Target, req wire.PatchRequest, timeout time.Duration, log *strings.Builder) (wire.PatchReport, error) {
	res, err := a.o.Dispatcher.Dispatch(ctx, t, exec.Command{Patch: &req, Timeout: timeout})
	fmt.Fprintf(log, "%s: patch %s (%d packages): exit %d after %s\n", t.ID, req.Operation, len(req.Install), res.ExitCode, res.Duration.Round(time.Millisecond))
	if err != nil {
		return wire.PatchReport{}, err
	}
	rep, err := ParseReport(res.Stdout)
	if err != nil {
		return rep, fmt.Errorf("patch %s on %s: %w; output ends: %s", req.Operation, t.ID, err, tail(res.Stdout, 500))
	}
	return rep, nil
}

// ParseReport finds the report line in an operation's output.
func ParseReport(out string) (wire.PatchReport, error) {
	var rep wire.PatchReport
	i := strings.LastIndex(out, wire.PatchReportPrefix)
	if i < 0 {
		return rep, errors.New("the agent printed no patch report")
	}
	line, _, _ := strings.Cut(out[i+len(wire.PatchReportPrefix):], "\n")
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return rep, fmt.Errorf("patch report: %w", err)
	}
	if rep.Backend == "" {
		return rep, errors.New("patch report names no backend")
	}
	return rep, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func output(st store.PatchState, d patch.HostDetail, log string) action.Output {
	installed := []string{}
	for _, r := range d.LastInstall {
		if r.Status == "installed" {
			installed = append(installed, r.Name+"="+r.Version)
		}
	}
	return action.Output{Values: map[string]any{
		"compliant":      st.Compliant,
		"missing":        d.Missing,
		"failed":         len(d.Failed),
		"pending_reboot": d.PendingReboot,
		"installed":      installed,
		"why":            d.Why,
	}, Log: log}
}
