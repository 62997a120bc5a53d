package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
)

// The financial and capacity pages (docs/cost.md): savings with a chart
// per schedule, a schedule's week, waste findings, capacity forecasts
// with each series' chart. Charts are SVG laid out here, as the
// dashboard's are; nothing is fetched from elsewhere.

func (h *Handler) costRoutes() {
	if h.costs == nil {
		return
	}
	h.page("GET /cost", "cost", h.costPage)
	h.page("GET /cost/schedules/{name}", "schedule", h.schedulePage)
	h.mux.HandleFunc("GET /cost/savings.csv", h.savingsCSV)
	if h.forecasts != nil {
		h.page("GET /capacity", "capacity", h.capacityPage)
		h.page("GET /capacity/{id}", "series", h.seriesPage)
	}
}

// Chart geometry of the cost pages, in SVG user units.
const (
	barW, barRowH, barLeft = 560, 26, 150
	lineW, lineH, linePad  = 720, 240, 40
)

// savingsBar is one schedule's row of the savings chart: the share of the
// month its targets run (left) and are stopped (right).
type savingsBar struct {
	Label                   string
	Y, RunW, SavedX, SavedW int
	Title                   string
}

type costData struct {
	Month      string
	Prev, Next string
	Report     api.SavingsReport
	Bars       []savingsBar
	ChartW     int
	ChartH     int
	BarLeft    int
	Schedules  []api.ResourceScheduleView
	Waste      []api.WasteView
	WasteTotal float64
	Currency   string
	CSVURL     string
}

func (h *Handler) costPage(rq *request) (any, error) {
	rq.view.Title = "Cost"
	at, err := api.ParseMonth(rq.URL.Query().Get("month"), h.now())
	if err != nil {
		return nil, errBadRequest("The month must be YYYY-MM.")
	}
	rep, err := api.Savings(rq.ctx, h.costs, rq.tenantID(), "", at)
	if err != nil {
		return nil, fmt.Errorf("savings: %w", err)
	}
	d := &costData{Month: rep.Month, Report: rep, ChartW: barLeft + barW + 60, BarLeft: barLeft, Currency: rep.Totals.Currency,
		Prev: rq.view.Link("/cost", "month", at.AddDate(0, -1, 0).Format("2006-01")), Next: rq.view.Link("/cost", "month", at.AddDate(0, 1, 0).Format("2006-01")),
		CSVURL: rq.view.Link("/cost/savings.csv", "month", rep.Month)}
	// One bar per schedule: its rows summed.
	type agg struct{ hours, saved, money float64 }
	sums, order := map[string]*agg{}, []string{}
	for _, r := range rep.Rows {
		a, ok := sums[r.Schedule]
		if !ok {
			a = &agg{}
			sums[r.Schedule], order = a, append(order, r.Schedule)
		}
		a.hours += r.Hours
		a.saved += r.SavedHours
		a.money += r.Saved
	}
	for i, name := range order {
		a := sums[name]
		saved := int(float64(barW) * a.saved / a.hours)
		d.Bars = append(d.Bars, savingsBar{Label: name, Y: i * barRowH, RunW: barW - saved, SavedX: barLeft + barW - saved, SavedW: saved,
			Title: fmt.Sprintf("%s: %.0f of %.0f hours stopped (%.1f %%), %.2f %s", name, a.saved, a.hours, 100*a.saved/a.hours, a.money, rep.Totals.Currency)})
	}
	d.ChartH = len(d.Bars)*barRowH + 4
	if d.Schedules, err = api.ScheduleViews(rq.ctx, h.costs, h.now(), rq.tenantID()); err != nil {
		return nil, fmt.Errorf("schedules: %w", err)
	}
	d.Waste, d.WasteTotal, err = api.Waste(rq.ctx, h.st, h.costs, rq.tenantID(), h.now())
	if err != nil {
		return nil, fmt.Errorf("waste: %w", err)
	}
	return d, nil
}

