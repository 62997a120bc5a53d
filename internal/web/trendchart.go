package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/stats"
)

// Trend charts of the flywheel figures, drawn on the server as SVG from
// stats.ComputeTrends' calendar buckets. A bucket with nothing to measure
// (no events, nothing resolved) is a gap in a line, never a zero; counts
// (hours saved, open OpsItems) are bars, where zero is true. Each chart
// carries a table with the same numbers for screen readers and keyboards.

// Trend chart geometry, in SVG user units.
const (
	trendW, trendH = 480, 180 // about the size shown, two charts a row at 1280 px
	trendLeft      = 56       // room for the value labels
	trendRight     = 12
	trendTop       = 12
	trendBottom    = 28 // room for the time labels
	// maxAreaSeries bounds the open-OpsItems chart's areas (one colour each).
	maxAreaSeries = 9
)

// trendChart is one chart and its table.
type trendChart struct {
	ID, Title string
	// Desc says what the chart shows, for the SVG's <desc>.
	Desc string
	// Empty, when set, replaces the chart: "No resolved OpsItems yet."
	Empty                string
	W, H                 int
	PlotX, PlotY         int
	PlotW, PlotH         int
	MaxLabel, ZeroLabel  string
	Bars                 []figBar
	Lines                []trendLine
	Dots                 []trendDot
	XLabels              []axisTick
	Legend               []trendKey
	Columns              []string
	Rows                 []trendRow
	PlotBottom, LabelTop int
}

type figBar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

// axisTick is a time label under the plot.
type axisTick struct {
	X    int
	Text string
}

// trendLine is one run of a line between gaps.
type trendLine struct {
	Class  string
	Points string
}

type trendDot struct {
	X, Y  int
	Class string
	Title string
}

type trendKey struct{ Class, Label string }

// trendRow is one bucket in a chart's table.
type trendRow struct {
	Start time.Time
	Label string
	Cells []string
}

// trendValue is one bucket's value; ok false is a gap.
type trendValue struct {
	v  float64
	ok bool
}

// trendFrame lays out the plot area and the time axis shared by the
// charts of one set of trends.
type trendFrame struct {
	tr    stats.Trends
	loc   *time.Location
	slot  float64
	plotW int
	plotH int
}

func newTrendFrame(tr stats.Trends, loc *time.Location) trendFrame {
	f := trendFrame{tr: tr, loc: loc, plotW: trendW - trendLeft - trendRight, plotH: trendH - trendTop - trendBottom}
	if n := len(tr.Points); n > 0 {
		f.slot = float64(f.plotW) / float64(n)
	}
	return f
}

// chart starts a chart with the frame's geometry, time labels and table
// rows (cells filled by the caller).
func (f trendFrame) chart(id, title, desc string, columns ...string) trendChart {
	c := trendChart{ID: id, Title: title, Desc: desc, W: trendW, H: trendH, PlotX: trendLeft, PlotY: trendTop,
		PlotW: f.plotW, PlotH: f.plotH, Columns: append([]string{"From"}, columns...)}
	c.PlotBottom = c.PlotY + c.PlotH
	c.LabelTop = c.PlotBottom + 18
	n := len(f.tr.Points)
	every := max(1, (n+3)/4)
	prev := time.Time{}
	for i, p := range f.tr.Points {
		row := trendRow{Start: p.Start, Label: bucketLabel(p.Start.In(f.loc), f.tr.Unit)}
		if p.Partial {
			row.Label += " (so far)"
		}
		c.Rows = append(c.Rows, row)
		if i%every == 0 {
			c.XLabels = append(c.XLabels, axisTick{X: c.PlotX + int(float64(i)*f.slot), Text: axisLabel(p.Start.In(f.loc), prev, f.tr.Unit)})
			prev = p.Start.In(f.loc)
		}
	}
	return c
}

// bucketLabel names a bucket in the table: "2026-05-04 14:00",
// "Mon 2026-05-04", "week of Mon 2026-05-04".
func bucketLabel(t time.Time, u stats.Unit) string {
	switch u {
	case stats.Hour:
		return t.Format("Mon 2006-01-02 15:04 MST")
	case stats.Week:
		return "week of " + t.Format("Mon 2006-01-02")
	}
	return t.Format("Mon 2006-01-02")
}

// axisLabel is a time axis label: hours as "14:00" with the date where it
// changes, days as "4 May", weeks as "w/c 4 May".
func axisLabel(t, prev time.Time, u stats.Unit) string {
	switch u {
	case stats.Hour:
		if prev.IsZero() || prev.YearDay() != t.YearDay() {
			return t.Format("2 Jan 15:04")
		}
		return t.Format("15:04")
	case stats.Week:
		return "w/c " + t.Format("2 Jan")
	}
	return t.Format("Mon 2 Jan")
}

