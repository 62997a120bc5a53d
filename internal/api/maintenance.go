package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerMaintenance() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows", MinRole: store.RoleViewer}, tenantListView(s, s.st.ListMaintenanceWindows, func(m store.MaintenanceWindow) string { return m.ID }, s.windowView))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/maintenance-windows", MinRole: store.RoleOperator}, s.createWindow)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/maintenance-windows/{id}", MinRole: store.RoleViewer}, tenantGet(s, "maintenance window", s.st.GetMaintenanceWindow, s.windowView))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/maintenance-windows/{id}", MinRole: store.RoleOperator}, s.deleteWindow)
}

// Bounds on a window's targets.
const (
	maxResourceIDs = 1000
	maxTags        = 64
)

// MaintenanceWindowInput is the body of POST /api/v1/maintenance-windows.
type MaintenanceWindowInput struct {
	Name string `json:"name"`
	// Timezone is an IANA zone name; default UTC.
	Timezone string                    `json:"timezone"`
	Schedule store.MaintenanceSchedule `json:"schedule"`
	Targets  store.MaintenanceTargets  `json:"targets"`
	Comment  string                    `json:"comment"`
	// With a cron or rate schedule (see docs/schedules.md): days after
	// each cron date, how long each opening lasts, and the dates bounding
	// the openings. Cutoff and tasks go with any schedule.
	ScheduleOffset int                     `json:"schedule_offset,omitempty"`
	Duration       string                  `json:"duration,omitempty"`
	Cutoff         string                  `json:"cutoff,omitempty"`
	StartDate      *time.Time              `json:"start_date,omitempty"`
	EndDate        *time.Time              `json:"end_date,omitempty"`
	Tasks          []store.MaintenanceTask `json:"tasks,omitempty"`
}

// MaintenanceWindow is a window as the API shows it: the record, whether
// it is open now, and its current or next period.
type MaintenanceWindow struct {
	store.MaintenanceWindow
	Open      bool       `json:"open"`
	NextStart *time.Time `json:"next_start,omitempty"`
	NextEnd   *time.Time `json:"next_end,omitempty"`
}

func (s *Server) windowView(r store.MaintenanceWindow) MaintenanceWindow {
	v := MaintenanceWindow{MaintenanceWindow: r}
	w, err := maintenance.FromRecord(r)
	if err != nil {
		return v // stored windows were valid when created; show the record
	}
	now := s.now()
	v.Open = w.ActiveAt(now)
	if start, end, ok := w.Next(now); ok {
		start, end = start.UTC(), end.UTC()
		v.NextStart, v.NextEnd = &start, &end
	}
	return v
}

func (s *Server) createWindow(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in MaintenanceWindowInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := checkMatchers("targets.matchers", in.Targets.Matchers, false); err != nil {
		return err
	}
	if len(in.Targets.ResourceIDs) > maxResourceIDs {
		return BadRequest("targets.resource_ids: at most %d", maxResourceIDs)
	}
	if len(in.Targets.Tags) > maxTags {
		return BadRequest("targets.tags: at most %d", maxTags)
	}
	if err := maxLen("comment", in.Comment, maxComment); err != nil {
		return err
	}
	now := s.now()
	sched := in.Schedule
	for _, p := range []**time.Time{&sched.Start, &sched.End, &in.StartDate, &in.EndDate} {
		if *p != nil {
			t := (*p).UTC().Truncate(time.Microsecond)
			*p = &t
		}
	}
	rec := store.MaintenanceWindow{
		ID: store.NewID(maintenance.IDPrefix, now), TenantID: tenant, Name: in.Name, Timezone: in.Timezone,
		Schedule: sched, Targets: in.Targets, Comment: in.Comment, CreatedBy: Principal(r).Actor(), CreatedAt: now,
		ScheduleOffset: in.ScheduleOffset, Duration: in.Duration, Cutoff: in.Cutoff, StartDate: in.StartDate, EndDate: in.EndDate, Tasks: in.Tasks,
	}
	mw, err := maintenance.FromRecord(rec)
	if err != nil {
		return BadRequest("%s", errLine(err))
	}
	if err := mw.Validate(); err != nil {
		return BadRequest("%s", errLine(err))
	}
	if err := s.checkTaskRunbooks(tenant, mw); err != nil {
		return err
	}
	if mw.Schedule.Weekly == nil && mw.Schedule.Recurring == nil && !mw.Schedule.End.After(now) {
		return BadRequest("schedule.end: %s is in the past", mw.Schedule.End.Format(time.RFC3339))
	}
	rec = mw.Record()
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateMaintenanceWindow(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "maintenance.create", Target: "maintenance-window/" + rec.ID, Detail: map[string]any{
			"name": rec.Name, "timezone": rec.Timezone, "schedule": rec.Schedule, "targets": rec.Targets, "tasks": len(rec.Tasks)}}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return Conflict("a maintenance window named %q already exists", rec.Name)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/maintenance-windows/"+rec.ID)
	WriteJSON(w, http.StatusCreated, s.windowView(rec))
	return nil
}

func (s *Server) deleteWindow(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		mw, err := tx.GetMaintenanceWindow(ctx, tenant, id)
		if err != nil {
			return audit.Entry{}, err
		}
		if err := tx.DeleteMaintenanceWindow(ctx, tenant, id); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "maintenance.delete", Target: "maintenance-window/" + id, Detail: map[string]string{"name": mw.Name}}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("maintenance window %q not found", id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
