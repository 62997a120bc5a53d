package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/service"
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
	st, en := start.UTC(), start.Add(dur).UTC()
	in := service.MaintenanceWindowInput{Name: name, Timezone: tz, Schedule: store.MaintenanceSchedule{Start: &st, End: &en},
		Targets: store.MaintenanceTargets{Matchers: matchers}, Comment: strings.TrimSpace(rq.PostFormValue("comment"))}
	_, err = h.svc().CreateWindow(rq.ctx, rq.caller(), in)
	if e, ok := service.As(err); ok && (e.Kind == service.Invalid || e.Kind == service.Conflict) {
		return "", h.windowProblem(rq, e.Msg)
	}
	if err != nil {
		return "", servicePage(err)
	}
	return rq.view.Link("/maintenance"), nil
}

func (h *Handler) deleteWindow(rq *request) (string, error) {
	if err := h.svc().DeleteWindow(rq.ctx, rq.caller(), rq.PathValue("id")); err != nil {
		return "", servicePage(err)
	}
	return rq.view.Link("/maintenance"), nil
}
