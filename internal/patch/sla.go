package patch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ExpediteRunbook is the library runbook an expedite starts: an approval,
// then the install of the expedited package on the targets.
const ExpediteRunbook = "patch-expedite"

// ExpediteRequest asks for a critical update out of window.
type ExpediteRequest struct {
	Package string   `json:"package"`
	Version string   `json:"version,omitempty"`
	Source  string   `json:"source"`
	Reason  string   `json:"reason"`
	Targets []string `json:"targets"`
}

// Check validates a request.
func (r ExpediteRequest) Check() error {
	var errs []error
	if !wire.ValidPackageName(r.Package) {
		errs = append(errs, fmt.Errorf("package %q is not a package name", r.Package))
	}
	if strings.ContainsAny(r.Version, " \t\n=/\x00") {
		errs = append(errs, fmt.Errorf("version %q is not a package version", r.Version))
	}
	if len(r.Targets) == 0 || len(r.Targets) > 1000 {
		errs = append(errs, errors.New("targets: give 1 to 1000 host resource IDs"))
	}
	if strings.TrimSpace(r.Source) == "" {
		errs = append(errs, errors.New("source is required (the finding, advisory or repository that flagged it)"))
	}
	return errors.Join(errs...)
}

// Calendar returns the tenant's business calendar: its own
// BusinessCalendar, else one for every tenant, else Monday to Friday UTC.
func (s *Service) Calendar(tenant string) *Calendar {
	var global *Calendar
	for _, it := range s.o.Content.Items(CalendarKind) {
		c, err := it.Spec.(*CalendarSpec).Compile()
		if err != nil {
			continue
		}
		if it.Tenant == tenant {
			return c
		}
		if it.Tenant == "" && global == nil {
			global = c
		}
	}
	if global != nil {
		return global
	}
	return DefaultCalendar()
}

// Expedite records an expedite, due by the end of the next business day,
// and starts the expedite runbook, which waits for approval before it
// installs; both commit together in tx.
func (s *Service) Expedite(ctx context.Context, tx store.Tx, tenant, actor string, req ExpediteRequest) (store.Expedite, error) {
	e, _, err := s.expedite(ctx, tx, tenant, actor, req, "")
	return e, err
}

// expedite is Expedite deduplicated by key ("": none): when another
// expedite claimed key already, it returns that one and false.
func (s *Service) expedite(ctx context.Context, tx store.Tx, tenant, actor string, req ExpediteRequest, key string) (store.Expedite, bool, error) {
	if err := req.Check(); err != nil {
		return store.Expedite{}, false, err
	}
	if s.o.Starter == nil {
		return store.Expedite{}, false, errors.New("patch: expedites need the runbook executor")
	}
	now := s.o.Clock()
	e := store.Expedite{ID: store.NewID("exp", now), TenantID: tenant, Package: req.Package, Version: req.Version, Source: req.Source,
		Reason: req.Reason, Targets: req.Targets, RequestedBy: actor, RequestedAt: now, DueAt: s.Calendar(tenant).NextBusinessDayEnd(now),
		Status: store.ExpediteAwaitingApproval}
	if key != "" {
		claimed, holder, err := tx.ClaimExpediteKey(ctx, tenant, key, e.ID)
		if err != nil || !claimed {
			if err == nil {
				e, err = tx.GetExpedite(ctx, tenant, holder)
			}
			return e, false, err
		}
	}
	id, err := s.o.Starter.Start(ctx, tx, runbook.StartRequest{TenantID: tenant, Runbook: ExpediteRunbook,
		Parameters: map[string]any{"package": req.Package, "expedite": e.ID, "reason": req.Source + ": " + req.Reason},
		Targets:    req.Targets, Mode: runbook.ModeAuto, StartedBy: actor})
	if err != nil {
		return e, false, err
	}
	e.ExecutionID = id
	if err := tx.PutExpedite(ctx, e); err != nil {
		return e, false, err
	}
	_, err = audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: actor, Action: "patch.expedite", Target: "expedite/" + e.ID,
		Detail: map[string]any{"package": e.Package, "version": e.Version, "source": e.Source, "targets": e.Targets, "due_at": e.DueAt, "execution": id}})
	return e, err == nil, err
}

// PruneHistory deletes the compliance points older than HistoryKeep
// before now (a jobs.Pruner).
func (s *Service) PruneHistory(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.o.Store.InTx(ctx, func(tx store.Tx) (err error) {
		n, err = tx.PrunePatchHistory(ctx, now.Add(-s.o.HistoryKeep))
		return err
	})
	return n, err
}

// TickArgs is the periodic job that checks the patch SLAs.
type TickArgs struct{}

// Kind implements river.JobArgs.
func (TickArgs) Kind() string { return "patch_sla_tick" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (TickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	s *Service
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[TickArgs]) error {
	return w.s.CheckSLAs(ctx)
}

// Register adds the SLA check to q, run periodically on the leader, and
// the pruning of compliance points older than HistoryKeep to its
// retention job.
func (s *Service) Register(q *jobs.Queue, every time.Duration) error {
	if err := jobs.AddWorker(q, &tickWorker{s: s}); err != nil {
		return err
	}
	if err := q.AddPruner("patch_points", s.PruneHistory); err != nil {
		return err
	}
	return q.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil },
		&river.PeriodicJobOpts{ID: TickArgs{}.Kind(), RunOnStart: true}))
}

