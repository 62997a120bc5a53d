package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Automation candidates: recurring OpsItems people resolved by hand, and
// Rules drafted from them or from any OpsItem — shown, downloaded, or
// saved into the server's content directory (admins).

type candidatesData struct {
	Periods    []periodOption
	Period     string
	From, To   time.Time
	Candidates []stats.Candidate
}

// draftData is the rule page: the drafted YAML or why there is none.
type draftData struct {
	// Source names what it was drafted from, for the heading.
	Source     string
	BackURL    string
	FormAction string
	Candidate  string
	OpsItem    string
	Period     string
	Runbook    string
	Runbooks   []option
	YAML       string
	Name       string
	Problem    string
	CanSave    bool
	ContentDir string
	Saved      string
}

func (h *Handler) candidateRoutes() {
	h.page("GET /candidates", "candidates", h.candidates)
	h.page("GET /candidates/{id}/rule", "draft", h.candidateDraftPage)
	h.page("GET /opsitems/{id}/rule", "draft", h.opsItemDraftPage)
	h.mux.HandleFunc("GET /candidates/{id}/rule.yaml", h.download(h.candidateDraft))
	h.mux.HandleFunc("GET /opsitems/{id}/rule.yaml", h.download(h.opsItemDraft))
	h.action("POST /automation/rules", store.RoleAdmin, h.saveDraft)
}

// period reads ?period= (default 30d) into [from, to).
func (h *Handler) period(rq *request, def string) (key string, from, to time.Time, opts []periodOption, err error) {
	key = rq.URL.Query().Get("period")
	if key == "" {
		key = def
	}
	var length time.Duration
	for _, p := range periods {
		opts = append(opts, periodOption{Key: p.Key, Label: p.Label, Selected: p.Key == key})
		if p.Key == key {
			length = p.Len
		}
	}
	if length == 0 {
		return key, from, to, opts, errBadRequest("There is no period %q; choose 1d, 7d, 30d or 90d.", key)
	}
	// Periods end at the next minute boundary, as the API's default does.
	to = h.now().UTC().Truncate(time.Minute).Add(time.Minute)
	return key, to.Add(-length), to, opts, nil
}

func (h *Handler) candidates(rq *request) (any, error) {
	rq.view.Title = "Automation candidates"
	key, from, to, opts, err := h.period(rq, "30d")
	if err != nil {
		return nil, err
	}
	cs, err := stats.Candidates(rq.ctx, h.st, rq.tenantID(), from, to)
	if err != nil {
		return nil, fmt.Errorf("automation candidates: %w", err)
	}
	return candidatesData{Periods: opts, Period: key, From: from, To: to, Candidates: cs}, nil
}

// candidateDraft drafts the rule of the candidate in the path.
func (h *Handler) candidateDraft(rq *request) (stats.Draft, *draftData, error) {
	id := rq.PathValue("id")
	key, from, to, _, err := h.period(rq, "30d")
	if err != nil {
		return stats.Draft{}, nil, err
	}
	cs, err := stats.Candidates(rq.ctx, h.st, rq.tenantID(), from, to)
	if err != nil {
		return stats.Draft{}, nil, err
	}
	for _, c := range cs {
		if c.ID == id {
			dd := &draftData{Source: fmt.Sprintf("%q (%d OpsItems)", c.TitlePattern, c.Count), Candidate: id, Period: key,
				FormAction: "/candidates/" + id + "/rule", BackURL: rq.view.Link("/candidates", "period", key)}
			for _, rb := range c.Runbooks {
				dd.Runbooks = append(dd.Runbooks, option{Value: rb, Label: rb})
			}
			d, err := stats.CandidateDraft(rq.ctx, h.st, rq.tenantID(), c, rq.URL.Query().Get("runbook"))
			return d, dd, err
		}
	}
	return stats.Draft{}, nil, errNotFound("There is no automation candidate %q in the last %s.", id, key)
}

// opsItemDraft drafts the rule of the OpsItem in the path.
func (h *Handler) opsItemDraft(rq *request) (stats.Draft, *draftData, error) {
	id := rq.PathValue("id")
	o, err := h.st.GetOpsItem(rq.ctx, rq.tenantID(), id)
	if errors.Is(err, store.ErrNotFound) || len(id) > 128 {
		return stats.Draft{}, nil, errNotFound("There is no OpsItem %q.", id)
	}
	if err != nil {
		return stats.Draft{}, nil, err
	}
	dd := &draftData{Source: fmt.Sprintf("OpsItem %q", o.Title), OpsItem: id, FormAction: "/opsitems/" + id + "/rule",
		BackURL: rq.view.Link("/opsitems/" + id)}
	d, err := stats.OpsItemDraft(rq.ctx, h.st, rq.tenantID(), o, rq.URL.Query().Get("runbook"))
	return d, dd, err
}

