package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// CostService is the financial flywheel: resource schedules, savings and
// waste; *cost.Runner is one.
type CostService interface {
	Schedules(tenant string) []*cost.Schedule
	Schedule(tenant, name string) (*cost.Schedule, bool)
	Targets(ctx context.Context, tenant string, s *cost.Schedule) ([]cost.Target, error)
	Reconcile(ctx context.Context, tenant string, now time.Time, dryRun bool) ([]cost.Step, error)
	Savings(ctx context.Context, tenant, name string, at time.Time) ([]cost.SavingsRow, error)
	Waste(ctx context.Context, tenant string, now time.Time, o cost.WasteOptions) ([]cost.Finding, error)
	Prices() *cost.Prices
}

// ForecastService forecasts capacity; *forecast.Engine is one.
type ForecastService interface {
	Forecasts(ctx context.Context, tenant, resourceID string, now time.Time) ([]forecast.Forecast, error)
}

var (
	_ CostService     = (*cost.Runner)(nil)
	_ ForecastService = (*forecast.Engine)(nil)
)

// registerCost adds the financial and capacity routes (docs/cost.md);
// with c or f nil their routes answer 503.
func (s *Server) registerCost(c CostService, f ForecastService) {
	need := func(h func(CostService, http.ResponseWriter, *http.Request) error) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if c == nil {
				return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "resource schedules are not running on this server"}
			}
			return h(c, w, r)
		}
	}
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/resource-schedules", MinRole: store.RoleViewer}, need(s.listResourceSchedules))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/resource-schedules/{id}", MinRole: store.RoleViewer}, need(s.getResourceSchedule))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/cost/reconcile", MinRole: store.RoleAdmin}, need(s.reconcileSchedules))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/cost/savings", MinRole: store.RoleViewer}, need(s.costSavings))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/cost/prices", MinRole: store.RoleViewer}, need(s.costPrices))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/cost/waste", MinRole: store.RoleViewer}, need(s.costWaste))
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/forecasts", MinRole: store.RoleViewer}, func(w http.ResponseWriter, r *http.Request) error {
		if f == nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "capacity forecasts are not running on this server"}
		}
		return s.forecasts(f, w, r)
	})
}

// ResourceScheduleView is a schedule as the API lists it.
type ResourceScheduleView struct {
	Name          string        `json:"name"`
	Description   string        `json:"description,omitempty"`
	Timezone      string        `json:"timezone"`
	Now           cost.Decision `json:"now"`
	Targets       int           `json:"targets"`
	Enforced      bool          `json:"enforced"`
	RetainRunning bool          `json:"retain_running"`
	Holidays      int           `json:"holidays"`
	// Week is this week's plan (Monday 00:00 local onwards).
	Week cost.Usage `json:"week"`
}

// ResourceScheduleDetail adds the spec, holidays and each target's state.
type ResourceScheduleDetail struct {
	ResourceScheduleView
	Spec        cost.Spec            `json:"spec"`
	HolidayList []cost.Holiday       `json:"holiday_list"`
	TargetList  []ScheduleTargetView `json:"target_list"`
}

