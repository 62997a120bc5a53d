package web

import (
	"context"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
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
