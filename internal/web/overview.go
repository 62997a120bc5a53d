package web

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// overviewScanLimit bounds how many OpsItems of one status the overview
// reads to count them. Counting by paging through the list is the simplest
// thing that works until the store grows aggregate queries; past the bound
// the page says its counts are partial.
const overviewScanLimit = 10 * store.MaxPageLimit

// barWidth is the width of the longest bar in the overview's SVG bars.
const barWidth = 160

// countRow is one line of an overview table: a severity or a category.
type countRow struct {
	Key, Label             string
	Open, InProgress       int
	OpenURL, InProgressURL string
	Bar                    int // width in px of the open-count bar
}

// countTable is one overview table; Heading names its first column.
type countTable struct {
	Heading string
	Rows    []countRow
}

type overviewData struct {
	Open, InProgress int
	// Partial is set when more OpsItems exist than were counted.
	Partial    bool
	ScanLimit  int
	BySeverity countTable
	ByCategory countTable
	// Items are the newest open OpsItems.
	Items     []store.OpsItem
	OpenURL   string
	ActiveURL string
	// Tasks are the setup check's open tasks (platform admins only).
	Tasks []doctor.Check
	// Attention is what waits for people: approvals, failed executions
	// of the last 24 hours, open circuit breakers (with runbooks only).
	Attention *attention
	// Onboarding is set while the tenant has received no event yet.
	Onboarding *onboarding
}

// attention is the overview's "needs attention" block.
type attention struct {
	Approvals int
	// Failed are the executions that failed in the last 24 hours, newest
	// first (up to failedShown); FailedCount counts them all (up to
	// failedScan).
	Failed                               []store.Execution
	FailedCount                          int
	Breakers                             []breakerRow
	ApprovalsURL, FailedURL, BreakersURL string
}

const (
	failedShown = 5
	failedScan  = 100
)

// onboarding is the help an empty tenant sees: where to send events, how
// to get a token, and an Alertmanager receiver and a curl call to copy.
type onboarding struct {
	Tenant string
	// Base is the server's address as the browser reached it.
	Base string
	// Intake lists the intake URLs with what posts to each.
	Intake []intakeURL
	// Alertmanager and Curl are snippets to copy.
	Alertmanager, Curl, Token string
}

type intakeURL struct{ URL, What string }

// newOnboarding builds the onboarding help for tenant, with the server's
// address from the request (its Host, and https when the UI is served
// over TLS).
func newOnboarding(rq *request, secure bool) *onboarding {
	scheme := "http"
	if secure || rq.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + rq.Host
	t := rq.tenantID()
	o := &onboarding{Tenant: t, Base: base,
		Intake: []intakeURL{
			{base + "/api/v1/intake/alertmanager", "Alertmanager webhook receivers"},
			{base + "/api/v2/alerts", "Prometheus, as an Alertmanager (alerting.alertmanagers)"},
			{base + "/api/v1/intake/eventbridge", "Amazon EventBridge API destinations (GuardDuty, Security Hub, CloudWatch, Health)"},
			{base + "/api/v1/intake/sns", "Amazon SNS subscriptions"},
			{base + "/api/v1/intake/generic", "anything else: one JSON object per event"},
		},
		Token: "flywheel token create --tenant " + t + " --name alertmanager --role intake --json | jq -r .secret > flywheel-token",
		Alertmanager: `receivers:
  - name: flywheel
    webhook_configs:
      - url: ` + base + `/api/v1/intake/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials_file: /etc/alertmanager/flywheel-token`,
		Curl: `curl -sS -X POST ` + base + `/api/v1/intake/generic \
  -H "Authorization: Bearer $(cat flywheel-token)" \
  -H "Content-Type: application/json" \
  -d '{"source": "test", "title": "Disk almost full on web-01", "severity": "high", "resource": "web-01"}'`,
	}
	return o
}

// attentionFor gathers the overview's attention block.
func (h *Handler) attentionFor(rq *request) (*attention, error) {
	ctx, tenant, v := rq.ctx, rq.tenantID(), rq.view
	a := &attention{ApprovalsURL: v.Link("/approvals"), FailedURL: v.Link("/executions", "status", runbook.StatusFailed),
		BreakersURL: v.Link("/runbooks") + "#breakers"}
	waiting, _, err := h.st.ListExecutions(ctx, tenant, store.ExecutionFilter{Status: runbook.StatusWaitingApproval}, store.Page{Limit: approvalsLimit})
	if err != nil {
		return nil, fmt.Errorf("executions waiting: %w", err)
	}
	a.Approvals = len(waiting)
	failed, _, err := h.st.ListExecutions(ctx, tenant, store.ExecutionFilter{Status: runbook.StatusFailed}, store.Page{Limit: failedScan})
	if err != nil {
		return nil, fmt.Errorf("failed executions: %w", err)
	}
	since := h.now().Add(-24 * time.Hour)
	for _, e := range failed {
		at := e.EndedAt
		if at.IsZero() {
			at = e.CreatedAt
		}
		if at.Before(since) {
			continue
		}
		a.FailedCount++
		if len(a.Failed) < failedShown {
			a.Failed = append(a.Failed, e)
		}
	}
	bs, err := h.breakers(rq)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if b.Open {
			a.Breakers = append(a.Breakers, b)
		}
	}
	return a, nil
}

