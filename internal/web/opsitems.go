package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// listPageSize is how many OpsItems one list page shows.
const listPageSize = 50

// option is one choice of a <select>.
type option struct {
	Value, Label string
}

// listData is what the OpsItems list template shows; area pages use the
// same template with the category fixed.
type listData struct {
	// Action is the path the filter form submits to.
	Action string
	// Area is the fixed category of an area page, "" on /opsitems.
	Area     string
	Filter   store.OpsItemFilter
	Filtered bool
	Items    []store.OpsItem
	// NextURL and FirstURL page through the list ("" when there is none).
	NextURL, FirstURL string

	Statuses, Severities, Categories []option
}

func (h *Handler) opsItems(rq *request) (any, error) {
	rq.view.Title = "OpsItems"
	return h.list(rq, "/opsitems", "")
}

// area lists one of the nine areas' OpsItems.
func (h *Handler) area(rq *request) (any, error) {
	c := rq.PathValue("category")
	if opsitem.ValidCategory(c) != nil {
		return nil, errNotFound("There is no area %q.", c)
	}
	rq.view.Title = opsitem.CategoryTitles[c]
	return h.list(rq, "/areas/"+c, c)
}

func (h *Handler) list(rq *request, action, area string) (any, error) {
	q := rq.URL.Query()
	f, err := listFilter(q)
	if err != nil {
		return nil, err
	}
	if area != "" {
		f.Category = area
	}
	cursor := q.Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	items, next, err := h.st.ListOpsItems(rq.ctx, rq.tenantID(), f, store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("list opsitems: %w", err)
	}
	d := listData{
		Action: action, Area: area, Filter: f, Items: items,
		Filtered: f.Status != "" || f.Severity != "" || f.Text != "" || f.Resource != "" || (f.Category != "" && area == ""),
		Statuses: options(opsitem.Statuses, nil), Severities: options(opsitem.Severities, nil),
		Categories: options(opsitem.Categories, opsitem.CategoryTitles),
	}
	pairs := []string{"status", f.Status, "severity", f.Severity, "q", f.Text, "resource", f.Resource}
	if area == "" {
		pairs = append(pairs, "category", f.Category)
	}
	if next != "" {
		d.NextURL = rq.view.Link(action, append(pairs, "cursor", next)...)
	}
	if cursor != "" {
		d.FirstURL = rq.view.Link(action, pairs...)
	}
	return d, nil
}

// listFilter reads and validates the list filters of a query string.
func listFilter(q url.Values) (store.OpsItemFilter, error) {
	f := store.OpsItemFilter{Status: q.Get("status"), Severity: q.Get("severity"), Category: q.Get("category"), Text: q.Get("q"),
		Resource: q.Get("resource")}
	checks := []struct {
		v     string
		valid func(string) error
	}{{f.Status, opsitem.ValidStatus}, {f.Severity, opsitem.ValidSeverity}, {f.Category, opsitem.ValidCategory}}
	for _, c := range checks {
		if c.v != "" {
			if err := c.valid(c.v); err != nil {
				return f, errBadRequest("Invalid filter: %v.", err)
			}
		}
	}
	if len(f.Text) > 200 {
		return f, errBadRequest("The search text is longer than 200 characters.")
	}
	if len(f.Resource) > 500 {
		return f, errBadRequest("The resource is longer than 500 characters.")
	}
	return f, nil
}

func options(values []string, labels map[string]string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: v}
		if l, ok := labels[v]; ok {
			out[i].Label = l
		}
	}
	return out
}

// opsItemData is what the OpsItem page shows.
type opsItemData struct {
	Item store.OpsItem
	// HumanSeconds is the in-hands time up to now; AgeSeconds the time
	// since it was created.
	HumanSeconds, AgeSeconds int64
	Members                  []store.OpsItemMember
	Resources                []store.OpsItemResource
	Timeline                 []store.TimelineEntry
	// Alerts is what the member alerts said (their newest events);
	// ShowDescription is false when the OpsItem's description is one of
	// theirs, already shown.
	Alerts          []alertView
	ShowDescription bool
	// OpsData is the operational data as tables (nil when none).
	OpsData template.HTML
	// Impact is the affected application, its priority and dependency
	// path; RootCause the probable root cause (nil when none).
	Impact     *application.Impact
	RootCause  *pipeline.RootCause
	Executions []executionRow
	// Pending are the executions waiting for an approval, with their gate.
	Pending []approvalItem
	// Suggested are the runbooks the rules name for this OpsItem, then
	// Runbooks the others the user can run (nil without the runbook
	// service).
	Suggested, Runbooks []option
	// SilenceMatchers are the labels all member alerts share, as silence
	// matchers ("silence this"; nil when none).
	SilenceMatchers []string
	CanAct          bool
	// Problem and Form are set when a form on the page was refused.
	Problem string
	Form    url.Values
}

