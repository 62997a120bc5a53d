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

func (h *Handler) silences(rq *request) (any, error) { return h.silencesData(rq) }

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
	comment := strings.TrimSpace(rq.PostFormValue("comment"))
	dur, err := time.ParseDuration(rq.PostFormValue("duration"))
	switch {
	case len(matchers) == 0:
		return "", h.silenceProblem(rq, http.StatusBadRequest, "Give at least one matcher, for example alertname=\"DiskFull\".")
	case len(matchers) > 64 || len(rq.PostFormValue("matchers")) > 16<<10:
		return "", h.silenceProblem(rq, http.StatusBadRequest, "At most 64 matchers.")
	case comment == "" || len(comment) > 4096:
		return "", h.silenceProblem(rq, http.StatusBadRequest, "Say why in the comment (up to 4096 characters).")
	case err != nil || dur <= 0 || dur > 366*24*time.Hour:
		return "", h.silenceProblem(rq, http.StatusBadRequest, "Choose how long the silence lasts.")
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	rec := store.Silence{ID: store.NewID(silence.IDPrefix, now), TenantID: rq.tenantID(), Matchers: matchers, StartsAt: now, EndsAt: now.Add(dur),
		Comment: comment, CreatedBy: rq.sess.Principal.Actor(), CreatedAt: now}
	sil, err := silence.FromRecord(rec)
	if err == nil {
		err = sil.Validate()
	}
	if err != nil {
		return "", h.silenceProblem(rq, http.StatusBadRequest, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	rec = sil.Record()
	err = h.mutate(rq, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.CreateSilence(ctx, rec); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.create", Target: "silence/" + rec.ID, Detail: map[string]any{
			"matchers": rec.Matchers, "starts_at": rec.StartsAt, "ends_at": rec.EndsAt, "comment": clip(rec.Comment, 200)}}, nil
	})
	if err != nil {
		return "", err
	}
	return rq.view.Link("/silences"), nil
}

func (h *Handler) expireSilence(rq *request) (string, error) {
	id := rq.PathValue("id")
	err := h.mutate(rq, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.ExpireSilence(ctx, rq.tenantID(), id, h.now(), rq.sess.Principal.Actor()); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "silence.expire", Target: "silence/" + id}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", errNotFound("There is no silence %q, or it has already ended.", id)
	}
	if err != nil {
		return "", err
	}
	return rq.view.Link("/silences"), nil
}

// mutate runs fn in a transaction and appends the audit record it returns,
// attributed to the session, in the same transaction.
func (h *Handler) mutate(rq *request, fn func(ctx context.Context, tx store.Tx) (audit.Entry, error)) error {
	return h.st.InTx(rq.ctx, func(tx store.Tx) error {
		e, err := fn(rq.ctx, tx)
		if err != nil {
			return err
		}
		if e.Actor == "" {
			e.Actor = rq.sess.Principal.Actor()
		}
		if e.Result == "" {
			e.Result = "ok"
		}
		_, err = audit.Append(rq.ctx, tx, rq.tenantID(), h.now(), e)
		return err
	})
}

// clip shortens s to at most n bytes for an audit detail.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:max(0, len(r)-1)]) + "…"
}
