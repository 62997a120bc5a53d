package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// The compliance page: the tenant's trend, its packs, controls and
// accounts as the last evaluation scored them, the resources that are
// NON_COMPLIANT and the exceptions (docs/compliance.md).

func (h *Handler) complianceRoutes() {
	h.page("GET /compliance", "compliance", h.compliancePage)
}

type complianceData struct {
	Tenant   *store.ComplianceScore
	Trend    string // SVG polyline points of the tenant's %, oldest first
	TrendN   int
	Packs    []store.ComplianceScore
	Controls map[string][]store.ComplianceScore // by pack
	Accounts []store.ComplianceScore
	Failing  []store.ComplianceResult
	More     bool
	Excepted []exceptionRow
}

type exceptionRow struct {
	store.ComplianceException
	Expired bool
}

// complianceTrendDays is how far back the page looks.
const complianceTrendDays = 30

func (h *Handler) compliancePage(rq *request) (any, error) {
	rq.view.Title = "Compliance"
	tenant, now := rq.tenantID(), h.now()
	since := now.Add(-complianceTrendDays * 24 * time.Hour)
	d := complianceData{Controls: map[string][]store.ComplianceScore{}}
	trend, err := h.st.ListComplianceScores(rq.ctx, tenant, store.ScopeTenant, "", since, 1000)
	if err != nil {
		return nil, fmt.Errorf("compliance trend: %w", err)
	}
	if n := len(trend); n > 0 {
		d.Tenant, d.TrendN = &trend[n-1], n
		d.Trend = trendPoints(trend)
	}
	latest := func(scope string) ([]store.ComplianceScore, error) {
		all, err := h.st.ListComplianceScores(rq.ctx, tenant, scope, "", since, 10000)
		if err != nil {
			return nil, fmt.Errorf("compliance scores: %w", err)
		}
		last := map[string]store.ComplianceScore{}
		for _, s := range all {
			last[s.Name] = s // oldest first: the last one wins
		}
		out := make([]store.ComplianceScore, 0, len(last))
		for _, s := range last {
			out = append(out, s)
		}
		slices.SortFunc(out, func(a, b store.ComplianceScore) int { return strings.Compare(a.Name, b.Name) })
		return out, nil
	}
	if d.Packs, err = latest(store.ScopePack); err != nil {
		return nil, err
	}
	controls, err := latest(store.ScopeControl)
	if err != nil {
		return nil, err
	}
	for _, c := range controls {
		pack, id, _ := strings.Cut(c.Name, "/")
		c.Name = id
		d.Controls[pack] = append(d.Controls[pack], c)
	}
	if d.Accounts, err = latest(store.ScopeAccount); err != nil {
		return nil, err
	}
	failing, next, err := h.st.ListComplianceResults(rq.ctx, tenant, store.ComplianceResultFilter{Status: "NON_COMPLIANT"}, store.Page{Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("compliance results: %w", err)
	}
	d.Failing, d.More = failing, next != ""
	exc, _, err := h.st.ListComplianceExceptions(rq.ctx, tenant, store.Page{Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("compliance exceptions: %w", err)
	}
	for _, e := range exc {
		d.Excepted = append(d.Excepted, exceptionRow{ComplianceException: e, Expired: !now.Before(e.ExpiresAt)})
	}
	return d, nil
}

// trendPoints draws scores as a polyline in a 300×100 box: time along x,
// 0–100 % up y.
func trendPoints(ss []store.ComplianceScore) string {
	first, last := ss[0].At, ss[len(ss)-1].At
	span := last.Sub(first).Seconds()
	var b strings.Builder
	for i, s := range ss {
		x := 0.0
		if span > 0 {
			x = 300 * s.At.Sub(first).Seconds() / span
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, 100-s.Percent)
	}
	return b.String()
}
