package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/stats"
)

// The flywheel dashboard: the figures of GET /api/v1/stats/flywheel for a
// period, computed by the same package, and their trends per calendar
// bucket drawn as SVG (trendchart.go).

// periods are the dashboard's period choices, in the order offered.
var periods = []struct {
	Key   string
	Label string
	Len   time.Duration
}{
	{"1d", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
	{"90d", "Last 90 days", 90 * 24 * time.Hour},
}

type periodOption struct {
	Key, Label string
	Selected   bool
}

type dashboardData struct {
	Periods []periodOption
	Period  string
	stats.Flywheel
	// Trends are the figures per calendar bucket in Zone, drawn as Charts.
	Trends stats.Trends
	Charts []trendChart
	// Zone names the buckets' time zone; ZoneQuery is the ?tz= asked for
	// ("" for the server's).
	Zone, ZoneQuery string
	// Savings is this month's savings of resource schedules (nil without
	// them): the financial flywheel's figure.
	Savings *cost.Totals
}

// insightRoutes registers the dashboard, the automation candidates and
// the pages over silences, maintenance windows, the fleet and the audit log.
func (h *Handler) insightRoutes() {
	h.page("GET /dashboard", "dashboard", h.dashboard)
	h.candidateRoutes()
	h.deflectionRoutes()
	h.fleetRoutes()
	h.auditRoutes()
	h.backupRoutes()
	h.complianceRoutes()
}

func (h *Handler) dashboard(rq *request) (any, error) {
	rq.view.Title = "Flywheel dashboard"
	key, from, to, opts, err := h.period(rq, "7d")
	if err != nil {
		return nil, err
	}
	loc, err := h.zone(rq)
	if err != nil {
		return nil, err
	}
	d := dashboardData{Periods: opts, Period: key, Zone: zoneName(loc, h.now()), ZoneQuery: rq.URL.Query().Get("tz")}
	f, err := stats.Compute(rq.ctx, h.st, rq.tenantID(), from, to, h.estimator(), h.verifier())
	if err != nil {
		return nil, fmt.Errorf("flywheel stats: %w", err)
	}
	d.Flywheel = f
	if d.Trends, err = stats.ComputeTrends(rq.ctx, h.st, rq.tenantID(), from, to, loc, h.estimator(), h.verifier()); err != nil {
		return nil, fmt.Errorf("flywheel trends: %w", err)
	}
	d.Charts = trendCharts(d.Trends, loc)
	if h.costs != nil {
		rep, err := api.Savings(rq.ctx, h.costs, rq.tenantID(), "", h.now())
		if err != nil {
			return nil, fmt.Errorf("savings: %w", err)
		}
		d.Savings = &rep.Totals
	}
	return d, nil
}

// zoneName names a zone for people: its IANA name, or for the server's
// unnamed local zone its abbreviation now ("server time, CET").
func zoneName(loc *time.Location, now time.Time) string {
	if loc.String() != "Local" {
		return loc.String()
	}
	abbr, _ := now.In(loc).Zone()
	return "server time, " + abbr
}

// zone is the time zone the charts' buckets follow: ?tz= (an IANA name
// such as Europe/Berlin) or the server's (Options.Location).
func (h *Handler) zone(rq *request) (*time.Location, error) {
	name := rq.URL.Query().Get("tz")
	if name == "" {
		return h.loc, nil
	}
	if len(name) > 64 {
		return nil, errBadRequest("The time zone name is too long.")
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		return nil, errBadRequest("There is no time zone %q; use an IANA name such as Europe/Berlin or UTC.", name)
	}
	return loc, nil
}

// estimator reads runbook estimates from the runbook library, when the UI
// has one (the API does the same).
func (h *Handler) estimator() stats.Estimator {
	if h.rb == nil {
		return nil
	}
	return stats.LibraryEstimator(h.rb.Runbooks())
}

func (h *Handler) verifier() stats.Verifier {
	if h.rb == nil {
		return nil
	}
	return stats.LibraryVerifier(h.rb.Runbooks())
}

// figureMinutes shows minutes of human time: "45 min", "3 h 20 min".
func figureMinutes(m float64) string {
	n := int64(m + 0.5)
	if n < 60 {
		return strconv.FormatInt(n, 10) + " min"
	}
	return strconv.FormatInt(n/60, 10) + " h " + strconv.FormatInt(n%60, 10) + " min"
}
