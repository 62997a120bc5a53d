package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/flywheel-ops/flywheel/internal/stats"
)

// The flywheel dashboard: the figures of GET /api/v1/stats/flywheel for a
// period, computed by the same package, and the events-against-OpsItems
// chart drawn here as SVG.

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

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 720, 240
	chartLeft      = 48 // room for the events axis labels
	chartRight     = 40 // room for the OpsItems axis labels
	chartTop       = 12
	chartBottom    = 28 // room for the time labels
)

type periodOption struct {
	Key, Label string
	Selected   bool
}

type dashboardData struct {
	Periods []periodOption
	Period  string
	stats.Flywheel
	Chart chart
	// StepLabel names the bucket size ("15 minutes").
	StepLabel string
}

// chart is the SVG: a bar per bucket for events received (left axis) and a
// line through OpsItems opened (right axis).
type chart struct {
	W, H                   int
	PlotX, PlotY           int
	PlotW, PlotH           int
	Bars                   []chartBar
	Line                   string // points of the opened polyline
	Dots                   []chartDot
	MaxReceived, MaxOpened int64
	XLabels                []chartLabel
}

type chartBar struct {
	X, Y, W, H int
	Title      string
}

type chartDot struct{ X, Y int }

type chartLabel struct {
	X    int
	Text string
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
}

func (h *Handler) dashboard(rq *request) (any, error) {
	rq.view.Title = "Flywheel dashboard"
	key, from, to, opts, err := h.period(rq, "7d")
	if err != nil {
		return nil, err
	}
	d := dashboardData{Periods: opts, Period: key}
	f, err := stats.Compute(rq.ctx, h.st, rq.tenantID(), from, to, h.estimator(), h.verifier())
	if err != nil {
		return nil, fmt.Errorf("flywheel stats: %w", err)
	}
	d.Flywheel = f
	d.StepLabel = stepLabel(time.Duration(f.StepSeconds) * time.Second)
	d.Chart = drawChart(f)
	return d, nil
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

func stepLabel(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		if n := d / (24 * time.Hour); n > 1 {
			return strconv.Itoa(int(n)) + " days"
		}
		return "day"
	case d >= time.Hour:
		if n := d / time.Hour; n > 1 {
			return strconv.Itoa(int(n)) + " hours"
		}
		return "hour"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// drawChart lays out the series in the plot area.
func drawChart(f stats.Flywheel) chart {
	c := chart{W: chartW, H: chartH, PlotX: chartLeft, PlotY: chartTop,
		PlotW: chartW - chartLeft - chartRight, PlotH: chartH - chartTop - chartBottom}
	n := len(f.Series)
	if n == 0 {
		return c
	}
	for _, p := range f.Series {
		c.MaxReceived = max(c.MaxReceived, p.Received)
		c.MaxOpened = max(c.MaxOpened, p.Opened)
	}
	slot := float64(c.PlotW) / float64(n)
	barW := max(1, int(slot*0.7))
	base := c.PlotY + c.PlotH
	scale := func(v, most int64) int {
		if most == 0 {
			return 0
		}
		return int(float64(v) * float64(c.PlotH) / float64(most))
	}
	step := time.Duration(f.StepSeconds) * time.Second
	labelEvery := max(1, n/6)
	for i, p := range f.Series {
		x := c.PlotX + int(float64(i)*slot)
		if bh := scale(p.Received, c.MaxReceived); bh > 0 {
			c.Bars = append(c.Bars, chartBar{X: x + (int(slot)-barW)/2, Y: base - bh, W: barW, H: bh,
				Title: fmt.Sprintf("%s: %d events received, %d OpsItems opened", p.Start.Format("2006-01-02 15:04"), p.Received, p.Opened)})
		}
		cx := x + int(slot/2)
		cy := base - scale(p.Opened, c.MaxOpened)
		if c.Line != "" {
			c.Line += " "
		}
		c.Line += strconv.Itoa(cx) + "," + strconv.Itoa(cy)
		if p.Opened > 0 {
			c.Dots = append(c.Dots, chartDot{X: cx, Y: cy})
		}
		if i%labelEvery == 0 {
			layout := "Jan 2"
			if step < 24*time.Hour {
				layout = "Jan 2 15:04"
			}
			c.XLabels = append(c.XLabels, chartLabel{X: x, Text: p.Start.Format(layout)})
		}
	}
	return c
}

// figureMinutes shows minutes of human time: "45 min", "3 h 20 min".
func figureMinutes(m float64) string {
	n := int64(m + 0.5)
	if n < 60 {
		return strconv.FormatInt(n, 10) + " min"
	}
	return strconv.FormatInt(n/60, 10) + " h " + strconv.FormatInt(n%60, 10) + " min"
}
