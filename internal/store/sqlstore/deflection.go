package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Silences and maintenance windows keep their structured parts (matchers,
// recurrence, schedule, targets) as JSON text: they are read whole and
// evaluated in Go, never queried into.

const silenceCols = "id, tenant_id, matchers, starts_at, ends_at, recurrence, comment, created_by, created_at, expired_at, expired_by"

func scanSilence(r Row) (store.Silence, error) {
	var s store.Silence
	var matchers, rec string
	var starts, ends, created, expired int64
	if err := r.Scan(&s.ID, &s.TenantID, &matchers, &starts, &ends, &rec, &s.Comment, &s.CreatedBy, &created, &expired, &s.ExpiredBy); err != nil {
		return s, err
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.ExpiredAt = fromTS(starts), fromTS(ends), fromTS(created), fromTSPtr(expired)
	if err := json.Unmarshal([]byte(matchers), &s.Matchers); err != nil {
		return s, fmt.Errorf("silence %s: matchers: %w", s.ID, err)
	}
	if rec != "" {
		s.Recurrence = new(store.Recurrence)
		if err := json.Unmarshal([]byte(rec), s.Recurrence); err != nil {
			return s, fmt.Errorf("silence %s: recurrence: %w", s.ID, err)
		}
	}
	return s, nil
}

func (r reader) GetSilence(ctx context.Context, tenantID, id string) (store.Silence, error) {
	s, err := scanSilence(r.q.QueryRow(ctx, "SELECT "+silenceCols+" FROM silences WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return s, r.notFound(err, "silence "+id)
}

func (r reader) ListSilences(ctx context.Context, tenantID string, f store.SilenceFilter, page store.Page) ([]store.Silence, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if !f.Expired {
		if f.Now.IsZero() {
			w.add("expired_at = 0")
		} else {
			w.add("ends_at > ?", ts(f.Now))
		}
	}
	return listPage(ctx, r.q, silenceCols, "silences", "id", w, page,
		func(rows Rows) (store.Silence, error) { return scanSilence(rows) },
		func(s store.Silence) string { return s.ID })
}

func (r reader) ActiveSilences(ctx context.Context, tenantID string, at time.Time) ([]store.Silence, error) {
	return deflectionRows(ctx, r.q, "SELECT "+silenceCols+" FROM silences WHERE tenant_id = $1 AND ends_at > $2 ORDER BY id DESC",
		func(rows Rows) (store.Silence, error) { return scanSilence(rows) }, tenantID, ts(at))
}

func (t *tx) CreateSilence(ctx context.Context, s store.Silence) error {
	matchers, err := json.Marshal(jsonList(s.Matchers))
	if err != nil {
		return err
	}
	rec := ""
	if s.Recurrence != nil {
		b, err := json.Marshal(s.Recurrence)
		if err != nil {
			return err
		}
		rec = string(b)
	}
	_, err = t.h.Exec(ctx, "INSERT INTO silences ("+silenceCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		s.ID, s.TenantID, string(matchers), ts(s.StartsAt), ts(s.EndsAt), rec, s.Comment, s.CreatedBy,
		ts(s.CreatedAt), tsPtr(s.ExpiredAt), s.ExpiredBy)
	return conflict(t.b, err, "silence "+s.ID)
}

func (t *tx) ExpireSilence(ctx context.Context, tenantID, id string, at time.Time, by string) error {
	n, err := t.h.Exec(ctx, `UPDATE silences SET ends_at = $1, expired_at = $1, expired_by = $2,
		starts_at = CASE WHEN starts_at > $1 THEN $1 ELSE starts_at END
		WHERE tenant_id = $3 AND id = $4 AND ends_at > $1`, ts(at), by, tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("silence %s: %w", id, store.ErrNotFound)
	}
	return nil
}

const windowCols = "id, tenant_id, name, timezone, schedule, targets, ends_at, comment, created_by, created_at, details"

// windowDetails is the details column: what a window that runs tasks adds.
type windowDetails struct {
	ScheduleOffset int                     `json:"schedule_offset,omitempty"`
	Duration       string                  `json:"duration,omitempty"`
	Cutoff         string                  `json:"cutoff,omitempty"`
	StartDate      *time.Time              `json:"start_date,omitempty"`
	EndDate        *time.Time              `json:"end_date,omitempty"`
	Tasks          []store.MaintenanceTask `json:"tasks,omitempty"`
	RunOnly        bool                    `json:"run_only,omitempty"`
}

func scanWindow(r Row) (store.MaintenanceWindow, error) {
	var w store.MaintenanceWindow
	var schedule, targets, details string
	var ends, created int64
	if err := r.Scan(&w.ID, &w.TenantID, &w.Name, &w.Timezone, &schedule, &targets, &ends, &w.Comment, &w.CreatedBy, &created, &details); err != nil {
		return w, err
	}
	if details != "" {
		var d windowDetails
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			return w, fmt.Errorf("maintenance window %s: details: %w", w.ID, err)
		}
		w.ScheduleOffset, w.Duration, w.Cutoff, w.StartDate, w.EndDate, w.Tasks = d.ScheduleOffset, d.Duration, d.Cutoff, d.StartDate, d.EndDate, d.Tasks
		w.RunOnly = d.RunOnly
	}
	w.CreatedAt = fromTS(created)
	if err := json.Unmarshal([]byte(schedule), &w.Schedule); err != nil {
		return w, fmt.Errorf("maintenance window %s: schedule: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(targets), &w.Targets); err != nil {
		return w, fmt.Errorf("maintenance window %s: targets: %w", w.ID, err)
	}
	// JSON keeps the instant but not the UTC location; stored times are UTC.
	for _, p := range []*time.Time{w.Schedule.Start, w.Schedule.End, w.StartDate, w.EndDate} {
		if p != nil {
			*p = p.UTC()
		}
	}
	return w, nil
}

func (r reader) GetMaintenanceWindow(ctx context.Context, tenantID, id string) (store.MaintenanceWindow, error) {
	w, err := scanWindow(r.q.QueryRow(ctx, "SELECT "+windowCols+" FROM maintenance_windows WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return w, r.notFound(err, "maintenance window "+id)
}

func (r reader) ListMaintenanceWindows(ctx context.Context, tenantID string, page store.Page) ([]store.MaintenanceWindow, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, windowCols, "maintenance_windows", "id", w, page,
		func(rows Rows) (store.MaintenanceWindow, error) { return scanWindow(rows) },
		func(m store.MaintenanceWindow) string { return m.ID })
}

func (r reader) ActiveMaintenanceWindows(ctx context.Context, tenantID string, at time.Time) ([]store.MaintenanceWindow, error) {
	return deflectionRows(ctx, r.q, "SELECT "+windowCols+" FROM maintenance_windows WHERE tenant_id = $1 AND (ends_at = 0 OR ends_at > $2) ORDER BY id DESC",
		func(rows Rows) (store.MaintenanceWindow, error) { return scanWindow(rows) }, tenantID, ts(at))
}

func (t *tx) CreateMaintenanceWindow(ctx context.Context, w store.MaintenanceWindow) error {
	schedule, err := json.Marshal(w.Schedule)
	if err != nil {
		return err
	}
	targets, err := json.Marshal(w.Targets)
	if err != nil {
		return err
	}
	details := ""
	d := windowDetails{ScheduleOffset: w.ScheduleOffset, Duration: w.Duration, Cutoff: w.Cutoff, StartDate: w.StartDate, EndDate: w.EndDate, Tasks: w.Tasks, RunOnly: w.RunOnly}
	if !reflect.DeepEqual(d, windowDetails{}) {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		details = string(b)
	}
	// ends_at lets ActiveMaintenanceWindows skip windows that are over: a
	// one-off's end; a cron or rate window's end date plus a week (the
	// longest an opening lasts); 0 when it recurs for ever.
	var ends int64
	switch {
	case w.Schedule.Expression != "":
		if w.EndDate != nil {
			ends = ts(w.EndDate.Add(7 * 24 * time.Hour))
		}
	case w.Schedule.Weekly == nil:
		ends = tsPtr(w.Schedule.End)
	}
	_, err = t.h.Exec(ctx, "INSERT INTO maintenance_windows ("+windowCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		w.ID, w.TenantID, w.Name, w.Timezone, string(schedule), string(targets), ends, w.Comment, w.CreatedBy, ts(w.CreatedAt), details)
	return conflict(t.b, err, fmt.Sprintf("maintenance window %s (%q)", w.ID, w.Name))
}

func (t *tx) DeleteMaintenanceWindow(ctx context.Context, tenantID, id string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM maintenance_windows WHERE tenant_id = $1 AND id = $2", tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("maintenance window %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// deflectionRows runs q and scans every row.
func deflectionRows[T any](ctx context.Context, q Querier, sql string, scan func(Rows) (T, error), args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// jsonList stores an absent list as [] rather than null.
func jsonList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