// tally counts one status's OpsItems by severity and by category.
type tally struct {
	total   int
	partial bool
	bySev   map[string]int
	byCat   map[string]int
}

func (h *Handler) tally(ctx context.Context, tenant, status string) (tally, error) {
	t := tally{bySev: map[string]int{}, byCat: map[string]int{}}
	page := store.Page{Limit: store.MaxPageLimit}
	for t.total < overviewScanLimit {
		items, next, err := h.st.ListOpsItems(ctx, tenant, store.OpsItemFilter{Status: status}, page)
		if err != nil {
			return t, fmt.Errorf("count %s opsitems: %w", status, err)
		}
		for _, o := range items {
			t.total++
			t.bySev[o.Severity]++
			t.byCat[o.Category]++
		}
		if next == "" {
			return t, nil
		}
		page.Cursor = next
	}
	t.partial = true
	return t, nil
}

func (h *Handler) overview(rq *request) (any, error) {
	rq.view.Title = "Overview"
	open, err := h.tally(rq.ctx, rq.tenantID(), opsitem.StatusOpen)
	if err != nil {
		return nil, err
	}
	prog, err := h.tally(rq.ctx, rq.tenantID(), opsitem.StatusInProgress)
	if err != nil {
		return nil, err
	}
	latest, _, err := h.st.ListOpsItems(rq.ctx, rq.tenantID(), store.OpsItemFilter{Status: opsitem.StatusOpen}, store.Page{Limit: 5})
	if err != nil {
		return nil, fmt.Errorf("latest opsitems: %w", err)
	}
	v := rq.view
	d := overviewData{
		Open: open.total, InProgress: prog.total, Partial: open.partial || prog.partial, ScanLimit: overviewScanLimit,
		Items:   latest,
		OpenURL: v.Link("/opsitems", "status", opsitem.StatusOpen), ActiveURL: v.Link("/opsitems", "status", opsitem.StatusInProgress),
	}
	row := func(key, label, field string, open, prog int) countRow {
		return countRow{Key: key, Label: label, Open: open, InProgress: prog,
			OpenURL:       v.Link("/opsitems", field, key, "status", opsitem.StatusOpen),
			InProgressURL: v.Link("/opsitems", field, key, "status", opsitem.StatusInProgress)}
	}
	d.BySeverity.Heading, d.ByCategory.Heading = "Severity", "Area"
	for _, s := range opsitem.Severities {
		d.BySeverity.Rows = append(d.BySeverity.Rows, row(s, s, "severity", open.bySev[s], prog.bySev[s]))
	}
	for _, c := range opsitem.Categories {
		r := row(c, opsitem.CategoryTitles[c], "category", open.byCat[c], prog.byCat[c])
		r.OpenURL = v.Link("/areas/"+c, "status", opsitem.StatusOpen)
		r.InProgressURL = v.Link("/areas/"+c, "status", opsitem.StatusInProgress)
		d.ByCategory.Rows = append(d.ByCategory.Rows, r)
	}
	scaleBars(d.BySeverity.Rows)
	scaleBars(d.ByCategory.Rows)
	if h.doctor != nil && rq.sess.Principal.PlatformAdmin {
		d.Tasks = h.doctor.Run(rq.ctx).Tasks()
	}
	if h.rb != nil {
		if d.Attention, err = h.attentionFor(rq); err != nil {
			return nil, err
		}
	}
	evs, _, err := h.st.ListEvents(rq.ctx, rq.tenantID(), store.EventFilter{}, store.Page{Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if len(evs) == 0 {
		d.Onboarding = newOnboarding(rq, h.secure)
	}
	return d, nil
}

// scaleBars sizes each row's bar relative to the largest open count.
func scaleBars(rows []countRow) {
	most := 0
	for _, r := range rows {
		most = max(most, r.Open)
	}
	if most == 0 {
		return
	}
	for i := range rows {
		if rows[i].Open > 0 {
			rows[i].Bar = max(2, rows[i].Open*barWidth/most)
		}
	}
}
