package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// workRoutes registers the pages people work in: OpsItems (live) and their
// actions, events, runbooks, executions, approvals, and the live-update
// stream.
func (h *Handler) workRoutes() {
	h.livePage("GET /opsitems", "opsitems", h.opsItems, "items")
	h.livePage("GET /areas/{category}", "opsitems", h.area, "items")
	h.livePage("GET /opsitems/{id}", "opsitem", h.opsItem, "head", "body")
	for path, kind := range map[string]string{
		"acknowledge": opsitem.Acknowledge, "assign": opsitem.Assign, "notes": opsitem.Note,
		"resolve": opsitem.Resolve, "status": opsitem.SetStatus,
	} {
		h.action("POST /opsitems/{id}/"+path, store.RoleOperator, h.opsItemAction(kind))
	}
	h.action("POST /opsitems/{id}/merge", store.RoleOperator, h.mergeAction)
	h.action("POST /opsitems/{id}/split", store.RoleOperator, h.splitAction)
	h.mux.HandleFunc("GET /opsitems/{id}/run", h.chooseRunbook)
	h.eventsRoutes() // every event with the pipeline's decision
	h.runbookRoutes()
	h.mux.HandleFunc("GET /live", h.liveStream)
}

// opsItemAction applies a person's handling from the OpsItem page — the
// same service operation as the API — and goes back to the page. A refused
// action shows the page again with the reason.
func (h *Handler) opsItemAction(kind string) actionFunc {
	return func(rq *request) (string, error) {
		id := rq.PathValue("id")
		a := opsitem.Action{Kind: kind, Assignee: rq.PostFormValue("assignee"), Status: rq.PostFormValue("status"), Text: rq.PostFormValue("comment")}
		if kind == opsitem.Note {
			a.Text = rq.PostFormValue("text")
		}
		_, err := h.svc().HandleOpsItem(rq.ctx, rq.caller(), id, a)
		if err := h.actionProblem(rq, id, err); err != nil {
			return "", err
		}
		return rq.view.Link("/opsitems/" + id), nil
	}
}

// actionProblem turns an action's error into what the page shows: a
// refused action shows the OpsItem page again with the reason.
func (h *Handler) actionProblem(rq *request, id string, err error) error {
	if e, ok := service.As(err); ok && (e.Kind == service.Invalid || e.Kind == service.Conflict) {
		d, derr := h.opsItemData(rq, id)
		if derr != nil {
			return derr
		}
		d.Problem, d.Form = e.Msg, rq.PostForm
		status := http.StatusBadRequest
		if e.Kind == service.Conflict {
			status = http.StatusConflict
		}
		return &formProblem{Status: status, Tmpl: "opsitem", Title: d.Item.Title, Data: d}
	}
	return servicePage(err)
}

// mergeAction merges the OpsItems named in the form's "from" (IDs
// separated by spaces or commas) into this one, as the API does, and goes
// back to the page.
func (h *Handler) mergeAction(rq *request) (string, error) {
	id := rq.PathValue("id")
	from := strings.FieldsFunc(rq.PostFormValue("from"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	_, err := h.svc().MergeOpsItems(rq.ctx, rq.caller(), id, from)
	if err := h.actionProblem(rq, id, err); err != nil {
		return "", err
	}
	return rq.view.Link("/opsitems/" + id), nil
}

// splitAction moves the form's member alert "fingerprint" into a new
// OpsItem, as the API does, and goes to the new OpsItem.
func (h *Handler) splitAction(rq *request) (string, error) {
	id := rq.PathValue("id")
	n, err := h.svc().SplitOpsItem(rq.ctx, rq.caller(), id, rq.PostFormValue("fingerprint"))
	if err := h.actionProblem(rq, id, err); err != nil {
		return "", err
	}
	return rq.view.Link("/opsitems/" + n.ID), nil
}

// chooseRunbook sends the OpsItem page's "run a runbook" choice to the
// runbook's form, for that OpsItem.
func (h *Handler) chooseRunbook(w http.ResponseWriter, r *http.Request) {
	name, id := r.URL.Query().Get("runbook"), r.PathValue("id")
	if name == "" || len(name) > 200 || len(id) > 128 {
		h.notFound(w, r)
		return
	}
	q := url.Values{"opsitem": {id}}
	if t := r.URL.Query().Get("tenant"); t != "" {
		q.Set("tenant", t)
	}
	http.Redirect(w, r, "/runbooks/"+url.PathEscape(name)+"?"+q.Encode(), http.StatusSeeOther)
}
