package patch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// DefaultBaselines name the library baseline a host follows when no patch
// group selects it, by its package backend.
var DefaultBaselines = map[string]string{"apt": "debian-default", "dnf": "rhel-default", "yum": "rhel-default"}

// Options configure the Service.
type Options struct {
	Store   store.Store
	Content *content.Set
	// Members reports whether a host (type, tags, ID) is in a resource
	// group (runbook.Groups); nil: groups select nothing.
	Members func(tenant, group string, res store.Resource) bool
	// Starter starts the expedite runbook (the executor).
	Starter runbook.Starter
	// Resolve maps a host reference of a finding to an agent's host
	// (default fleet.ResolveHost).
	Resolve func(ctx context.Context, r fleet.HostReader, tenant, ref string) (fleet.Resolution, error)
	Clock   func() time.Time
	Logger  *slog.Logger
	// RebootTimeout is how long a coordinated reboot holds its
	// application's lease waiting for the host's agent to come back
	// (default 15m); LeasePoll how often a waiting install looks again
	// (default 2s).
	RebootTimeout time.Duration
	LeasePoll     time.Duration
	// HistoryKeep is how long compliance points (the trends) are kept
	// (default DefaultHistoryKeep).
	HistoryKeep time.Duration
}

// DefaultHistoryKeep keeps a little more than the longest trend the API
// shows (366 days).
const DefaultHistoryKeep = 400 * 24 * time.Hour

// Service decides what hosts install, records their state after each
// scan or install, and reports compliance.
type Service struct {
	o Options
}

// New returns the service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resolve == nil {
		o.Resolve = fleet.ResolveHost
	}
	if o.Content == nil {
		o.Content = &content.Set{}
	}
	if o.RebootTimeout <= 0 {
		o.RebootTimeout = 15 * time.Minute
	}
	if o.HistoryKeep <= 0 {
		o.HistoryKeep = DefaultHistoryKeep
	}
	if o.LeasePoll <= 0 {
		o.LeasePoll = 2 * time.Second
	}
	return &Service{o: o}
}

// HostDetail is what Flywheel keeps of a host's latest scan: counts, the
// baseline's decision on every available update, and why the host is (or
// is not) compliant. It is store.PatchState's Detail.
type HostDetail struct {
	Backend string `json:"backend"`
	// Installed counts installed packages; Missing the approved updates not
	// installed; Failed the packages dpkg left failed.
	Installed      int            `json:"installed"`
	Missing        int            `json:"missing"`
	MissingByLevel map[string]int `json:"missing_by_level"`
	Failed         []string       `json:"failed,omitempty"`
	PendingReboot  bool           `json:"pending_reboot"`
	RebootPackages []string       `json:"reboot_packages,omitempty"`
	// HostException is the exception that excepts the whole host.
	HostException string               `json:"host_exception,omitempty"`
	Decisions     []Decision           `json:"decisions"`
	LastInstall   []wire.InstallResult `json:"last_install,omitempty"`
	HookError     string               `json:"hook_error,omitempty"`
	Why           []string             `json:"why"`
}

// Assignment is the group and baseline a host follows.
type Assignment struct {
	Group    string
	Spec     *GroupSpec // nil when no group selects the host
	Baseline string
	Base     *BaselineSpec
}

// getItem returns a content item as tenant sees it.
func getItem[T any](set *content.Set, kind, tenant, name string) (*T, bool) {
	it, ok := set.Get(kind, name)
	if !ok || (it.Tenant != "" && it.Tenant != tenant) {
		return nil, false
	}
	spec, ok := it.Spec.(*T)
	return spec, ok
}

