package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// workRoutes registers the pages people work in: OpsItems (live) and their
// actions, runbooks, executions, approvals, and the live-update stream.
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
	h.runbookRoutes()
	h.mux.HandleFunc("GET /live", h.liveStream)
}

// opsItemAction applies a person's handling from the OpsItem page — the
// same opsitem.Apply as the API, with its audit record in the same
// transaction — and goes back to the page. A refused action shows the page
// again with the reason.
func (h *Handler) opsItemAction(kind string) actionFunc {
	return func(rq *request) (string, error) {
		id, tenant := rq.PathValue("id"), rq.tenantID()
		a := opsitem.Action{Kind: kind, Actor: rq.sess.Principal.Actor(), Assignee: rq.PostFormValue("assignee"),
			Status: rq.PostFormValue("status"), Text: rq.PostFormValue("comment")}
		if kind == opsitem.Note {
			a.Text = rq.PostFormValue("text")
		}
		err := h.st.InTx(rq.ctx, func(tx store.Tx) error {
			return applyHandling(rq.ctx, tx, tenant, id, a, h.now())
		})
		if err := h.actionProblem(rq, id, err); err != nil {
			return "", err
		}
		return rq.view.Link("/opsitems/" + id), nil
	}
}

// actionProblem turns an action's error into what the page shows: a
// refused action shows the OpsItem page again with the reason.
func (h *Handler) actionProblem(rq *request, id string, err error) error {
	if ie, ok := opsitem.IsInvalid(err); ok && !ie.NotFound {
		d, derr := h.opsItemData(rq, id)
		if derr != nil {
			return derr
		}
		d.Problem, d.Form = ie.Msg, rq.PostForm
		status := http.StatusBadRequest
		if ie.Conflict {
			status = http.StatusConflict
		}
		return &formProblem{Status: status, Tmpl: "opsitem", Title: d.Item.Title, Data: d}
	}
	if ie, ok := opsitem.IsInvalid(err); ok {
		return errNotFound("%s", ie.Msg)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("There is no OpsItem %q.", id)
	}
	return err
}

// mergeAction merges the OpsItems named in the form's "from" (IDs
// separated by spaces or commas) into this one — opsitem.Merge, as the
// API — and goes back to the page.
func (h *Handler) mergeAction(rq *request) (string, error) {
	id, tenant := rq.PathValue("id"), rq.tenantID()
	from := strings.FieldsFunc(rq.PostFormValue("from"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	err := h.st.InTx(rq.ctx, func(tx store.Tx) error {
		_, e, err := opsitem.Merge(rq.ctx, tx, tenant, id, from, rq.sess.Principal.Actor(), h.now())
		return appendAudit(rq.ctx, tx, tenant, h.now(), e, err)
	})
	if err := h.actionProblem(rq, id, err); err != nil {
		return "", err
	}
	return rq.view.Link("/opsitems/" + id), nil
}

// splitAction moves the form's member alert "fingerprint" into a new
// OpsItem — opsitem.Split, as the API — and goes to the new OpsItem.
func (h *Handler) splitAction(rq *request) (string, error) {
	id, tenant := rq.PathValue("id"), rq.tenantID()
	var n store.OpsItem
	err := h.st.InTx(rq.ctx, func(tx store.Tx) error {
		o, e, err := opsitem.Split(rq.ctx, tx, tenant, id, rq.PostFormValue("fingerprint"), rq.sess.Principal.Actor(), h.now())
		n = o
		return appendAudit(rq.ctx, tx, tenant, h.now(), e, err)
	})
	if err := h.actionProblem(rq, id, err); err != nil {
		return "", err
	}
	return rq.view.Link("/opsitems/" + n.ID), nil
}

func appendAudit(ctx context.Context, tx store.Tx, tenant string, now time.Time, e audit.Entry, err error) error {
	if err != nil {
		return err
	}
	_, err = audit.Append(ctx, tx, tenant, now, e)
	return err
}

// applyHandling applies a and appends its audit record, in tx.
func applyHandling(ctx context.Context, tx store.Tx, tenant, id string, a opsitem.Action, now time.Time) error {
	_, e, err := opsitem.Apply(ctx, tx, tenant, id, a, now)
	return appendAudit(ctx, tx, tenant, now, e, err)
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
