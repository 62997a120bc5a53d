package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/silence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// StoreDeflector deflects events with the tenant's silences and maintenance
// windows from the store. It caches each tenant's compiled sets for TTL of
// wall-clock time, so a new or expired silence applies within TTL without a
// query per event.
type StoreDeflector struct {
	// TTL bounds how stale the cached sets may be (default 1s).
	TTL time.Duration
	// Tags looks up inventory tags for maintenance-window tag targets; nil
	// means tag targets never match unless TagsIn is set.
	Tags maintenance.TagLookup
	// TagsIn, when Tags is nil, looks up a resource's tags in the
	// transaction the event is processed in (the app resolves host names
	// to the inventory's hosts).
	TagsIn func(ctx context.Context, r store.Reader, tenant string, ref event.ResourceRef) map[string]string
	// GroupIn reports whether a resource is a member of a resource group,
	// for windows that target one; nil: group targets never match.
	GroupIn func(ctx context.Context, r store.Reader, tenant, group string, ref event.ResourceRef) bool
	// Logger reports rows that could not be compiled (nil: not reported).
	Logger *slog.Logger

	mu    sync.Mutex
	cache map[string]*deflectSets
}

var _ Deflector = (*StoreDeflector)(nil)

type deflectSets struct {
	loaded   time.Time
	silences *silence.Set
	windows  *maintenance.Set
}

// Deflect implements Deflector.
func (d *StoreDeflector) Deflect(ctx context.Context, r store.Reader, tenant string, e *event.Event, at time.Time) (string, string, error) {
	sets, err := d.sets(ctx, r, tenant, at)
	if err != nil {
		return "", "", err
	}
	if sets.silences.Len() > 0 {
		if s, ok := sets.silences.Match(matcher.EventLabels(e), at); ok {
			reason := s.ID
			if s.Comment != "" {
				reason += " (" + s.Comment + ")"
			}
			return "silence", reason, nil
		}
	}
	if sets.windows.Len() > 0 {
		tags := d.Tags
		if tags == nil && d.TagsIn != nil {
			tags = func(ref event.ResourceRef) map[string]string { return d.TagsIn(ctx, r, tenant, ref) }
		}
		var groups maintenance.GroupLookup
		if d.GroupIn != nil {
			groups = func(group string, ref event.ResourceRef) bool { return d.GroupIn(ctx, r, tenant, group, ref) }
		}
		if w, ok := sets.windows.MatchIn(e, at, tags, groups); ok {
			return "maintenance", fmt.Sprintf("%s (%s)", w.Name, w.ID), nil
		}
	}
	return "", "", nil
}

// Invalidate drops a tenant's cached sets (after a silence or window changed).
func (d *StoreDeflector) Invalidate(tenant string) {
	d.mu.Lock()
	delete(d.cache, tenant)
	d.mu.Unlock()
}

func (d *StoreDeflector) sets(ctx context.Context, r store.Reader, tenant string, at time.Time) (*deflectSets, error) {
	ttl := d.TTL
	if ttl <= 0 {
		ttl = time.Second
	}
	now := time.Now()
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[string]*deflectSets{}
	}
	s := d.cache[tenant]
	d.mu.Unlock()
	if s != nil && now.Sub(s.loaded) < ttl {
		return s, nil
	}
	sil, err := r.ActiveSilences(ctx, tenant, at)
	if err != nil {
		return nil, err
	}
	win, err := r.ActiveMaintenanceWindows(ctx, tenant, at)
	if err != nil {
		return nil, err
	}
	s = &deflectSets{loaded: now}
	// Compile keeps the good rows when some are bad: one broken silence must
	// not switch off a tenant's others.
	var errS, errW error
	s.silences, errS = silence.Compile(sil)
	var runs []store.WindowRun
	if slices.ContainsFunc(win, func(w store.MaintenanceWindow) bool { return len(w.Tasks) > 0 }) {
		// Windows that run tasks are open during their runs asked for now.
		recent, _, err := r.ListWindowRuns(ctx, tenant, "", store.Page{Limit: 50})
		if err != nil {
			return nil, err
		}
		runs = maintenance.ManualRuns(recent, at)
	}
	s.windows, errW = maintenance.CompileWithRuns(win, runs)
	if err := errors.Join(errS, errW); err != nil && d.Logger != nil {
		d.Logger.Warn("skipping invalid silences or maintenance windows", "tenant", tenant, "error", err)
	}
	d.mu.Lock()
	d.cache[tenant] = s
	d.mu.Unlock()
	return s, nil
}