func (h *Handler) savingsCSV(w http.ResponseWriter, r *http.Request) {
	rq, cancel, ok := h.begin(w, r)
	if !ok {
		return
	}
	defer cancel()
	at, err := api.ParseMonth(r.URL.Query().Get("month"), h.now())
	if err != nil {
		h.renderError(w, r, rq.sess, errBadRequest("The month must be YYYY-MM."))
		return
	}
	rep, err := api.Savings(rq.ctx, h.costs, rq.tenantID(), "", at)
	var b bytes.Buffer
	if err == nil {
		err = cost.WriteCSV(&b, rep.Rows)
	}
	if err != nil {
		h.renderError(w, r, rq.sess, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="flywheel-savings-`+rep.Month+`.csv"`)
	_, _ = w.Write(b.Bytes())
}

// weekCell is one hour of a schedule's week strip.
type weekCell struct {
	X, Y    int
	Running bool
	Title   string
}

type scheduleData struct {
	Detail api.ResourceScheduleDetail
	Cells  []weekCell
	Days   []weekLabel
	W, H   int
}

type weekLabel struct {
	Y    int
	Text string
}

const cellW, cellH, weekLeft = 24, 18, 90

func (h *Handler) schedulePage(rq *request) (any, error) {
	name := rq.PathValue("name")
	d, err := api.ScheduleDetail(rq.ctx, h.st, h.costs, h.now(), rq.tenantID(), name)
	if err != nil {
		return nil, errNotFound("There is no resource schedule %q.", name)
	}
	rq.view.Title = "Resource schedule " + name
	s, _ := h.costs.Schedule(rq.tenantID(), name)
	out := &scheduleData{Detail: d, W: weekLeft + 24*cellW + 4, H: 7*cellH + 20}
	ws := api.WeekStart(h.now(), s.Location())
	for day := 0; day < 7; day++ {
		date := ws.AddDate(0, 0, day)
		out.Days = append(out.Days, weekLabel{Y: day*cellH + 13, Text: date.Format("Mon 2 Jan")})
		for hour := 0; hour < 24; hour++ {
			at := time.Date(date.Year(), date.Month(), date.Day(), hour, 30, 0, 0, s.Location())
			dec := s.At(at)
			out.Cells = append(out.Cells, weekCell{X: weekLeft + hour*cellW, Y: day * cellH, Running: dec.State == cost.Running,
				Title: fmt.Sprintf("%s %02d:00–%02d:00: %s (%s)", date.Format("Mon 2 Jan"), hour, hour+1, dec.State, dec.Reason)})
		}
	}
	return out, nil
}

type capacityData struct {
	Items []forecast.Forecast
	Now   time.Time
}

func (h *Handler) capacityPage(rq *request) (any, error) {
	rq.view.Title = "Capacity"
	fs, err := h.forecasts.Forecasts(rq.ctx, rq.tenantID(), "", h.now())
	if err != nil {
		return nil, fmt.Errorf("forecasts: %w", err)
	}
	return &capacityData{Items: fs, Now: h.now()}, nil
}

// seriesChart is one series drawn: samples, the fitted model carried on
// to its crossing (or the horizon), and the threshold.
type seriesChart struct {
	Forecast           forecast.Forecast
	W, H, PlotX, PlotY int
	PlotW, PlotH       int
	Samples, Model     string
	ThresholdY         int
	CrossX             int
	From, To           time.Time
}

type seriesData struct {
	Resource string
	Charts   []seriesChart
}

func (h *Handler) seriesPage(rq *request) (any, error) {
	id := rq.PathValue("id")
	fs, err := h.forecasts.Forecasts(rq.ctx, rq.tenantID(), id, h.now())
	if err != nil {
		return nil, fmt.Errorf("forecasts: %w", err)
	}
	if len(fs) == 0 {
		return nil, errNotFound("There are no series for %q.", id)
	}
	d := &seriesData{Resource: fs[0].Resource}
	rq.view.Title = "Capacity of " + d.Resource
	for _, f := range fs {
		d.Charts = append(d.Charts, drawSeries(f, h.now()))
	}
	return d, nil
}

// drawSeries lays a series out over [first sample, crossing or now + 2
// days], 0–100 %.
func drawSeries(f forecast.Forecast, now time.Time) seriesChart {
	c := seriesChart{Forecast: f, W: lineW, H: lineH, PlotX: linePad, PlotY: 10, PlotW: lineW - 2*linePad, PlotH: lineH - 40}
	if len(f.Samples) == 0 {
		return c
	}
	c.From, c.To = f.Samples[0].At, now.Add(48*time.Hour)
	if f.Crossing != nil && f.Crossing.After(c.To) {
		c.To = f.Crossing.Add(12 * time.Hour)
	}
	span := c.To.Sub(c.From).Seconds()
	x := func(t time.Time) int { return c.PlotX + int(float64(c.PlotW)*t.Sub(c.From).Seconds()/span) }
	y := func(v float64) int {
		v = min(max(v, 0), 100)
		return c.PlotY + c.PlotH - int(float64(c.PlotH)*v/100)
	}
	var b strings.Builder
	for _, s := range f.Samples {
		b.WriteString(strconv.Itoa(x(s.At)) + "," + strconv.Itoa(y(s.Value)) + " ")
	}
	c.Samples = strings.TrimSpace(b.String())
	if f.Model != nil {
		b.Reset()
		end := c.To
		if f.Crossing != nil {
			end = *f.Crossing
		}
		for t := f.Model.Last; !t.After(end); t = t.Add(end.Sub(f.Model.Last)/60 + time.Minute) {
			b.WriteString(strconv.Itoa(x(t)) + "," + strconv.Itoa(y(f.Model.At(t))) + " ")
		}
		c.Model = strings.TrimSpace(b.String())
	}
	c.ThresholdY = y(f.Threshold)
	if f.Crossing != nil {
		c.CrossX = x(*f.Crossing)
	}
	return c
}