// Assign finds the patch group that selects a host (the first by name)
// and its baseline; a host in no group follows the default baseline of
// its backend.
func (s *Service) Assign(tenant string, res store.Resource, backend string) (Assignment, error) {
	var a Assignment
	for _, it := range s.o.Content.Items(GroupKind) {
		g, ok := getItem[GroupSpec](s.o.Content, GroupKind, tenant, it.Name)
		if !ok || !s.selects(tenant, g, res) {
			continue
		}
		a.Group, a.Spec, a.Baseline = it.Name, g, g.Baseline
		break
	}
	if a.Baseline == "" {
		a.Baseline = DefaultBaselines[backend]
	}
	b, ok := getItem[BaselineSpec](s.o.Content, BaselineKind, tenant, a.Baseline)
	if !ok {
		return a, fmt.Errorf("patch: no PatchBaseline %q for host %s (group %q)", a.Baseline, res.ID, a.Group)
	}
	a.Base = b
	return a, nil
}

func (s *Service) selects(tenant string, g *GroupSpec, res store.Resource) bool {
	t := g.Targets
	return slices.Contains(t.ResourceIDs, res.ID) ||
		len(t.Tags) > 0 && runbook.HasTags(res.Tags, t.Tags) ||
		t.Group != "" && s.o.Members != nil && s.o.Members(tenant, t.Group, res)
}

// Record evaluates a host's report against its baseline, stores the
// state (and its compliance point), and returns it. New versions are
// noted as released now.
func (s *Service) Record(ctx context.Context, tenant, resourceID string, rep wire.PatchReport) (store.PatchState, HostDetail, error) {
	now := s.o.Clock()
	res, err := s.o.Store.GetResource(ctx, tenant, resourceID)
	if err != nil {
		return store.PatchState{}, HostDetail{}, err
	}
	a, err := s.Assign(tenant, res, rep.Backend)
	if err != nil {
		return store.PatchState{}, HostDetail{}, err
	}
	seen := map[string]time.Time{}
	names := make([]string, 0, len(rep.Updates))
	for _, u := range rep.Updates {
		seen[u.Name+"="+u.Candidate] = now
		names = append(names, u.Name)
	}
	var st store.PatchState
	var d HostDetail
	err = s.o.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.NotePatchReleases(ctx, tenant, seen); err != nil {
			return err
		}
		released, err := tx.PatchReleases(ctx, tenant, names)
		if err != nil {
			return err
		}
		d = s.evaluate(a, res, rep, func(n, v string) time.Time { return released[n+"="+v] }, now)
		prev, err := tx.GetPatchState(ctx, tenant, resourceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		st = store.PatchState{TenantID: tenant, ResourceID: resourceID, Hostname: res.Name, Group: a.Group, Baseline: a.Baseline,
			ScannedAt: now, Compliant: d.compliant(), Detail: detail}
		if !st.Compliant {
			st.NoncompliantSince, st.OpsItemID = &now, ""
			if prev.NoncompliantSince != nil && !prev.Compliant {
				st.NoncompliantSince, st.OpsItemID = prev.NoncompliantSince, prev.OpsItemID
			}
		}
		return tx.PutPatchState(ctx, st)
	})
	return st, d, err
}

func (d HostDetail) compliant() bool {
	return d.HostException != "" || d.Missing == 0 && len(d.Failed) == 0 && !d.PendingReboot
}

// evaluate turns a report into a host's detail.
func (s *Service) evaluate(a Assignment, res store.Resource, rep wire.PatchReport, released Released, now time.Time) HostDetail {
	var excepted map[string]string
	d := HostDetail{Backend: rep.Backend, Installed: rep.Installed, MissingByLevel: map[string]int{}, Failed: rep.Failed,
		PendingReboot: rep.PendingReboot, RebootPackages: rep.RebootPackages, LastInstall: rep.InstallResults, HookError: rep.HookError}
	if a.Spec != nil {
		excepted, d.HostException = a.Spec.activeExceptions([]string{res.ID, res.Name}, now)
	}
	d.Decisions = a.Base.Evaluate(rep.Updates, released, now, excepted)
	where := "baseline " + a.Baseline
	if a.Group != "" {
		where = "patch group " + a.Group + ", " + where
	}
	for _, dec := range d.Decisions {
		if dec.Status == Approved {
			d.Missing++
			d.MissingByLevel[dec.ComplianceLevel]++
			d.Why = append(d.Why, fmt.Sprintf("missing %s %s (installed %s): required by %s of %s, compliance level %s — %s",
				dec.Name, dec.Candidate, dec.Installed, dec.Rule, where, dec.ComplianceLevel, dec.Reason))
		}
	}
	for _, f := range d.Failed {
		d.Why = append(d.Why, fmt.Sprintf("failed: %s is half-installed or half-configured (a failed install)", f))
	}
	if d.PendingReboot {
		d.Why = append(d.Why, "pending reboot: requested by "+strings.Join(append([]string{}, d.RebootPackages...), ", "))
	}
	if d.HostException != "" {
		d.Why = append([]string{"host excepted: " + d.HostException}, d.Why...)
	}
	if d.Why == nil {
		d.Why = []string{}
	}
	return d
}