// x is the centre of bucket i.
func (f trendFrame) x(i int) int { return trendLeft + int(float64(i)*f.slot+f.slot/2) }

// y places v of most on the plot (0 at the bottom).
func (f trendFrame) y(v, most float64) int {
	if most <= 0 {
		return trendTop + f.plotH
	}
	return trendTop + f.plotH - int(v/most*float64(f.plotH)+0.5)
}

// line draws values as a line broken at gaps, with a dot on each value
// (a lone value between gaps shows as its dot).
func (f trendFrame) line(c *trendChart, class string, vals []trendValue, most float64, title func(i int) string) {
	var run []string
	flush := func() {
		if len(run) > 1 {
			c.Lines = append(c.Lines, trendLine{Class: class, Points: strings.Join(run, " ")})
		}
		run = nil
	}
	for i, v := range vals {
		if !v.ok {
			flush()
			continue
		}
		x, y := f.x(i), f.y(v.v, most)
		run = append(run, strconv.Itoa(x)+","+strconv.Itoa(y))
		c.Dots = append(c.Dots, trendDot{X: x, Y: y, Class: class, Title: title(i)})
	}
	flush()
}

// bars draws stacked bars: series[k][i] is series k's count in bucket i.
func (f trendFrame) bars(c *trendChart, classes []string, series [][]float64, most float64, title func(i, k int) string) {
	w := max(1, int(f.slot*0.7))
	for i := range f.tr.Points {
		base := 0.0
		for k, s := range series {
			v := s[i]
			if v <= 0 {
				continue
			}
			top, bottom := f.y(base+v, most), f.y(base, most)
			base += v
			if bottom-top < 1 {
				top = bottom - 1
			}
			c.Bars = append(c.Bars, figBar{X: trendLeft + int(float64(i)*f.slot) + (int(f.slot)-w)/2, Y: top, W: w, H: bottom - top,
				Class: classes[k], Title: title(i, k)})
		}
	}
}

