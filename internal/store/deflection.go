package store

import (
	"context"
	"encoding/json"
	"time"
)

// DeflectionReader holds the queries over silences and maintenance windows.
type DeflectionReader interface {
	GetSilence(ctx context.Context, tenantID, id string) (Silence, error)
	// ListSilences lists a tenant's silences, newest first.
	ListSilences(ctx context.Context, tenantID string, f SilenceFilter, page Page) ([]Silence, string, error)
	// ActiveSilences returns every silence of the tenant that has not ended
	// at at: those in effect and those pending (starting later), so a set
	// built from them stays right as time passes. Whether one mutes at a
	// given moment (its start, its weekly recurrence) is the silence
	// package's decision.
	ActiveSilences(ctx context.Context, tenantID string, at time.Time) ([]Silence, error)

	GetMaintenanceWindow(ctx context.Context, tenantID, id string) (MaintenanceWindow, error)
	// ListMaintenanceWindows lists a tenant's windows, newest first.
	ListMaintenanceWindows(ctx context.Context, tenantID string, page Page) ([]MaintenanceWindow, string, error)
	// ActiveMaintenanceWindows returns the tenant's windows that can still
	// be open at or after at: every recurring window and the one-off
	// windows that have not ended. The maintenance package decides whether
	// one is open at a given moment.
	ActiveMaintenanceWindows(ctx context.Context, tenantID string, at time.Time) ([]MaintenanceWindow, error)
}

// DeflectionWriter holds their writes.
type DeflectionWriter interface {
	// CreateSilence stores a new silence; ErrConflict if the ID exists.
	CreateSilence(ctx context.Context, s Silence) error
	// ExpireSilence ends a silence at at (EndsAt = ExpiredAt = at, and
	// StartsAt = at for one that had not started), recording who. It is
	// ErrNotFound when the tenant has no such silence or it has already
	// ended at at.
	ExpireSilence(ctx context.Context, tenantID, id string, at time.Time, by string) error

	// CreateMaintenanceWindow stores a new window; ErrConflict when the ID
	// or the tenant's window name is taken.
	CreateMaintenanceWindow(ctx context.Context, w MaintenanceWindow) error
	// DeleteMaintenanceWindow removes a window; ErrNotFound when the tenant
	// has none with that ID.
	DeleteMaintenanceWindow(ctx context.Context, tenantID, id string) error
}

// Silence mutes matching events for a time (deflection). The
// record holds matchers as text; package silence parses and evaluates them.
type Silence struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	// Matchers are Alertmanager-style matchers, one per string, all of
	// which must match: `alertname="DiskFull"`, `instance=~"db-.*"`.
	Matchers []string  `json:"matchers"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// Recurrence, when set, limits the silence to weekly slots within
	// StartsAt..EndsAt.
	Recurrence *Recurrence `json:"recurrence,omitempty"`
	Comment    string      `json:"comment"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	// ExpiredAt and ExpiredBy are set when someone ended the silence early.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
	ExpiredBy string     `json:"expired_by,omitempty"`
}

// SilenceFilter narrows ListSilences.
type SilenceFilter struct {
	// Expired includes silences that have ended (expired early or past
	// EndsAt); by default only active and pending ones are listed.
	Expired bool
	// Now is the moment "ended" is judged at. When zero, only silences
	// expired early are left out.
	Now time.Time
}

// Recurrence is a weekly schedule as stored and as the API takes it; see
// package recurrence for its meaning.
type Recurrence struct {
	// Days are day names: "mon", "tue", … "sun".
	Days []string `json:"days"`
	// Start is the local time of day the slots start, "HH:MM".
	Start string `json:"start"`
	// Duration is each slot's length, a Go duration: "4h", "1h30m".
	Duration string `json:"duration"`
	// Timezone is an IANA zone name. For a silence "" means UTC; in a
	// maintenance window it must be empty or equal the window's Timezone.
	Timezone string `json:"timezone,omitempty"`
}