// SilenceURL is the silence form prefilled with the shared labels.
func (d *opsItemData) SilenceURL(v *view) string {
	return v.Link("/silences", "matchers", strings.Join(d.SilenceMatchers, "\n"), "comment", "OpsItem "+d.Item.ID+": "+d.Item.Title)
}

// opsItemExecutions bounds the executions the OpsItem page lists.
const opsItemExecutions = 10

// opsItem shows one OpsItem of the acting tenant; another tenant's is not
// found, exactly like one that does not exist.
func (h *Handler) opsItem(rq *request) (any, error) {
	d, err := h.opsItemData(rq, rq.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rq.view.Title = d.Item.Title
	return d, nil
}

func (h *Handler) opsItemData(rq *request, id string) (*opsItemData, error) {
	if id == "" || len(id) > 128 {
		return nil, errNotFound("There is no such OpsItem.")
	}
	ctx, tenant := rq.ctx, rq.tenantID()
	o, err := h.st.GetOpsItem(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("There is no OpsItem %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get opsitem: %w", err)
	}
	now := h.now()
	d := &opsItemData{Item: o, HumanSeconds: o.HumanSecondsAt(now), AgeSeconds: int64(now.Sub(o.CreatedAt).Seconds()), CanAct: rq.canAct()}
	if im, ok := pipeline.ImpactOf(o); ok {
		d.Impact = &im
	}
	if rc, ok := pipeline.RootCauseOf(o); ok {
		d.RootCause = &rc
	}
	if d.Members, err = h.st.ListOpsItemMembers(ctx, tenant, id); err != nil {
		return nil, fmt.Errorf("opsitem members: %w", err)
	}
	if d.Resources, err = h.st.ListOpsItemResources(ctx, tenant, id); err != nil {
		return nil, fmt.Errorf("opsitem resources: %w", err)
	}
	if d.Timeline, err = h.st.ListTimeline(ctx, tenant, id); err != nil {
		return nil, fmt.Errorf("opsitem timeline: %w", err)
	}
	events, _, err := h.st.ListEvents(ctx, tenant, store.EventFilter{OpsItemID: id}, store.Page{Limit: alertEventsLimit})
	if err != nil {
		return nil, fmt.Errorf("opsitem events: %w", err)
	}
	var lookupErr error
	d.Alerts = alertViews(events, func(fp string) (store.Event, bool) {
		evs, _, err := h.st.ListEvents(ctx, tenant, store.EventFilter{Fingerprint: fp}, store.Page{Limit: 10})
		if err != nil {
			lookupErr = err
		}
		for _, e := range evs {
			if len(e.Raw) > 0 {
				return e, true
			}
		}
		return store.Event{}, false
	})
	if lookupErr != nil {
		return nil, fmt.Errorf("alert events: %w", lookupErr)
	}
	d.SilenceMatchers = silenceMatchers(d.Alerts)
	d.ShowDescription = len(d.Alerts) == 0 || o.Description != ""
	for _, a := range d.Alerts {
		if o.Description != "" && (o.Description == a.Description || o.Description == a.Summary) {
			d.ShowDescription = false
		}
	}
	if len(o.OperationalData) > 0 && string(o.OperationalData) != "null" && string(o.OperationalData) != "{}" {
		d.OpsData = docTable(o.OperationalData)
	}
	if h.rb != nil {
		if d.Executions, err = h.executionRows(ctx, tenant, store.ExecutionFilter{OpsItemID: id}, opsItemExecutions); err != nil {
			return nil, err
		}
		for _, e := range d.Executions {
			if e.Status != runbook.StatusWaitingApproval {
				continue
			}
			approvals, err := h.st.ListApprovals(ctx, tenant, e.ID)
			if err != nil {
				return nil, fmt.Errorf("approvals: %w", err)
			}
			d.Pending = append(d.Pending, approvalItem{Execution: e.Execution, Gate: h.gate(rq, e.Execution, approvals)})
		}
		var names []string
		for _, rb := range h.rb.Runbooks().List(tenant) {
			names = append(names, rb.Name)
		}
		var rules *rule.Rules
		if rs, ok := h.brk.(ruleSet); ok {
			rules = rs.Current().ForTenant(tenant)
		}
		d.Suggested, d.Runbooks = runbookChoices(names, suggestRunbooks(rules, o, events))
	}
	return d, nil
}

// OutputsTable is the execution's outputs as tables ("" when none).
func (e executionRow) OutputsTable() template.HTML {
	if len(e.Outputs) == 0 || string(e.Outputs) == "null" || string(e.Outputs) == "{}" {
		return ""
	}
	return docTable(e.Outputs)
}

// prettyJSON indents a JSON document for people; "" for none.
func prettyJSON(raw []byte) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// humanSeconds shows a number of seconds for people.
func humanSeconds(s int64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
}
