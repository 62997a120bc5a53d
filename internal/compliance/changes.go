package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ChangeSources are the intake sources whose events say a resource's
// configuration changed: AWS Config (configuration and compliance
// changes) and CloudTrail (API calls through EventBridge).
var ChangeSources = []string{"config", "cloudtrail"}

// maxChanged bounds the resources one change evaluation re-evaluates per
// tenant; the full evaluation catches the rest.
const maxChanged = 5000

// Changed returns the ids of tenant's resources that changed in [since,
// ∞): those the inventory updated, and those events from ChangeSources
// name (by id, else by name).
func (s *Service) Changed(ctx context.Context, tenant string, since time.Time) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] && len(ids) < maxChanged {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for cur := ""; len(ids) < maxChanged; {
		rs, next, err := s.o.Store.ListResources(ctx, tenant, store.ResourceFilter{UpdatedSince: since}, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			add(r.ID)
		}
		if cur = next; cur == "" {
			break
		}
	}
	for _, src := range ChangeSources {
		evs, _, err := s.o.Store.ListEvents(ctx, tenant, store.EventFilter{Source: src, From: since}, store.Page{Limit: store.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			var refs []event.ResourceRef
			if json.Unmarshal(e.Resources, &refs) != nil {
				continue
			}
			for _, ref := range refs {
				id, err := s.resolve(ctx, tenant, ref.ID)
				if err != nil {
					return nil, err
				}
				add(id)
			}
		}
	}
	return ids, nil
}

// resolve finds the inventory id of a resource an event names by id or
// by name ("" when the inventory has none).
func (s *Service) resolve(ctx context.Context, tenant, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	_, err := s.o.Store.GetResource(ctx, tenant, ref)
	if err == nil {
		return ref, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	rs, _, err := s.o.Store.ListResources(ctx, tenant, store.ResourceFilter{Name: ref}, store.Page{Limit: 2})
	if err != nil || len(rs) != 1 {
		return "", err
	}
	return rs[0].ID, nil
}

// EvaluateChangedAll re-evaluates, in every tenant, the resources that
// changed since since.
func (s *Service) EvaluateChangedAll(ctx context.Context, since time.Time) error {
	return s.eachTenant(ctx, func(tenant string) error {
		ids, err := s.Changed(ctx, tenant, since)
		if err == nil {
			_, err = s.EvaluateResources(ctx, tenant, ids)
		}
		return err
	})
}

// ChangesArgs is the periodic job that evaluates what changed since its
// last run (leader only).
type ChangesArgs struct{}

// Kind implements river.JobArgs.
func (ChangesArgs) Kind() string { return "compliance_changes" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ChangesArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// ChangesWorker runs EvaluateChangedAll over the time since its last
// successful run (at first, one period).
type ChangesWorker struct {
	river.WorkerDefaults[ChangesArgs]
	Service *Service
	Every   time.Duration
	mu      sync.Mutex
	last    time.Time
}

// Work implements river.Worker.
func (w *ChangesWorker) Work(ctx context.Context, _ *river.Job[ChangesArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.Service.o.Clock()
	since := w.last
	if since.IsZero() {
		since = now.Add(-w.Every)
	}
	if err := w.Service.EvaluateChangedAll(ctx, since); err != nil {
		return err
	}
	w.last = now
	return nil
}

// PeriodicChanges is the River schedule of the change evaluation.
func PeriodicChanges(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return ChangesArgs{}, nil },
		&river.PeriodicJobOpts{ID: ChangesArgs{}.Kind()})
}
