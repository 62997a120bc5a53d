package web

import (
	"errors"
	"fmt"
	"html/template"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// The fleet: every agent with its state, version against the desired one
// (drift), last heartbeat; and one agent's page with the host inventory
// it reports.

type agentRow struct {
	store.Agent
	// State is pending, reporting, not-reporting or revoked, as the API
	// reports it.
	State    string
	Outdated bool
}

type fleetData struct {
	Desired string
	Agents  []agentRow
	// Counts by state, and how many drift from the desired version.
	Reporting, NotReporting, Pending, Outdated int
	NextURL                                    string
}

type agentData struct {
	Agent     agentRow
	Desired   string
	Inventory *store.Resource
	// Config is the inventory document as tables (docTable).
	Config    template.HTML
	Resources []store.Resource
}

func (h *Handler) fleetRoutes() {
	h.page("GET /fleet", "fleet", h.fleetPage)
	h.page("GET /fleet/{id}", "agent", h.agentPage)
}

// agentState classifies an agent at now, as GET /api/v1/agents does.
func (h *Handler) agentRow(a store.Agent, now time.Time) agentRow {
	r := agentRow{Agent: a, Outdated: a.RevokedAt == nil && h.desiredVersion != "" && a.Version != h.desiredVersion}
	switch {
	case a.RevokedAt != nil:
		r.State = "revoked"
	case a.LastSeenAt == nil:
		r.State = "pending"
	case a.NotReportingSince != nil || (a.StaleAfter != nil && now.After(*a.StaleAfter)):
		r.State = "not-reporting"
	default:
		r.State = "reporting"
	}
	return r
}

func (h *Handler) fleetPage(rq *request) (any, error) {
	rq.view.Title = "Fleet"
	cursor := rq.URL.Query().Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	agents, next, err := h.st.ListAgents(rq.ctx, rq.tenantID(), store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	d := fleetData{Desired: h.desiredVersion}
	now := h.now()
	for _, a := range agents {
		r := h.agentRow(a, now)
		switch r.State {
		case "reporting":
			d.Reporting++
		case "not-reporting":
			d.NotReporting++
		case "pending":
			d.Pending++
		}
		if r.Outdated {
			d.Outdated++
		}
		d.Agents = append(d.Agents, r)
	}
	if next != "" {
		d.NextURL = rq.view.Link("/fleet", "cursor", next)
	}
	return d, nil
}

func (h *Handler) agentPage(rq *request) (any, error) {
	id := rq.PathValue("id")
	a, err := h.st.GetAgent(rq.ctx, rq.tenantID(), id)
	if errors.Is(err, store.ErrNotFound) || len(id) > 128 {
		return nil, errNotFound("There is no agent %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get agent: %w", err)
	}
	rq.view.Title = "Agent " + a.Hostname
	d := agentData{Agent: h.agentRow(a, h.now()), Desired: h.desiredVersion}
	if a.ResourceID != "" {
		res, err := h.st.GetResource(rq.ctx, rq.tenantID(), a.ResourceID)
		switch {
		case err == nil:
			d.Inventory = &res
			if prettyJSON(res.Config) != "" {
				d.Config = docTable(res.Config)
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("agent inventory: %w", err)
		}
	}
	d.Resources, _, err = h.st.ListResources(rq.ctx, rq.tenantID(), store.ResourceFilter{AgentID: a.ID}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return nil, fmt.Errorf("agent resources: %w", err)
	}
	return d, nil
}
