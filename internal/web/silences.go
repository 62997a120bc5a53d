package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/silence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Silences: the list (active and pending; ended ones on request), a form
// to create one from matchers and a duration, and Expire. The same checks
// and audit actions as POST/DELETE /api/v1/silences.

type silenceRow struct {
	store.Silence
	State silence.State
}

type silencesData struct {
	Items   []silenceRow
	Expired bool
	NextURL string
	CanAct  bool
	Problem string
	Form    url.Values
}

// silenceDurations are the form's choices for how long a silence lasts.
var silenceDurations = []string{"1h", "2h", "4h", "8h", "24h", "72h", "168h"}

func (h *Handler) deflectionRoutes() {
	h.page("GET /silences", "silences", h.silences)
	h.action("POST /silences", store.RoleOperator, h.createSilence)
	h.action("POST /silences/{id}/expire", store.RoleOperator, h.expireSilence)
	h.page("GET /maintenance", "maintenance", h.maintenance)
	h.action("POST /maintenance", store.RoleOperator, h.createWindow)
	h.action("POST /maintenance/{id}/delete", store.RoleOperator, h.deleteWindow)
	h.page("GET /maintenance/{id}", "window", h.windowPage)
	h.page("GET /maintenance/runs/{id}", "windowrun", h.windowRunPage)
}

func (h *Handler) silencesData(rq *request) (*silencesData, error) {
	rq.view.Title = "Silences"
	d := &silencesData{Expired: rq.URL.Query().Get("expired") == "true", CanAct: rq.canAct()}
	cursor := rq.URL.Query().Get("cursor")
	if len(cursor) > 128 {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	now := h.now()
	items, next, err := h.st.ListSilences(rq.ctx, rq.tenantID(), store.SilenceFilter{Now: now, Expired: d.Expired}, store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	for _, it := range items {
		s := &silence.Silence{StartsAt: it.StartsAt, EndsAt: it.EndsAt}
		d.Items = append(d.Items, silenceRow{Silence: it, State: s.State(now)})
	}
	if next != "" {
		exp := ""
		if d.Expired {
			exp = "true"
		}
		d.NextURL = rq.view.Link("/silences", "expired", exp, "cursor", next)
	}
	return d, nil
}

// silences lists the silences; ?matchers= and ?comment= prefill the form
// (an OpsItem's "silence this" link).
func (h *Handler) silences(rq *request) (any, error) {
	d, err := h.silencesData(rq)
	if err != nil {
		return nil, err
	}
	q := rq.URL.Query()
	if m := q.Get("matchers"); m != "" && len(m) <= 8192 && len(q.Get("comment")) <= 1024 {
		d.Form = url.Values{"matchers": {m}, "comment": {q.Get("comment")}}
	}
	return d, nil
}

// silenceProblem shows the silences page again with the form's problem.
func (h *Handler) silenceProblem(rq *request, status int, msg string) error {
	d, err := h.silencesData(rq)
	if err != nil {
		return err
	}
	d.Problem, d.Form = msg, rq.PostForm
	return &formProblem{Status: status, Tmpl: "silences", Title: "Silences", Data: d}
}

func (h *Handler) createSilence(rq *request) (string, error) {
	var matchers []string
	for _, l := range strings.Split(rq.PostFormValue("matchers"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			matchers = append(matchers, l)
		}
	}
	in := service.SilenceInput{Matchers: matchers, Duration: strings.TrimSpace(rq.PostFormValue("duration")),
		Comment: strings.TrimSpace(rq.PostFormValue("comment"))}
	_, err := h.svc().CreateSilence(rq.ctx, rq.caller(), in)
	if e, ok := service.As(err); ok && e.Kind == service.Invalid {
		return "", h.silenceProblem(rq, http.StatusBadRequest, e.Msg)
	}
	if err != nil {
		return "", servicePage(err)
	}
	return rq.view.Link("/silences"), nil
}

func (h *Handler) expireSilence(rq *request) (string, error) {
	if err := h.svc().ExpireSilence(rq.ctx, rq.caller(), rq.PathValue("id")); err != nil {
		return "", servicePage(err)
	}
	return rq.view.Link("/silences"), nil
}

// mutate runs fn in a transaction and appends the audit record it returns,
// attributed to the session, in the same transaction (service.Mutate).
func (h *Handler) mutate(rq *request, fn func(ctx context.Context, tx store.Tx) (audit.Entry, error)) error {
	return h.svc().Mutate(rq.ctx, rq.caller(), fn)
}
