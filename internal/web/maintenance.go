package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Maintenance windows: the list with whether each is open and its next
// period, a form for a one-off window (weekly ones come from the API, the
// CLI or MaintenanceWindow content), and Delete.

type windowRow struct {
	store.MaintenanceWindow
	Open               bool
	NextStart, NextEnd *time.Time
}

type maintenanceData struct {
	Items   []windowRow
	NextURL string
	CanAct  bool
	Problem string
	Form    url.Values
}

func (h *Handler) maintenanceData(rq *request) (*maintenanceData, error) {
	rq.view.Title = "Maintenance windows"
	d := &maintenanceData{CanAct: rq.canAct()}
	cursor := rq.URL.Query().Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	items, next, err := h.st.ListMaintenanceWindows(rq.ctx, rq.tenantID(), store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("list maintenance windows: %w", err)
	}
	now := h.now()
	for _, it := range items {
		row := windowRow{MaintenanceWindow: it}
		if w, err := maintenance.FromRecord(it); err == nil {
			row.Open = w.ActiveAt(now)
			if s, e, ok := w.Next(now); ok {
				row.NextStart, row.NextEnd = &s, &e
			}
		}
		d.Items = append(d.Items, row)
	}
	if next != "" {
		d.NextURL = rq.view.Link("/maintenance", "cursor", next)
	}
	return d, nil
}

func (h *Handler) maintenance(rq *request) (any, error) { return h.maintenanceData(rq) }

func (h *Handler) windowProblem(rq *request, msg string) error {
	d, err := h.maintenanceData(rq)
	if err != nil {
		return err
	}
	d.Problem, d.Form = msg, rq.PostForm
	return &formProblem{Status: http.StatusBadRequest, Tmpl: "maintenance", Title: "Maintenance windows", Data: d}
}

// formTimeLayout is the start's layout ("T" or a space between date and
// time; a plain text field, since the browser's date picker draws its icon
// from a data: URL).
const formTimeLayout = "2006-01-02T15:04"

func (h *Handler) createWindow(rq *request) (string, error) {
	name := strings.TrimSpace(rq.PostFormValue("name"))
	tz := strings.TrimSpace(rq.PostFormValue("timezone"))
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return "", h.windowProblem(rq, fmt.Sprintf("Time zone %q is not an IANA zone name such as Europe/Berlin.", tz))
	}
	start, err := time.ParseInLocation(formTimeLayout, strings.Replace(strings.TrimSpace(rq.PostFormValue("start")), " ", "T", 1), loc)
	if err != nil {
		return "", h.windowProblem(rq, "Give the start as a date and time: YYYY-MM-DD HH:MM.")
	}
	dur, err := time.ParseDuration(rq.PostFormValue("duration"))
	if err != nil || dur <= 0 {
		return "", h.windowProblem(rq, "Choose how long the window lasts.")
	}
	var matchers []string
	for _, l := range strings.Split(rq.PostFormValue("matchers"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			matchers = append(matchers, l)
		}
	}
	comment := strings.TrimSpace(rq.PostFormValue("comment"))
	if len(matchers) > 64 || len(comment) > 4096 {
		return "", h.windowProblem(rq, "At most 64 matchers and a comment of up to 4096 characters.")
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	s, e := start.UTC(), start.Add(dur).UTC()
	rec := store.MaintenanceWindow{ID: store.NewID(maintenance.IDPrefix, now), TenantID: rq.tenantID(), Name: name, Timezone: tz,
		Schedule: store.MaintenanceSchedule{Start: &s, End: &e}, Targets: store.MaintenanceTargets{Matchers: matchers},
		Comment: comment, CreatedBy: rq.sess.Principal.Actor(), CreatedAt: now}
	mw, err := maintenance.FromRecord(rec)
	if err == nil {
		err = mw.Validate()
	}
	if err != nil {
		return "", h.windowProblem(rq, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if !e.After(now) {
		return "", h.windowProblem(rq, "The window would end in the past.")
	}
	rec = mw.Record()
	err = h.mutate(rq, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateMaintenanceWindow(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "maintenance.create", Target: "maintenance-window/" + rec.ID, Detail: map[string]any{
			"name": rec.Name, "timezone": rec.Timezone, "schedule": rec.Schedule, "targets": rec.Targets}}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return "", h.windowProblem(rq, fmt.Sprintf("A maintenance window named %q already exists.", name))
	}
	if err != nil {
		return "", err
	}
	return rq.view.Link("/maintenance"), nil
}

func (h *Handler) deleteWindow(rq *request) (string, error) {
	id, tenant := rq.PathValue("id"), rq.tenantID()
	err := h.mutate(rq, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
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
		return "", errNotFound("There is no maintenance window %q.", id)
	}
	if err != nil {
		return "", err
	}
	return rq.view.Link("/maintenance"), nil
}
