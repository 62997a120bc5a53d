package web

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/stats"
)

// TestTrendChartsGapsAndLabels: a bucket without a rate breaks the line
// (two runs, no point at zero), counts stay bars, nothing resolved says so
// instead of drawing "0 s", and the labels follow the calendar.
func TestTrendChartsGapsAndLabels(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	f := func(v float64) *float64 { return &v }
	start := time.Date(2026, 3, 28, 0, 0, 0, 0, berlin)
	var pts []stats.TrendPoint
	for i, nr := range []*float64{f(0.9), f(0.5), nil, f(0.75)} {
		s := stats.Floor(start.AddDate(0, 0, i), stats.Day, berlin)
		pts = append(pts, stats.TrendPoint{Start: s, End: stats.Next(s, stats.Day, berlin), NoiseReduction: nr, Received: int64(i * 10),
			HoursSaved: float64(i), Open: map[string]int64{"security": int64(i)}})
	}
	pts[3].Partial = true
	charts := trendCharts(stats.Trends{Unit: stats.Day, Points: pts, Areas: []string{"security"}}, berlin)
	byID := map[string]trendChart{}
	for _, c := range charts {
		byID[c.ID] = c
	}
	noise := byID["trend-noise"]
	if len(noise.Lines) != 1 || len(noise.Dots) != 3 || strings.Count(noise.Lines[0].Points, ",") != 2 {
		t.Errorf("noise reduction: lines %+v, %d dots; want one run of two points and a lone dot", noise.Lines, len(noise.Dots))
	}
	if noise.Rows[2].Cells[0] != "–" || noise.Rows[0].Cells[0] != "90.0 %" {
		t.Errorf("noise table cells %v, %v", noise.Rows[0].Cells, noise.Rows[2].Cells)
	}
	if tt := byID["trend-ttr"]; tt.Empty != "No resolved OpsItems yet." || len(tt.Dots) != 0 {
		t.Errorf("time to resolve with nothing resolved: %q, %d dots", tt.Empty, len(tt.Dots))
	}
	if hs := byID["trend-hours"]; len(hs.Bars) != 3 { // the first bucket's 0 h draws nothing
		t.Errorf("hours saved: %d bars, want 3", len(hs.Bars))
	}
	op := byID["trend-open"]
	if len(op.Legend) != 1 || op.Legend[0].Label != "Security" || op.Columns[1] != "Security" {
		t.Errorf("open by area legend %+v, columns %v", op.Legend, op.Columns)
	}
	ev := byID["trend-events"]
	if got := ev.XLabels[0].Text; got != "Sat 28 Mar" {
		t.Errorf("first day label %q", got)
	}
	if got := ev.Rows[1].Label; got != "Sun 2026-03-29" {
		t.Errorf("29 March row %q", got)
	}
	if got := ev.Rows[3].Label; !strings.HasSuffix(got, "(so far)") {
		t.Errorf("partial bucket row %q", got)
	}
}
