package web

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/patch"
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
	Bars      []trendBar
}

// trendBar is one day of the trend chart, drawn as SVG on the server.
type trendBar struct {
	X, Y, Height float64
	Label        string
}

const trendHeight = 60.0

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
	d.Report = rep
	for i, p := range rep.Trend {
		height := trendHeight * p.Percent / 100
		d.Bars = append(d.Bars, trendBar{X: float64(i) * 12, Y: trendHeight - height, Height: height,
			Label: fmt.Sprintf("%s: %.1f%% of %d hosts", p.Day, p.Percent, p.Hosts)})
	}
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
