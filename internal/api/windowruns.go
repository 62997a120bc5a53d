package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// WindowService runs maintenance windows' tasks; *windowrun.Runner is one.
type WindowService interface {
	StartNow(ctx context.Context, w *maintenance.Window, by string) (store.WindowRun, error)
	DryRun(ctx context.Context, w *maintenance.Window) (windowrun.Plan, error)
}

var _ WindowService = (*windowrun.Runner)(nil)

func (s *Server) registerWindowRuns() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows/{id}/next", MinRole: store.RoleViewer}, s.windowNext)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows/{id}/runs", MinRole: store.RoleViewer}, s.listWindowRuns)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/maintenance-windows/{id}/runs", MinRole: store.RoleAdmin}, s.runWindow)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/window-runs/{id}", MinRole: store.RoleViewer}, s.getWindowRun)
}

// MaxOpenings bounds GET …/next?count=.
const MaxOpenings = 100

// WindowOpening is one opening as the API shows it: instants in UTC and
// the same in the window's zone.
type WindowOpening struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	CutoffAt   time.Time `json:"cutoff_at"`
	StartLocal string    `json:"start_local"`
	EndLocal   string    `json:"end_local"`
}

// WindowOpenings answers GET /api/v1/maintenance-windows/{id}/next.
type WindowOpenings struct {
	Window   string          `json:"window"`
	Timezone string          `json:"timezone"`
	Openings []WindowOpening `json:"openings"`
}

// WindowRunDetail is a run with its per-task, per-target rows.
type WindowRunDetail struct {
	store.WindowRun
	Targets []store.WindowRunTarget `json:"targets"`
}

// WindowRunInput is the body of POST …/runs (optional).
type WindowRunInput struct {
	// DryRun answers with the targets and tasks a run would have,
	// starting nothing.
	DryRun bool `json:"dry_run"`
}

// window finds a tenant's window by ID or by name.
func (s *Server) window(r *http.Request) (string, *maintenance.Window, error) {
	tenant, ref, err := s.tenantAndID(r)
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	rec, err := s.st.GetMaintenanceWindow(ctx, tenant, ref)
	if errors.Is(err, store.ErrNotFound) && !strings.HasPrefix(ref, maintenance.IDPrefix+"_") {
		page := store.Page{Limit: store.MaxPageLimit}
		for {
			l, next, lerr := s.st.ListMaintenanceWindows(ctx, tenant, page)
			if lerr != nil {
				return "", nil, lerr
			}
			for _, w := range l {
				if w.Name == ref {
					rec, err = w, nil
				}
			}
			if err == nil || next == "" {
				break
			}
			page.Cursor = next
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, NotFound("maintenance window %q not found", ref)
	}
	if err != nil {
		return "", nil, err
	}
	w, err := maintenance.FromRecord(rec)
	if err != nil {
		return "", nil, err
	}
	return tenant, w, nil
}

func (s *Server) windowNext(w http.ResponseWriter, r *http.Request) error {
	_, mw, err := s.window(r)
	if err != nil {
		return err
	}
	count := 5
	if v := r.URL.Query().Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxOpenings {
			return BadRequest("count: %q is not a number from 1 to %d", v, MaxOpenings)
		}
		count = n
	}
	out := WindowOpenings{Window: mw.Name, Timezone: mw.Timezone.String(), Openings: []WindowOpening{}}
	const local = "2006-01-02 15:04 MST"
	for _, o := range mw.Plan().Upcoming(s.now(), count) {
		out.Openings = append(out.Openings, WindowOpening{Start: o.Start.UTC(), End: o.End.UTC(), CutoffAt: o.CutoffAt.UTC(),
			StartLocal: o.Start.In(mw.Timezone).Format(local), EndLocal: o.End.In(mw.Timezone).Format(local)})
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listWindowRuns(w http.ResponseWriter, r *http.Request) error {
	tenant, mw, err := s.window(r)
	if err != nil {
		return err
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	runs, next, err := s.st.ListWindowRuns(r.Context(), tenant, mw.ID, page)
	if err != nil {
		return err
	}
	return WritePage(w, runs, next, func(r store.WindowRun) string { return r.ID }, same[store.WindowRun])
}

func (s *Server) getWindowRun(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	run, err := s.st.GetWindowRun(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("window run %q not found", id)
	}
	if err != nil {
		return err
	}
	rows, err := s.st.ListWindowRunTargets(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []store.WindowRunTarget{}
	}
	WriteJSON(w, http.StatusOK, WindowRunDetail{WindowRun: run, Targets: rows})
	return nil
}

func (s *Server) runWindow(w http.ResponseWriter, r *http.Request) error {
	_, mw, err := s.window(r)
	if err != nil {
		return err
	}
	var in WindowRunInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	if s.windows == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "this server does not run maintenance windows"}
	}
	if len(mw.Tasks) == 0 {
		return BadRequest("maintenance window %q has no tasks to run", mw.Name)
	}
	if in.DryRun {
		plan, err := s.windows.DryRun(r.Context(), mw)
		if err != nil {
			return BadRequest("%s", errLine(err))
		}
		WriteJSON(w, http.StatusOK, plan)
		return nil
	}
	run, err := s.windows.StartNow(r.Context(), mw, Principal(r).Actor())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/window-runs/"+run.ID)
	WriteJSON(w, http.StatusCreated, run)
	return nil
}
