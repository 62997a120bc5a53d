package cost

import (
	"context"
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"time"
)

// SavingsRow is what one schedule saves on one target in one month: the
// hours the schedule keeps it stopped, priced from the price table.
type SavingsRow struct {
	Tenant       string  `json:"tenant"`
	Schedule     string  `json:"schedule"`
	Month        string  `json:"month"` // YYYY-MM, the schedule's local month
	ResourceID   string  `json:"resource_id"`
	Resource     string  `json:"resource"`
	Kind         string  `json:"kind"`
	Type         string  `json:"type,omitempty"`
	Region       string  `json:"region,omitempty"`
	Hours        float64 `json:"hours"`
	RunningHours float64 `json:"running_hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
	HourlyPrice  float64 `json:"hourly_price"`
	Priced       bool    `json:"priced"`
	Saved        float64 `json:"saved"`
	Currency     string  `json:"currency"`
}

// Totals sums rows.
type Totals struct {
	Hours        float64 `json:"hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
	Saved        float64 `json:"saved"`
	Currency     string  `json:"currency"`
}

// Sum totals rows.
func Sum(rows []SavingsRow, currency string) Totals {
	t := Totals{Currency: currency}
	for _, r := range rows {
		t.Hours += r.Hours
		t.SavedHours += r.SavedHours
		t.Saved += r.Saved
	}
	if t.Hours > 0 {
		t.SavedPercent = 100 * t.SavedHours / t.Hours
	}
	t.Saved = math.Round(t.Saved*100) / 100
	return t
}

// Savings reports, for each of tenant's schedules (only name when not
// ""), the hours and money it saves on each of its current targets in the
// month holding at: the plan over the whole month (holidays, overrides
// and daylight saving included), against running around the clock.
func (r *Runner) Savings(ctx context.Context, tenant, name string, at time.Time) ([]SavingsRow, error) {
	var out []SavingsRow
	for _, s := range r.Schedules(tenant) {
		if name != "" && s.Name != name {
			continue
		}
		targets, err := r.Targets(ctx, tenant, s)
		if err != nil {
			return nil, err
		}
		from, to := s.Month(at)
		u := s.Usage(from, to)
		for _, t := range targets {
			row := SavingsRow{Tenant: tenant, Schedule: s.Name, Month: from.Format("2006-01"), ResourceID: t.Resource.ID, Resource: t.Resource.Name,
				Kind: t.Kind, Type: t.Type, Region: t.Region, Hours: u.Hours, RunningHours: u.RunningHours, SavedHours: u.SavedHours,
				SavedPercent: math.Round(u.SavedPercent*100) / 100, Currency: r.o.Prices.Currency}
			if p, ok := r.o.Prices.Hourly(t.Region, t.Type); ok {
				row.HourlyPrice, row.Priced = p, true
			} else if s.Spec.HourlyCost > 0 {
				row.HourlyPrice, row.Priced = s.Spec.HourlyCost, true
			}
			row.Saved = math.Round(row.HourlyPrice*u.SavedHours*100) / 100
			out = append(out, row)
		}
	}
	return out, nil
}

// WriteCSV writes rows as CSV with a header line.
func WriteCSV(w io.Writer, rows []SavingsRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"tenant", "schedule", "month", "resource_id", "resource", "kind", "type", "region", "hours", "running_hours",
		"saved_hours", "saved_percent", "hourly_price", "priced", "saved", "currency"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range rows {
		_ = cw.Write([]string{r.Tenant, r.Schedule, r.Month, r.ResourceID, csvSafe(r.Resource), r.Kind, csvSafe(r.Type), r.Region, f(r.Hours),
			f(r.RunningHours), f(r.SavedHours), f(r.SavedPercent), f(r.HourlyPrice), strconv.FormatBool(r.Priced), f(r.Saved), r.Currency})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a resource name as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