// Plan is what an install on a host does.
type Plan struct {
	Request wire.PatchRequest
	// Coordinate is the key hosts that must not patch (and reboot) at
	// once share, within the tenant ("" : none; see Lock).
	Coordinate string
}

// Plan builds the install for a host from its scan: the approved updates
// (or, for an expedite, the named packages whatever the baseline's rules
// say, unless rejected), never a rejected one.
func (s *Service) Plan(ctx context.Context, tenant, resourceID string, rep wire.PatchReport, only []string) (Plan, error) {
	res, err := s.o.Store.GetResource(ctx, tenant, resourceID)
	if err != nil {
		return Plan{}, err
	}
	a, err := s.Assign(tenant, res, rep.Backend)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Request: wire.PatchRequest{Operation: wire.PatchInstall, Blocked: a.Base.Blocked(), Reboot: wire.RebootIfNeeded}}
	if a.Spec != nil {
		p.Request.PreHook, p.Request.PostHook = a.Spec.PreHook, a.Spec.PostHook
		switch a.Spec.Reboot {
		case wire.NoReboot:
			p.Request.Reboot = wire.NoReboot
		case RebootCoordinated:
			p.Coordinate = s.application(tenant, res, a.Group)
		}
	}
	var excepted map[string]string
	if a.Spec != nil {
		var host string
		if excepted, host = a.Spec.activeExceptions([]string{res.ID, res.Name}, s.o.Clock()); host != "" && only == nil {
			return p, nil
		}
	}
	released := func(string, string) time.Time { return time.Time{} }
	if only == nil {
		names := make([]string, 0, len(rep.Updates))
		for _, u := range rep.Updates {
			names = append(names, u.Name)
		}
		rel, err := s.o.Store.PatchReleases(ctx, tenant, names)
		if err != nil {
			return Plan{}, err
		}
		released = func(n, v string) time.Time { return rel[n+"="+v] }
	}
	for _, dec := range a.Base.Evaluate(rep.Updates, released, s.o.Clock(), excepted) {
		want := dec.Status == Approved
		if only != nil {
			want = slices.Contains(only, dec.Name) && dec.Status != Rejected
		}
		if want {
			p.Request.Install = append(p.Request.Install, wire.PackageVersion{Name: dec.Name, Version: dec.Candidate})
		}
	}
	return p, nil
}

// application names the application a host belongs to for coordinated
// reboots: its `application` tag, else its patch group.
func (s *Service) application(tenant string, res store.Resource, group string) string {
	if app := res.Tags["application"]; app != "" {
		return "app:" + app
	}
	return "group:" + group
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// BaselineView is a baseline as the API lists it.
type BaselineView struct {
	Name        string        `json:"name"`
	Tenant      string        `json:"tenant,omitempty"`
	Description string        `json:"description"`
	Spec        *BaselineSpec `json:"spec"`
	Origin      string        `json:"origin"`
}

// Baselines lists the baselines a tenant sees.
func (s *Service) Baselines(tenant string) []BaselineView {
	out := []BaselineView{}
	for _, it := range s.o.Content.Items(BaselineKind) {
		if it.Tenant != "" && it.Tenant != tenant {
			continue
		}
		out = append(out, BaselineView{Name: it.Name, Tenant: it.Tenant, Description: it.Description, Spec: it.Spec.(*BaselineSpec), Origin: it.Origin.String()})
	}
	return out
}
