package web

import (
	"fmt"
	"net/url"
	"time"

	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The events page (/events): every stored event with the pipeline's
// decision on it and the reason, newest first, filtered as
// GET /api/v1/events and `flywheel event list` filter.

// eventDecisions are the decisions the filter offers (internal/pipeline).
var eventDecisions = []string{pipeline.DecisionOpened, pipeline.DecisionAttached, pipeline.DecisionUpdated, pipeline.DecisionReopened,
	pipeline.DecisionResolved, pipeline.DecisionHeld, pipeline.DecisionTransient, pipeline.DecisionSuppressed, pipeline.DecisionFlapping,
	pipeline.DecisionDeduplicated, pipeline.DecisionStale}

// eventsPageSize is how many events one page shows.
const eventsPageSize = 50

// eventTimeLayouts are the time forms the filter accepts: date and time
// (read as UTC), and RFC 3339.
var eventTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", time.RFC3339}

// eventsForm is the filter as typed, for the form and the links.
type eventsForm struct {
	Source, Decision, Fingerprint, Resource, OpsItem, From, To string
}

func (f eventsForm) pairs() []string {
	return []string{"source", f.Source, "decision", f.Decision, "fingerprint", f.Fingerprint, "resource", f.Resource,
		"opsitem", f.OpsItem, "from", f.From, "to", f.To}
}

// eventRow is an event with the title of the OpsItem it went to.
type eventRow struct {
	store.Event
	OpsItemTitle string
}

type eventsData struct {
	Form      eventsForm
	Filtered  bool
	Items     []eventRow
	Decisions []option
	// NextURL and FirstURL page through the list ("" when there is none).
	NextURL, FirstURL string
}

func (h *Handler) eventsRoutes() {
	h.page("GET /events", "events", h.events)
}

// eventsFilter reads and checks the filter of a query string.
func eventsFilter(q url.Values) (eventsForm, store.EventFilter, error) {
	fm := eventsForm{Source: q.Get("source"), Decision: q.Get("decision"), Fingerprint: q.Get("fingerprint"),
		Resource: q.Get("resource"), OpsItem: q.Get("opsitem"), From: q.Get("from"), To: q.Get("to")}
	f := store.EventFilter{Source: fm.Source, Decision: fm.Decision, Fingerprint: fm.Fingerprint, Resource: fm.Resource, OpsItemID: fm.OpsItem}
	for _, c := range []struct{ name, v string }{{"source", fm.Source}, {"fingerprint", fm.Fingerprint}, {"resource", fm.Resource}, {"opsitem", fm.OpsItem}} {
		if len(c.v) > 500 {
			return fm, f, errBadRequest("The %s filter is longer than 500 characters.", c.name)
		}
	}
	if fm.Decision != "" && !contains(eventDecisions, fm.Decision) {
		return fm, f, errBadRequest("Invalid filter: decision %q is not one of the pipeline's decisions.", fm.Decision)
	}
	var err error
	if f.From, err = eventTime("from", fm.From); err != nil {
		return fm, f, err
	}
	if f.To, err = eventTime("to", fm.To); err != nil {
		return fm, f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fm, f, errBadRequest("The time range is empty: from must be before to.")
	}
	return fm, f, nil
}

// eventTime reads a time of the filter; "" is no bound.
func eventTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range eventTimeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return time.Time{}, errBadRequest("Invalid filter: %s %q is not a time like 2026-03-10T14:00 (UTC) or RFC 3339.", name, v)
}

func (h *Handler) events(rq *request) (any, error) {
	rq.view.Title = "Events"
	q := rq.URL.Query()
	fm, f, err := eventsFilter(q)
	if err != nil {
		return nil, err
	}
	cursor := q.Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	items, next, err := h.st.ListEvents(rq.ctx, rq.tenantID(), f, store.Page{Limit: eventsPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	d := eventsData{Form: fm, Decisions: make([]option, len(eventDecisions))}
	for i, v := range eventDecisions {
		d.Decisions[i] = option{Value: v, Label: decisionLabel(v)}
	}
	for i, p := range fm.pairs() {
		d.Filtered = d.Filtered || (i%2 == 1 && p != "")
	}
	titles := map[string]string{}
	for _, e := range items {
		e.Raw = nil // the list never shows payloads
		r := eventRow{Event: e}
		if id := e.OpsItemID; id != "" {
			if _, ok := titles[id]; !ok {
				titles[id] = id
				if o, err := h.st.GetOpsItem(rq.ctx, rq.tenantID(), id); err == nil {
					titles[id] = o.Title
				}
			}
			r.OpsItemTitle = titles[id]
		}
		d.Items = append(d.Items, r)
	}
	if next != "" {
		d.NextURL = rq.view.Link("/events", append(fm.pairs(), "cursor", next)...)
	}
	if cursor != "" {
		d.FirstURL = rq.view.Link("/events", fm.pairs()...)
	}
	return d, nil
}