// ScheduleTargetView is one target and what the schedule last did to it.
type ScheduleTargetView struct {
	ResourceID  string    `json:"resource_id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Type        string    `json:"type,omitempty"`
	Region      string    `json:"region,omitempty"`
	Observed    string    `json:"observed,omitempty"`
	State       string    `json:"state,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	ChangedAt   time.Time `json:"changed_at,omitzero"`
	ExecutionID string    `json:"execution_id,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// WeekStart is the Monday 00:00 (local) of the week holding t.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	d := (int(l.Weekday()) + 6) % 7
	return time.Date(l.Year(), l.Month(), l.Day()-d, 0, 0, 0, 0, loc)
}

func scheduleView(ctx context.Context, c CostService, now time.Time, tenant string, sc *cost.Schedule) (ResourceScheduleView, []cost.Target, error) {
	targets, err := c.Targets(ctx, tenant, sc)
	if err != nil {
		return ResourceScheduleView{}, nil, err
	}
	ws := WeekStart(now, sc.Location())
	return ResourceScheduleView{Name: sc.Name, Description: sc.Spec.Description, Timezone: sc.Location().String(), Now: sc.At(now),
		Targets: len(targets), Enforced: sc.Spec.Enforced, RetainRunning: sc.Spec.RetainRunning, Holidays: len(sc.Holidays()),
		Week: sc.Usage(ws, ws.AddDate(0, 0, 7))}, targets, nil
}

// ScheduleViews lists tenant's schedules as the API shows them; the UI
// shares it.
func ScheduleViews(ctx context.Context, c CostService, now time.Time, tenant string) ([]ResourceScheduleView, error) {
	out := []ResourceScheduleView{}
	for _, sc := range c.Schedules(tenant) {
		v, _, err := scheduleView(ctx, c, now, tenant, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) listResourceSchedules(c CostService, w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	out, err := ScheduleViews(r.Context(), c, s.now(), tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// ScheduleDetail reads one schedule with its targets' states; the UI
// shares it.
func ScheduleDetail(ctx context.Context, st store.Reader, c CostService, now time.Time, tenant, name string) (ResourceScheduleDetail, error) {
	sc, ok := c.Schedule(tenant, name)
	if !ok {
		return ResourceScheduleDetail{}, NotFound("resource schedule %q not found", name)
	}
	v, targets, err := scheduleView(ctx, c, now, tenant, sc)
	if err != nil {
		return ResourceScheduleDetail{}, err
	}
	states, err := st.ListScheduleStates(ctx, tenant, sc.Name)
	if err != nil {
		return ResourceScheduleDetail{}, err
	}
	byID := map[string]store.ScheduleState{}
	for _, x := range states {
		byID[x.ResourceID] = x
	}
	out := ResourceScheduleDetail{ResourceScheduleView: v, Spec: sc.Spec, HolidayList: sc.Holidays(), TargetList: []ScheduleTargetView{}}
	out.Spec.Holidays.ICal = "" // the dates are in holiday_list
	for _, t := range targets {
		x := byID[t.Resource.ID]
		out.TargetList = append(out.TargetList, ScheduleTargetView{ResourceID: t.Resource.ID, Name: t.Resource.Name, Kind: t.Kind, Type: t.Type,
			Region: t.Region, Observed: t.State, State: x.State, Reason: x.Reason, ChangedAt: x.ChangedAt, ExecutionID: x.ExecutionID, Error: x.Error})
	}
	return out, nil
}

func (s *Server) getResourceSchedule(c CostService, w http.ResponseWriter, r *http.Request) error {
	tenant, name, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	out, err := ScheduleDetail(r.Context(), s.st, c, s.now(), tenant, name)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// ReconcileInput is the body of POST /api/v1/cost/reconcile.
type ReconcileInput struct {
	DryRun bool `json:"dry_run"`
}

func (s *Server) reconcileSchedules(c CostService, w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in ReconcileInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	steps, err := c.Reconcile(r.Context(), tenant, s.now(), in.DryRun)
	if err != nil {
		return err
	}
	if steps == nil {
		steps = []cost.Step{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"dry_run": in.DryRun, "steps": steps})
	return nil
}

// SavingsReport answers GET /api/v1/cost/savings.
type SavingsReport struct {
	Month  string            `json:"month"`
	Totals cost.Totals       `json:"totals"`
	Rows   []cost.SavingsRow `json:"rows"`
}

// ParseMonth reads ?month=YYYY-MM (default: the month holding now) as an
// instant inside that month.
func ParseMonth(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return now, nil
	}
	m, err := time.Parse("2006-01", v)
	if err != nil {
		return time.Time{}, BadRequest("month: %q is not YYYY-MM", v)
	}
	return m.AddDate(0, 0, 14), nil
}

// Savings builds the savings report; the UI shares it.
func Savings(ctx context.Context, c CostService, tenant, schedule string, at time.Time) (SavingsReport, error) {
	rows, err := c.Savings(ctx, tenant, schedule, at)
	if err != nil {
		return SavingsReport{}, err
	}
	if rows == nil {
		rows = []cost.SavingsRow{}
	}
	return SavingsReport{Month: at.Format("2006-01"), Totals: cost.Sum(rows, c.Prices().Currency), Rows: rows}, nil
}

func (s *Server) costSavings(c CostService, w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	at, err := ParseMonth(q.Get("month"), s.now())
	if err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return BadRequest("format: %q is not json or csv", format)
	}
	rep, err := Savings(r.Context(), c, tenant, q.Get("schedule"), at)
	if err != nil {
		return err
	}
	if format == "csv" {
		var b bytes.Buffer
		if err := cost.WriteCSV(&b, rep.Rows); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="flywheel-savings-`+rep.Month+`.csv"`)
		_, _ = w.Write(b.Bytes())
		return nil
	}
	WriteJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) costPrices(c CostService, w http.ResponseWriter, r *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]any{"currency": c.Prices().Currency, "regions": c.Prices().Regions()})
	return nil
}

// WasteView is a waste finding as the API shows it.
type WasteView struct {
	Key            string         `json:"key"`
	Kind           string         `json:"kind"`
	ResourceID     string         `json:"resource_id"`
	Title          string         `json:"title"`
	Severity       string         `json:"severity"`
	MonthlySavings float64        `json:"monthly_savings"`
	Data           map[string]any `json:"data,omitempty"`
	OpsItemID      string         `json:"opsitem_id,omitempty"`
}

// Waste lists the waste the checks find now, with the OpsItem each has
// opened; the UI shares it.
func Waste(ctx context.Context, st store.Reader, c CostService, tenant string, now time.Time) ([]WasteView, float64, error) {
	fs, err := c.Waste(ctx, tenant, now, cost.WasteOptions{})
	if err != nil {
		return nil, 0, err
	}
	opened, err := st.ListCostFindings(ctx, tenant)
	if err != nil {
		return nil, 0, err
	}
	items := map[string]string{}
	for _, o := range opened {
		items[o.Key] = o.OpsItemID
	}
	out := []WasteView{}
	var total float64
	for _, f := range fs {
		out = append(out, WasteView{Key: f.Key, Kind: f.Kind, ResourceID: f.Resource.ID, Title: f.Title, Severity: f.Severity,
			MonthlySavings: f.MonthlySavings, Data: f.Data, OpsItemID: items[f.Key]})
		total += f.MonthlySavings
	}
	return out, total, nil
}

func (s *Server) costWaste(c CostService, w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	out, total, err := Waste(r.Context(), s.st, c, tenant, s.now())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": out, "monthly_savings": total, "currency": c.Prices().Currency})
	return nil
}

func (s *Server) forecasts(f ForecastService, w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	res := r.URL.Query().Get("resource")
	out, err := f.Forecasts(r.Context(), tenant, res, s.now())
	if err != nil {
		return err
	}
	if res == "" {
		for i := range out {
			out[i].Samples = nil // the series only for one resource
		}
	}
	if out == nil {
		out = []forecast.Forecast{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}