// trendCharts builds the dashboard's trend charts.
func trendCharts(tr stats.Trends, loc *time.Location) []trendChart {
	f := newTrendFrame(tr, loc)
	pts := tr.Points
	when := func(i int) string { return bucketLabel(pts[i].Start.In(loc), tr.Unit) }
	var out []trendChart

	// Events against OpsItems the pipeline opened.
	ev := f.chart("trend-events", "Events received and OpsItems opened", "Bars: events received; line: OpsItems the pipeline opened from them.",
		"Events received", "OpsItems opened")
	var mostEv float64
	received, opened := make([]float64, len(pts)), make([]trendValue, len(pts))
	for i, p := range pts {
		received[i], opened[i] = float64(p.Received), trendValue{float64(p.PipelineOpened), true}
		mostEv = max(mostEv, float64(p.Received), float64(p.PipelineOpened))
		ev.Rows[i].Cells = []string{strconv.FormatInt(p.Received, 10), strconv.FormatInt(p.PipelineOpened, 10)}
	}
	f.bars(&ev, []string{"received"}, [][]float64{received}, mostEv, func(i, _ int) string {
		return fmt.Sprintf("%s: %d events received", when(i), pts[i].Received)
	})
	f.line(&ev, "opened", opened, mostEv, func(i int) string {
		return fmt.Sprintf("%s: %d OpsItems opened", when(i), pts[i].PipelineOpened)
	})
	ev.Dots = nonZeroDots(ev.Dots, trendTop+f.plotH)
	ev.MaxLabel, ev.ZeroLabel = strconv.FormatFloat(mostEv, 'f', 0, 64), "0"
	if mostEv == 0 {
		ev.Empty = "No events received yet."
	}
	ev.Legend = []trendKey{{"received", "Events received"}, {"opened", "OpsItems opened"}}
	out = append(out, ev)

	// Rates: noise reduction and automation share, 0–100 %.
	rate := func(id, title, desc, col string, get func(stats.TrendPoint) *float64, none string) trendChart {
		c := f.chart(id, title, desc, col)
		vals := make([]trendValue, len(pts))
		found := false
		for i, p := range pts {
			c.Rows[i].Cells = []string{"–"}
			if v := get(p); v != nil {
				vals[i], found = trendValue{*v, true}, true
				c.Rows[i].Cells[0] = strconv.FormatFloat(100**v, 'f', 1, 64) + " %"
			}
		}
		if !found {
			c.Empty = none
		}
		f.line(&c, "rate", vals, 1, func(i int) string { return when(i) + ": " + c.Rows[i].Cells[0] })
		c.MaxLabel, c.ZeroLabel = "100 %", "0 %"
		return c
	}
	out = append(out,
		rate("trend-noise", "Noise reduction", "Share of events that did not open an OpsItem, per bucket; gaps where no events came.",
			"Noise reduction", func(p stats.TrendPoint) *float64 { return p.NoiseReduction }, "No events received yet."),
		rate("trend-automation", "Resolved by automation", "Share of the OpsItems resolved in each bucket that automation resolved; gaps where none was resolved.",
			"Resolved by automation", func(p stats.TrendPoint) *float64 { return p.AutomationShare }, "No resolved OpsItems yet."))

	// Hours saved: bars.
	hs := f.chart("trend-hours", "Human hours saved", "Hours of people's time the bucket's automated resolutions saved.", "Hours saved")
	saved := make([]float64, len(pts))
	var mostH float64
	for i, p := range pts {
		saved[i] = p.HoursSaved
		mostH = max(mostH, p.HoursSaved)
		hs.Rows[i].Cells = []string{strconv.FormatFloat(p.HoursSaved, 'f', 1, 64) + " h"}
	}
	f.bars(&hs, []string{"hours"}, [][]float64{saved}, mostH, func(i, _ int) string { return when(i) + ": " + hs.Rows[i].Cells[0] })
	hs.MaxLabel, hs.ZeroLabel = strconv.FormatFloat(mostH, 'f', 1, 64)+" h", "0 h"
	if mostH == 0 {
		hs.Empty = "No hours saved by automation yet."
	}
	out = append(out, hs)

	// Time to resolve: the median per bucket, a gap where none resolved.
	tt := f.chart("trend-ttr", "Time to resolve (median)", "Median time from opened to resolved of the OpsItems resolved in each bucket; gaps where none was resolved.",
		"Median", "Resolved")
	ttr := make([]trendValue, len(pts))
	var mostT float64
	for i, p := range pts {
		tt.Rows[i].Cells = []string{"–", "0"}
		if p.TimeToResolve.Count > 0 {
			v := float64(p.TimeToResolve.MedianSeconds)
			ttr[i] = trendValue{v, true}
			mostT = max(mostT, v)
			tt.Rows[i].Cells = []string{humanSeconds(p.TimeToResolve.MedianSeconds), strconv.Itoa(p.TimeToResolve.Count)}
		}
	}
	if !anyOK(ttr) {
		tt.Empty = "No resolved OpsItems yet."
	}
	f.line(&tt, "ttr", ttr, mostT, func(i int) string { return when(i) + ": " + tt.Rows[i].Cells[0] })
	tt.MaxLabel, tt.ZeroLabel = humanSeconds(int64(mostT)), "0"
	out = append(out, tt)

	// Open OpsItems by area: stacked bars.
	areas := tr.Areas
	if len(areas) > maxAreaSeries {
		areas = areas[:maxAreaSeries]
	}
	op := f.chart("trend-open", "Open OpsItems by area", "Stacked bars: OpsItems open at the end of each bucket, one colour per area.")
	for _, a := range areas {
		op.Columns = append(op.Columns, categoryTitle(a))
	}
	series := make([][]float64, len(areas))
	classes := make([]string, len(areas))
	for k, a := range areas {
		series[k] = make([]float64, len(pts))
		classes[k] = "area-" + strconv.Itoa(k)
		op.Legend = append(op.Legend, trendKey{classes[k], categoryTitle(a)})
	}
	var mostO float64
	for i, p := range pts {
		var total float64
		for k, a := range areas {
			series[k][i] = float64(p.Open[a])
			total += series[k][i]
			op.Rows[i].Cells = append(op.Rows[i].Cells, strconv.FormatInt(p.Open[a], 10))
		}
		mostO = max(mostO, total)
	}
	if len(areas) == 0 && len(pts) > 0 {
		op.Empty = "No OpsItems were open in this period."
	}
	f.bars(&op, classes, series, mostO, func(i, k int) string {
		return fmt.Sprintf("%s: %d open in %s", when(i), pts[i].Open[areas[k]], categoryTitle(areas[k]))
	})
	op.MaxLabel, op.ZeroLabel = strconv.FormatFloat(mostO, 'f', 0, 64), "0"
	out = append(out, op)
	return out
}

// nonZeroDots drops the dots of a count line that sit on the zero line.
func nonZeroDots(ds []trendDot, zeroY int) []trendDot {
	out := ds[:0]
	for _, d := range ds {
		if d.Y < zeroY {
			out = append(out, d)
		}
	}
	return out
}

func anyOK(vs []trendValue) bool {
	for _, v := range vs {
		if v.ok {
			return true
		}
	}
	return false
}
