package service

import (
	"context"
	"errors"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Bounds on a maintenance window's targets (its matchers and comment have
// a silence's bounds).
const (
	MaxWindowResourceIDs = 1000
	MaxWindowTags        = 64
)

// MaintenanceWindowInput is a maintenance window to create (the body of
// POST /api/v1/maintenance-windows).
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

// CreateWindow checks in, stores the window in canonical form and audits
// "maintenance.create".
func (s *Service) CreateWindow(ctx context.Context, c Caller, in MaintenanceWindowInput) (store.MaintenanceWindow, error) {
	if err := CheckMatchers("targets.matchers", in.Targets.Matchers, false); err != nil {
		return store.MaintenanceWindow{}, err
	}
	if len(in.Targets.ResourceIDs) > MaxWindowResourceIDs {
		return store.MaintenanceWindow{}, errorf(Invalid, "targets.resource_ids: at most %d", MaxWindowResourceIDs)
	}
	if len(in.Targets.Tags) > MaxWindowTags {
		return store.MaintenanceWindow{}, errorf(Invalid, "targets.tags: at most %d", MaxWindowTags)
	}
	if len(in.Comment) > MaxComment {
		return store.MaintenanceWindow{}, errorf(Invalid, "comment is longer than %d characters", MaxComment)
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
		ID: store.NewID(maintenance.IDPrefix, now), TenantID: c.Tenant, Name: in.Name, Timezone: in.Timezone,
		Schedule: sched, Targets: in.Targets, Comment: in.Comment, CreatedBy: c.Actor(), CreatedAt: now,
		ScheduleOffset: in.ScheduleOffset, Duration: in.Duration, Cutoff: in.Cutoff, StartDate: in.StartDate, EndDate: in.EndDate, Tasks: in.Tasks,
	}
	mw, err := maintenance.FromRecord(rec)
	if err == nil {
		err = mw.Validate()
	}
	if err != nil {
		return rec, errorf(Invalid, "%s", ErrLine(err))
	}
	if err := s.checkTaskRunbooks(c.Tenant, mw); err != nil {
		return rec, err
	}
	if mw.Schedule.Weekly == nil && mw.Schedule.Recurring == nil && !mw.Schedule.End.After(now) {
		return rec, errorf(Invalid, "schedule.end: %s is in the past (a window cannot end in the past)", mw.Schedule.End.Format(time.RFC3339))
	}
	rec = mw.Record()
	err = s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateMaintenanceWindow(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "maintenance.create", Target: "maintenance-window/" + rec.ID, Detail: map[string]any{
			"name": rec.Name, "timezone": rec.Timezone, "schedule": rec.Schedule, "targets": rec.Targets, "tasks": len(rec.Tasks)}}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return rec, errorf(Conflict, "a maintenance window named %q already exists", rec.Name)
	}
	return rec, err
}

// checkTaskRunbooks refuses tasks naming a runbook the tenant does not
// have (when the server runs runbooks).
func (s *Service) checkTaskRunbooks(tenant string, mw *maintenance.Window) error {
	if s.runbooks == nil {
		return nil
	}
	for i, t := range mw.Tasks {
		if _, ok := s.runbooks.Runbooks().Get(tenant, t.Runbook); !ok {
			return errorf(Invalid, "tasks[%d].runbook: no runbook %q", i, t.Runbook)
		}
	}
	return nil
}

// DeleteWindow deletes a maintenance window and audits
// "maintenance.delete".
func (s *Service) DeleteWindow(ctx context.Context, c Caller, id string) error {
	err := s.Mutate(ctx, c, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		mw, err := tx.GetMaintenanceWindow(ctx, c.Tenant, id)
		if err != nil {
			return audit.Entry{}, err
		}
		if err := tx.DeleteMaintenanceWindow(ctx, c.Tenant, id); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "maintenance.delete", Target: "maintenance-window/" + id, Detail: map[string]string{"name": mw.Name}}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(NotFound, "maintenance window %q not found", id)
	}
	return err
}
