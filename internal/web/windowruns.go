package web

import (
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/schedule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// A maintenance window's page: its schedule, tasks, next openings and
// runs; and a run's page: each task's result on each target, with its
// execution.

type windowData struct {
	Window   store.MaintenanceWindow
	Open     bool
	Openings []schedule.Opening
	Runs     []store.WindowRun
	NextURL  string
}

// windowOpenings is how many next openings the window page lists.
const windowOpenings = 5

func (h *Handler) windowPage(rq *request) (any, error) {
	id := rq.PathValue("id")
	rec, err := h.st.GetMaintenanceWindow(rq.ctx, rq.tenantID(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("There is no maintenance window %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("maintenance window: %w", err)
	}
	rq.view.Title = "Maintenance window " + rec.Name
	d := &windowData{Window: rec}
	if w, err := maintenance.FromRecord(rec); err == nil {
		now := h.now()
		d.Open = w.ActiveAt(now)
		d.Openings = w.Plan().Upcoming(now, windowOpenings)
	}
	cursor := rq.URL.Query().Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	runs, next, err := h.st.ListWindowRuns(rq.ctx, rq.tenantID(), rec.ID, store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("window runs: %w", err)
	}
	d.Runs = runs
	if next != "" {
		d.NextURL = rq.view.Link("/maintenance/"+rec.ID, "cursor", next)
	}
	return d, nil
}

type windowRunData struct {
	Run     store.WindowRun
	Targets []store.WindowRunTarget
	// Names are the targets' resource names, by ID (the first
	// maxTargetNames targets'; others show their ID).
	Names map[string]string
}

// maxTargetNames bounds the resources a window run page reads for names.
const maxTargetNames = 200

func (h *Handler) windowRunPage(rq *request) (any, error) {
	id := rq.PathValue("id")
	run, err := h.st.GetWindowRun(rq.ctx, rq.tenantID(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("There is no window run %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("window run: %w", err)
	}
	rows, err := h.st.ListWindowRunTargets(rq.ctx, rq.tenantID(), id)
	if err != nil {
		return nil, fmt.Errorf("window run targets: %w", err)
	}
	names := map[string]string{}
	for _, r := range rows {
		if _, ok := names[r.TargetID]; ok || len(names) >= maxTargetNames {
			continue
		}
		res, err := h.st.GetResource(rq.ctx, rq.tenantID(), r.TargetID)
		switch {
		case err == nil:
			names[r.TargetID] = res.Name
		case errors.Is(err, store.ErrNotFound):
			names[r.TargetID] = ""
		default:
			return nil, fmt.Errorf("window run target %s: %w", r.TargetID, err)
		}
	}
	rq.view.Title = "Run of " + run.WindowName
	return &windowRunData{Run: run, Targets: rows, Names: names}, nil
}