// MaintenanceWindow is planned work during which matching events are
// deflected: a one-off period or a weekly schedule, and the targets it
// covers.
type MaintenanceWindow struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	// Name is unique within the tenant: "db-patching".
	Name string `json:"name"`
	// Timezone is the IANA zone weekly schedules are read in.
	Timezone  string              `json:"timezone"`
	Schedule  MaintenanceSchedule `json:"schedule"`
	Targets   MaintenanceTargets  `json:"targets"`
	Comment   string              `json:"comment,omitempty"`
	CreatedBy string              `json:"created_by"`
	CreatedAt time.Time           `json:"created_at"`

	// ScheduleOffset is how many days after each cron date the window
	// opens (SSM's schedule_offset, 0..6).
	ScheduleOffset int `json:"schedule_offset,omitempty"`
	// Duration is how long a cron or rate window stays open, a Go
	// duration ("4h"); Cutoff is how long before its end no task starts.
	Duration string `json:"duration,omitempty"`
	Cutoff   string `json:"cutoff,omitempty"`
	// StartDate and EndDate bound a cron or rate window's openings.
	StartDate *time.Time `json:"start_date,omitempty"`
	EndDate   *time.Time `json:"end_date,omitempty"`
	// Tasks are the runbooks the window runs on its targets when it opens.
	Tasks []MaintenanceTask `json:"tasks,omitempty"`
	// RunOnly windows run their tasks and deflect nothing: a backup
	// plan's windows (internal/backup) must not mute their hosts' alerts.
	RunOnly bool `json:"run_only,omitempty"`
}

// MaintenanceSchedule is one-off (Start and End), Weekly, or an Expression:
// a cron expression (5 fields, or SSM's cron(…)) or rate(…) — see package
// schedule. In JSON (and YAML) a bare string is an Expression.
type MaintenanceSchedule struct {
	Start      *time.Time  `json:"start,omitempty"`
	End        *time.Time  `json:"end,omitempty"`
	Weekly     *Recurrence `json:"weekly,omitempty"`
	Expression string      `json:"expression,omitempty"`
}

// UnmarshalJSON reads the object form or a bare expression string.
func (s *MaintenanceSchedule) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*s = MaintenanceSchedule{}
		return json.Unmarshal(b, &s.Expression)
	}
	type plain MaintenanceSchedule
	return json.Unmarshal(b, (*plain)(s))
}

// MaintenanceTask is a runbook a window runs on each of its targets.
type MaintenanceTask struct {
	// Name is unique within the window; default the runbook's name.
	Name       string         `json:"name,omitempty"`
	Runbook    string         `json:"runbook"`
	Parameters map[string]any `json:"parameters,omitempty"`
	// Priority orders tasks: lower first; equal priorities run together.
	Priority int `json:"priority"`
	// MaxConcurrency is how many targets run the task at once, "2" or
	// "50%" (default 1); MaxErrors how many failed targets it tolerates
	// before it starts no more (default 0: stop at the first).
	MaxConcurrency string `json:"max_concurrency,omitempty"`
	MaxErrors      string `json:"max_errors,omitempty"`
	// CutoffBehavior is what happens to the task's running targets at the
	// cutoff: "cancel" or "continue" (the default).
	CutoffBehavior string `json:"cutoff_behavior,omitempty"`
	// OnFailure is what a failed task does to the tasks after it: "stop"
	// (the default: no later priority starts) or "continue".
	OnFailure string `json:"on_failure,omitempty"`
}

// MaintenanceTargets say which events a window covers. Every criterion
// that is set must hold (they narrow each other); at least one is set.
type MaintenanceTargets struct {
	// Matchers are label matchers over the event, all of which must match.
	Matchers []string `json:"matchers,omitempty"`
	// ResourceIDs match when one of the event's resources has one of these
	// IDs.
	ResourceIDs []string `json:"resource_ids,omitempty"`
	// Tags match when one of the event's resources carries all of them.
	Tags map[string]string `json:"tags,omitempty"`
	// Group matches when one of the event's resources is a member of the
	// resource group (content kind ResourceGroup).
	Group string `json:"group,omitempty"`
}