// CheckSLAs settles expedites whose package is installed everywhere, opens
// an OpsItem for each expedite past its deadline and each host
// non-compliant for longer than its group's SLA, and expedites the new
// critical security updates scans saw (expediteScanned).
func (s *Service) CheckSLAs(ctx context.Context) error {
	now := s.o.Clock()
	var errs []error
	exps, err := s.o.Store.OpenExpedites(ctx, 1000)
	if err != nil {
		return err
	}
	for _, e := range exps {
		if err := s.checkExpedite(ctx, e, now); err != nil {
			errs = append(errs, fmt.Errorf("expedite %s: %w", e.ID, err))
		}
	}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		tenants, next, err := s.o.Store.ListTenants(ctx, page)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, t := range tenants {
			if err := s.checkHosts(ctx, t.ID, now); err != nil {
				errs = append(errs, err)
			}
			if err := s.expediteScanned(ctx, t.ID, now); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return errors.Join(errs...)
}

func (s *Service) checkExpedite(ctx context.Context, e store.Expedite, now time.Time) error {
	done, last := true, time.Time{}
	for _, id := range e.Targets {
		h, err := s.Host(ctx, e.TenantID, id)
		if err != nil || !h.ScannedAt.After(e.RequestedAt) {
			done = false
			break
		}
		if slices.ContainsFunc(h.Detail.Decisions, func(d Decision) bool { return d.Name == e.Package }) {
			done = false
			break
		}
		if h.ScannedAt.After(last) {
			last = h.ScannedAt
		}
	}
	return s.o.Store.InTx(ctx, func(tx store.Tx) error {
		switch {
		case done:
			e.Status, e.InstalledAt = store.ExpediteInstalled, &last
			if err := tx.PutExpedite(ctx, e); err != nil {
				return err
			}
			verdict := "within its SLA"
			if last.After(e.DueAt) {
				verdict = "after its deadline"
			}
			_, err := audit.Append(ctx, tx, e.TenantID, now, audit.Entry{Actor: "system:patch", Action: "patch.expedite.installed",
				Target: "expedite/" + e.ID, Detail: map[string]any{"package": e.Package, "installed_at": last, "due_at": e.DueAt, "verdict": verdict}})
			return err
		case now.After(e.DueAt) && e.OpsItemID == "":
			o := store.OpsItem{ID: store.NewID("oi", now), TenantID: e.TenantID,
				Title:       fmt.Sprintf("Expedited update %s not installed by its deadline %s", e.Package, e.DueAt.Format(time.RFC3339)),
				Description: fmt.Sprintf("Expedite %s (%s: %s) on %s was due by the end of the next business day; execution %s.", e.ID, e.Source, e.Reason, strings.Join(e.Targets, ", "), e.ExecutionID),
				Category:    "patching", Severity: "critical", Status: "open", Source: "patch", CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			e.OpsItemID = o.ID
			if err := tx.PutExpedite(ctx, e); err != nil {
				return err
			}
			_, err := audit.Append(ctx, tx, e.TenantID, now, audit.Entry{Actor: "system:patch", Action: "patch.expedite.breached",
				Target: "expedite/" + e.ID, Detail: map[string]any{"package": e.Package, "due_at": e.DueAt, "opsitem": o.ID}})
			return err
		}
		return nil
	})
}

func (s *Service) checkHosts(ctx context.Context, tenant string, now time.Time) error {
	states, err := s.o.Store.ListPatchStates(ctx, tenant)
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.Compliant || st.OpsItemID != "" || st.NoncompliantSince == nil || st.Group == "" {
			continue
		}
		g, ok := getItem[GroupSpec](s.o.Content, GroupKind, tenant, st.Group)
		if !ok || g.SLA() == 0 || now.Sub(*st.NoncompliantSince) < g.SLA() {
			continue
		}
		h, _ := hostOf(st)
		err := s.o.Store.InTx(ctx, func(tx store.Tx) error {
			o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant,
				Title: fmt.Sprintf("Host %s non-compliant with patch baseline %s for more than %s", st.Hostname, st.Baseline, g.ComplianceSLA),
				Description: fmt.Sprintf("Non-compliant since %s (patch group %s). Why:\n- %s", st.NoncompliantSince.Format(time.RFC3339), st.Group,
					strings.Join(h.Detail.Why, "\n- ")),
				Category: "patching", Severity: "high", Status: "open", Source: "patch", CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			st.OpsItemID = o.ID
			if err := tx.PutPatchState(ctx, st); err != nil {
				return err
			}
			_, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: "system:patch", Action: "patch.sla.breached",
				Target: "resource/" + st.ResourceID, Detail: map[string]any{"group": st.Group, "since": st.NoncompliantSince, "opsitem": o.ID}})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
