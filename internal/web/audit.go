package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The audit log (admins, as in the API): records newest first, filtered by
// actor, action and target, and a button that verifies the hash chain.

type auditData struct {
	Actor, Action, Target string
	Records               []store.AuditRecord
	NextURL               string
	// Verified is set when the page was asked to verify the chain.
	Verified *audit.Report
	// Titles name the targets that are OpsItems or runbooks, by target
	// ("opsitem/oi_…"), with a link to their page.
	Titles map[string]targetTitle
}

// targetTitle is what an audit target is called, and where it is.
type targetTitle struct{ Title, URL string }

func (h *Handler) auditRoutes() {
	h.pageFor("GET /audit", "audit", store.RoleAdmin, h.auditPage)
}

func (h *Handler) auditPage(rq *request) (any, error) {
	rq.view.Title = "Audit log"
	q := rq.URL.Query()
	d := auditData{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	for _, v := range []string{d.Actor, d.Action, d.Target} {
		if len(v) > 200 {
			return nil, errBadRequest("A filter is longer than 200 characters.")
		}
	}
	cursor := q.Get("cursor")
	if _, err := strconv.ParseInt(cursor, 10, 64); cursor != "" && err != nil {
		return nil, errBadRequest("The page cursor is invalid.")
	}
	recs, next, err := h.st.SearchAudit(rq.ctx, rq.tenantID(), store.AuditFilter{Actor: d.Actor, Action: d.Action, Target: d.Target},
		store.Page{Limit: listPageSize, Cursor: cursor})
	if err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	d.Records = recs
	d.Titles = h.targetTitles(rq, recs)
	if next != "" {
		d.NextURL = rq.view.Link("/audit", "actor", d.Actor, "action", d.Action, "target", d.Target, "cursor", next)
	}
	if q.Get("verify") != "" {
		rep, err := audit.Verify(rq.ctx, h.st, rq.tenantID())
		if err != nil {
			return nil, fmt.Errorf("verify audit chain: %w", err)
		}
		d.Verified = &rep
	}
	return d, nil
}

// targetTitles looks up the titles of the OpsItems the records are about
// (once each) and names runbooks, so the log reads as titles with the ids
// beside them.
func (h *Handler) targetTitles(rq *request, recs []store.AuditRecord) map[string]targetTitle {
	out := map[string]targetTitle{}
	for _, r := range recs {
		if _, done := out[r.Target]; done {
			continue
		}
		kind, id, ok := strings.Cut(r.Target, "/")
		if !ok || id == "" {
			continue
		}
		switch kind {
		case "opsitem":
			if o, err := h.st.GetOpsItem(rq.ctx, rq.tenantID(), id); err == nil {
				out[r.Target] = targetTitle{Title: o.Title, URL: rq.view.Link("/opsitems/" + id)}
			}
		case "runbook":
			out[r.Target] = targetTitle{Title: "Runbook " + id, URL: rq.view.Link("/runbooks/" + id)}
		}
	}
	return out
}
