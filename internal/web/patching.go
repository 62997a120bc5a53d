package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The patching pages: compliance by group, application and host with the
// trend, and a host's page with each update, the baseline's decision and
// why the host is not compliant (docs/patching.md).

// PatchReports is what the pages read of patch management; *patch.Service
// is one.
type PatchReports interface {
	Compliance(ctx context.Context, tenant string, days int) (patch.Report, error)
	Host(ctx context.Context, tenant, resourceID string) (patch.HostCompliance, error)
}

var _ PatchReports = (*patch.Service)(nil)

func (h *Handler) patchRoutes() {
	h.page("GET /patching", "patching", h.patching)
	h.page("GET /patching/{id}", "patchhost", h.patchHost)
}

type patchingData struct {
	Available bool
	Report    patch.Report
	// Trend is the compliance per day, drawn as the dashboard's trend
	// charts are (nil without scans).
	Trend *trendChart
}

// patchTrend charts the compliance per day: a line of the percentage,
// with the hosts counted each day in its table; a day without scanned
// hosts is a gap.
func patchTrend(pts []patch.TrendPoint) *trendChart {
	if len(pts) == 0 {
		return nil
	}
	tr := stats.Trends{Unit: stats.Day}
	for _, p := range pts {
		day, err := time.Parse(time.DateOnly, p.Day)
		if err != nil {
			return nil
		}
		tr.Points = append(tr.Points, stats.TrendPoint{Start: day, End: day.AddDate(0, 0, 1)})
	}
	f := newTrendFrame(tr, time.UTC)
	c := f.chart("patch-trend", "Compliance per day", "Share of the scanned hosts that were compliant, per day; gaps where no host was scanned.",
		"Compliant", "Hosts")
	vals := make([]trendValue, len(pts))
	for i, p := range pts {
		c.Rows[i].Cells = []string{"–", strconv.Itoa(p.Hosts)}
		if p.Hosts > 0 {
			vals[i] = trendValue{p.Percent / 100, true}
			c.Rows[i].Cells[0] = strconv.FormatFloat(p.Percent, 'f', 1, 64) + " %"
		}
	}
	f.line(&c, "rate", vals, 1, func(i int) string {
		return fmt.Sprintf("%s: %s of %d hosts", pts[i].Day, c.Rows[i].Cells[0], pts[i].Hosts)
	})
	c.MaxLabel, c.ZeroLabel = "100 %", "0 %"
	return &c
}

func (h *Handler) patching(rq *request) (any, error) {
	rq.view.Title = "Patching"
	d := &patchingData{Available: h.patch != nil}
	if h.patch == nil {
		return d, nil
	}
	rep, err := h.patch.Compliance(rq.ctx, rq.tenantID(), 30)
	if err != nil {
		return nil, fmt.Errorf("patch compliance: %w", err)
	}
	d.Report, d.Trend = rep, patchTrend(rep.Trend)
	return d, nil
}

func (h *Handler) patchHost(rq *request) (any, error) {
	id := rq.PathValue("id")
	if h.patch == nil {
		return nil, errNotFound("Patch management is not available on this server.")
	}
	host, err := h.patch.Host(rq.ctx, rq.tenantID(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("Host %q has not been scanned.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("patch host: %w", err)
	}
	rq.view.Title = "Patching: " + host.Hostname
	return host, nil
}