func (h *Handler) candidateDraftPage(rq *request) (any, error) {
	return h.draftPage(rq, h.candidateDraft)
}
func (h *Handler) opsItemDraftPage(rq *request) (any, error) { return h.draftPage(rq, h.opsItemDraft) }

// draftPage shows a drafted rule, or what is missing to draft one, with
// the runbooks to choose from.
func (h *Handler) draftPage(rq *request, draft func(*request) (stats.Draft, *draftData, error)) (any, error) {
	rq.view.Title = "Draft automation rule"
	d, dd, err := draft(rq)
	if dd == nil {
		return nil, err
	}
	dd.Runbook = d.Runbook
	if h.rb != nil {
		for _, rb := range h.rb.Runbooks().List(rq.tenantID()) {
			if !containsOption(dd.Runbooks, rb.Name) {
				dd.Runbooks = append(dd.Runbooks, option{Value: rb.Name, Label: rb.Name})
			}
		}
	}
	dd.ContentDir = h.contentDir
	dd.CanSave = h.contentDir != "" && rq.sess.Principal.Allows(store.RoleAdmin)
	dd.Saved = rq.URL.Query().Get("saved")
	if err == nil {
		var y []byte
		y, err = stats.CheckDraft(d, h.contentDir)
		dd.YAML, dd.Name = string(y), d.Name()
	}
	switch {
	case errors.Is(err, stats.ErrNoRunbook), errors.Is(err, stats.ErrInvalidDraft):
		dd.Problem, dd.YAML = err.Error(), ""
	case err != nil:
		return nil, err
	}
	return dd, nil
}

func containsOption(opts []option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

// download serves a drafted rule as a YAML file.
func (h *Handler) download(draft func(*request) (stats.Draft, *draftData, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq, cancel, ok := h.begin(w, r)
		if !ok {
			return
		}
		defer cancel()
		d, _, err := draft(rq)
		var y []byte
		if err == nil {
			y, err = stats.CheckDraft(d, h.contentDir)
		}
		if errors.Is(err, stats.ErrNoRunbook) || errors.Is(err, stats.ErrInvalidDraft) {
			err = errBadRequest("%v", err)
		}
		if err != nil {
			h.renderError(w, r, rq.sess, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+d.Name()+`.yaml"`)
		_, _ = w.Write(y)
	}
}

// saveDraft writes the drafted rule into the content directory, audited,
// and shows the rule page again saying where it went.
func (h *Handler) saveDraft(rq *request) (string, error) {
	if h.contentDir == "" {
		return "", errBadRequest("This server has no content directory to save rules in (start it with --content DIR); download the rule instead.")
	}
	cand, item := rq.PostFormValue("candidate"), rq.PostFormValue("opsitem")
	q := rq.URL.Query()
	q.Set("runbook", rq.PostFormValue("runbook"))
	q.Set("period", rq.PostFormValue("period"))
	rq.URL.RawQuery = q.Encode()
	var (
		d    stats.Draft
		back string
		err  error
	)
	switch {
	case cand != "" && item == "":
		rq.SetPathValue("id", cand)
		d, _, err = h.candidateDraft(rq)
		back = "/candidates/" + cand + "/rule"
	case item != "" && cand == "":
		rq.SetPathValue("id", item)
		d, _, err = h.opsItemDraft(rq)
		back = "/opsitems/" + item + "/rule"
	default:
		return "", errBadRequest("Choose a candidate or an OpsItem to draft from.")
	}
	if errors.Is(err, stats.ErrNoRunbook) {
		return "", errBadRequest("%v", err)
	}
	if err != nil {
		return "", err
	}
	path, err := stats.SaveDraft(h.contentDir, d)
	switch {
	case errors.Is(err, stats.ErrDraftExists):
		return "", &pageError{Status: http.StatusConflict, Message: err.Error() + "; edit that file instead."}
	case errors.Is(err, stats.ErrInvalidDraft):
		return "", errBadRequest("%v", err)
	case err != nil:
		return "", err
	}
	err = h.st.InTx(rq.ctx, func(tx store.Tx) error {
		_, err := audit.Append(rq.ctx, tx, rq.tenantID(), h.now(), audit.Entry{Actor: rq.sess.Principal.Actor(), Action: "automation.rule.save",
			Target: "rule/" + d.Name(), Result: "ok", Detail: map[string]any{"path": path, "runbook": d.Runbook, "candidate": cand, "opsitem": item}})
		return err
	})
	if err != nil {
		_ = os.Remove(path) // not audited, so not kept
		return "", err
	}
	return rq.view.Link(back, "period", rq.PostFormValue("period"), "runbook", d.Runbook, "saved", path), nil
}
