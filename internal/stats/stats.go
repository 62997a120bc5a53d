// Package stats computes the flywheel metrics (the loop that joins the nine
// areas): events received against OpsItems opened, the share of
// OpsItems automation resolved, time to resolve, the time OpsItems spent in
// people's hands and the hours automation saved, per area; and the
// automation candidates — recurring OpsItems people resolved by hand — with
// a draft Rule for each. The API (GET /api/v1/stats/flywheel,
// /api/v1/automation/candidates) and the dashboard page both call it, so
// they cannot disagree.
package stats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// History is how far before the end of a period the hours-saved credit
// looks for OpsItems of the same signature resolved by hand.
const History = 90 * 24 * time.Hour

// MaxPeriod bounds a period, so one request cannot scan years of OpsItems.
const MaxPeriod = 400 * 24 * time.Hour

// Estimator returns the minutes one manual run of a tenant's runbook takes
// a person, as the runbook declares (estimate_minutes); 0 when unknown.
type Estimator func(tenant, runbook string) int

// Verifier reports whether a tenant's runbook declares `verify`, so that
// a run of it that succeeded proved its effect; nil counts every succeeded
// run as verified.
type Verifier func(tenant, runbook string) bool

// Resolution classes of an OpsItem, from its resolved_by.
const (
	ByAutomation = "automation" // resolved_by "automation:…" (a rule's runbook fixed it)
	ByPipeline   = "pipeline"   // resolved_by "system:…" (its alerts resolved on their own)
	ByHand       = "hand"       // anything else: a person
)

// ResolvedBy classifies an OpsItem's resolved_by.
func ResolvedBy(by string) string {
	switch {
	case strings.HasPrefix(by, "automation:"):
		return ByAutomation
	case strings.HasPrefix(by, "system:"):
		return ByPipeline
	}
	return ByHand
}

// Point is one bucket of the events-against-OpsItems series.
type Point struct {
	Start    time.Time `json:"start"`
	Received int64     `json:"received"`
	Opened   int64     `json:"opened"`
}

// Durations are a distribution's median and 90th percentile, in seconds.
type Durations struct {
	Count         int   `json:"count"`
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
}

// Outcomes are the figures of OpsItems in a period, for a tenant or one
// area.
type Outcomes struct {
	// Opened counts OpsItems created in the period.
	Opened int64 `json:"opened"`
	// Resolved counts OpsItems resolved in the period, split by who.
	Resolved             int64 `json:"resolved"`
	ResolvedByAutomation int64 `json:"resolved_by_automation"`
	ResolvedByHand       int64 `json:"resolved_by_hand"`
	ResolvedByPipeline   int64 `json:"resolved_by_pipeline"`
	// AutomationShare is ResolvedByAutomation / Resolved (0 when none).
	AutomationShare float64 `json:"automation_share"`
	// TimeToResolve is created → resolved over the OpsItems resolved.
	TimeToResolve Durations `json:"time_to_resolve"`
	// HumanMinutes is the time OpsItems resolved in the period spent in a
	// person's hands.
	HumanMinutes float64 `json:"human_minutes"`
	// HumanHoursSaved credits each automated resolution with the median
	// in-hands time of OpsItems of its signature resolved by hand, or the
	// runbook's estimate_minutes where there is no such history.
	HumanHoursSaved float64 `json:"human_hours_saved"`
	// Credited counts automated resolutions credited from history and from
	// estimates; Uncredited those with neither.
	CreditedFromHistory  int64 `json:"credited_from_history"`
	CreditedFromEstimate int64 `json:"credited_from_estimate"`
	Uncredited           int64 `json:"uncredited"`
	// VerifiedRuns counts the runs rules started on these OpsItems that
	// succeeded and proved their effect (their runbook's verify held);
	// IneffectiveRuns those whose verify found the problem not fixed;
	// FailedRuns those that failed or timed out.
	VerifiedRuns    int64 `json:"verified_runs"`
	IneffectiveRuns int64 `json:"ineffective_runs"`
	FailedRuns      int64 `json:"failed_runs"`
	// CreditWithheld counts resolutions a rule was named for
	// (automation:rule:…) without a verified run of it on the OpsItem:
	// counted as resolved by the pipeline, with no hours saved.
	CreditWithheld int64 `json:"credit_withheld"`
}

// Area is one of the nine areas' outcomes.
type Area struct {
	Category string `json:"category"`
	Title    string `json:"title"`
	Outcomes
}

// Flywheel is the answer of GET /api/v1/stats/flywheel.
type Flywheel struct {
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// StepSeconds is the size of each Series bucket.
	StepSeconds int64   `json:"step_seconds"`
	Series      []Point `json:"series"`
	// Received, Deduplicated and Suppressed are the pipeline's counters;
	// PipelineOpened the OpsItems it opened from them.
	Received       int64            `json:"received"`
	Deduplicated   int64            `json:"deduplicated"`
	Suppressed     map[string]int64 `json:"suppressed"`
	PipelineOpened int64            `json:"pipeline_opened"`
	// NoiseReduction is 1 - PipelineOpened/Received, as /stats/noise.
	NoiseReduction float64 `json:"noise_reduction"`
	Outcomes
	Areas []Area `json:"areas"`
}

// Step is the bucket size for a period: about 24 to 100 buckets.
func Step(period time.Duration) time.Duration {
	for _, s := range []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
		if period <= 100*s {
			return s
		}
	}
	return 7 * 24 * time.Hour
}

// CheckPeriod validates a period.
func CheckPeriod(from, to time.Time) error {
	if !from.Before(to) {
		return fmt.Errorf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxPeriod {
		return fmt.Errorf("the period is %s long; at most %d days", to.Sub(from).Round(time.Hour), int(MaxPeriod/(24*time.Hour)))
	}
	return nil
}

// item is what the figures need of one OpsItem.
type item struct {
	o         store.OpsItem
	human     int64 // seconds in a person's hands, settled at to
	estimate  int   // minutes: the estimate of the runbook a rule ran on it
	byRunbook []store.OpsItemRunbook
	// Runs rules started on it: verified, ineffective, failed.
	verified, ineffective, failed int64
}

// Compute returns the flywheel metrics of a tenant's period [from, to);
// est may be nil (no runbook estimates), ver nil (every succeeded run
// counts as verified).
func Compute(ctx context.Context, st store.Reader, tenant string, from, to time.Time, est Estimator, ver Verifier) (Flywheel, error) {
	if err := CheckPeriod(from, to); err != nil {
		return Flywheel{}, err
	}
	f := Flywheel{Tenant: tenant, From: from, To: to}
	step := Step(to.Sub(from))
	f.StepSeconds = int64(step / time.Second)

	noise, err := st.NoiseTotals(ctx, tenant, from, to)
	if err != nil {
		return f, fmt.Errorf("noise totals: %w", err)
	}
	f.Received, f.Deduplicated, f.Suppressed, f.PipelineOpened = noise.Received, noise.Deduplicated, noise.Suppressed, noise.Opened
	if f.Received > 0 {
		f.NoiseReduction = 1 - float64(f.PipelineOpened)/float64(f.Received)
	}
	series, err := st.NoiseSeries(ctx, tenant, from, to, step)
	if err != nil {
		return f, fmt.Errorf("noise series: %w", err)
	}
	n := int((to.Sub(from) + step - 1) / step)
	f.Series = make([]Point, n)
	for i := range f.Series {
		f.Series[i].Start = from.Add(time.Duration(i) * step)
	}
	for _, b := range series {
		if i := int(b.Minute.Sub(from) / step); i >= 0 && i < n {
			f.Series[i].Received += b.Received
		}
	}

	histFrom := to.Add(-History)
	if from.Before(histFrom) {
		histFrom = from
	}
	items, err := loadItems(ctx, st, tenant, histFrom, to, est, ver)
	if err != nil {
		return f, err
	}
	medians := handMedians(items, to)
	areas := map[string]*Outcomes{}
	ttr := map[string][]int64{}
	for _, it := range items {
		o := it.o
		a := areas[o.Category]
		if a == nil {
			a = &Outcomes{}
			areas[o.Category] = a
		}
		created := !o.CreatedAt.Before(from) && o.CreatedAt.Before(to)
		if created {
			a.Opened++
			f.Series[int(o.CreatedAt.Sub(from)/step)].Opened++
		}
		resolved := o.ResolvedAt != nil && !o.ResolvedAt.Before(from) && o.ResolvedAt.Before(to)
		if created || resolved {
			a.VerifiedRuns += it.verified
			a.IneffectiveRuns += it.ineffective
			a.FailedRuns += it.failed
		}
		if !resolved {
			continue
		}
		a.Resolved++
		ttr[o.Category] = append(ttr[o.Category], int64(o.ResolvedAt.Sub(o.CreatedAt)/time.Second))
		a.HumanMinutes += float64(it.human) / 60
		cr := creditOf(it, medians)
		if cr.withheld {
			a.CreditWithheld++
		}
		switch cr.by {
		case ByAutomation:
			a.ResolvedByAutomation++
			a.HumanHoursSaved += cr.hours
			switch cr.source {
			case fromHistory:
				a.CreditedFromHistory++
			case fromEstimate:
				a.CreditedFromEstimate++
			default:
				a.Uncredited++
			}
		case ByPipeline:
			a.ResolvedByPipeline++
		default:
			a.ResolvedByHand++
		}
	}

	var all []int64
	for _, c := range categories(areas) {
		a := Area{Category: c, Title: categoryTitle(c)}
		if x := areas[c]; x != nil {
			a.Outcomes = *x
		}
		a.finish(ttr[c])
		all = append(all, ttr[c]...)
		f.Areas = append(f.Areas, a)
		f.add(a.Outcomes)
	}
	f.Outcomes.finish(all)
	return f, nil
}

// Where an automated resolution's hours-saved credit comes from.
const (
	fromHistory  = "history"
	fromEstimate = "estimate"
)

// credit is how a resolved OpsItem counts: who resolved it and, for
// automation, the hours saved and where that figure comes from.
type credit struct {
	by     string  // ByAutomation, ByPipeline or ByHand
	hours  float64 // hours saved (automation only)
	source string  // fromHistory, fromEstimate or "" (uncredited)
	// withheld: a rule was named for it without a verified run, so it
	// counts as resolved by the pipeline.
	withheld bool
}

// creditOf classifies a resolved OpsItem; Compute and ComputeTrends both
// use it, so the dashboard's figures and its trend agree.
func creditOf(it item, medians map[string]int64) credit {
	o := it.o
	c := credit{by: ResolvedBy(o.ResolvedBy)}
	if c.by == ByAutomation && strings.HasPrefix(o.ResolvedBy, "automation:rule:") && it.verified == 0 {
		// Credit only follows a verified run.
		c.by, c.withheld = ByPipeline, true
	}
	if c.by != ByAutomation {
		return c
	}
	if m, ok := medians[Signature(o.Category, o.Title)]; ok {
		c.hours, c.source = float64(m)/3600, fromHistory
	} else if it.estimate > 0 {
		c.hours, c.source = float64(it.estimate)/60, fromEstimate
	}
	return c
}

// loadItems reads the OpsItems created or resolved in [from, to) with
// their signature, settled in-hands time and, for automated resolutions,
// the estimate of the runbook a rule ran on them.
func loadItems(ctx context.Context, st store.Reader, tenant string, from, to time.Time, est Estimator, ver Verifier) ([]item, error) {
	var items []item
	err := st.ScanOpsItemsActive(ctx, tenant, from, to, func(o store.OpsItem) error {
		items = append(items, item{o: o, human: o.HumanSecondsAt(to)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan opsitems: %w", err)
	}
	runs, err := st.ListOpsItemRunbooks(ctx, tenant, from, to)
	if err != nil {
		return nil, fmt.Errorf("opsitem runbooks: %w", err)
	}
	byID := map[string][]store.OpsItemRunbook{}
	for _, r := range runs {
		byID[r.OpsItemID] = append(byID[r.OpsItemID], r)
	}
	for i := range items {
		it := &items[i]
		it.byRunbook = byID[it.o.ID]
		for _, r := range it.byRunbook {
			if r.Rule == "" || r.DryRun {
				continue
			}
			switch r.Status {
			case runbook.StatusSucceeded:
				if ver == nil || ver(tenant, r.Runbook) {
					it.verified++
					if est != nil && ResolvedBy(it.o.ResolvedBy) == ByAutomation {
						it.estimate = max(it.estimate, est(tenant, r.Runbook))
					}
				}
			case runbook.StatusIneffective:
				it.ineffective++
			case runbook.StatusFailed, runbook.StatusTimedOut:
				it.failed++
			}
		}
	}
	return items, nil
}

// handMedians is the median in-hands seconds per signature over OpsItems
// resolved by hand before to that someone held.
func handMedians(items []item, to time.Time) map[string]int64 {
	by := map[string][]int64{}
	for _, it := range items {
		o := it.o
		if o.ResolvedAt != nil && o.ResolvedAt.Before(to) && ResolvedBy(o.ResolvedBy) == ByHand && it.human > 0 {
			sig := Signature(o.Category, o.Title)
			by[sig] = append(by[sig], it.human)
		}
	}
	out := map[string]int64{}
	for sig, xs := range by {
		out[sig] = percentile(xs, 50)
	}
	return out
}

func (o *Outcomes) add(x Outcomes) {
	o.Opened += x.Opened
	o.Resolved += x.Resolved
	o.ResolvedByAutomation += x.ResolvedByAutomation
	o.ResolvedByHand += x.ResolvedByHand
	o.ResolvedByPipeline += x.ResolvedByPipeline
	o.HumanMinutes += x.HumanMinutes
	o.HumanHoursSaved += x.HumanHoursSaved
	o.CreditedFromHistory += x.CreditedFromHistory
	o.CreditedFromEstimate += x.CreditedFromEstimate
	o.Uncredited += x.Uncredited
	o.VerifiedRuns += x.VerifiedRuns
	o.IneffectiveRuns += x.IneffectiveRuns
	o.FailedRuns += x.FailedRuns
	o.CreditWithheld += x.CreditWithheld
}

// finish fills in the share and the time-to-resolve distribution.
func (o *Outcomes) finish(ttr []int64) {
	if o.Resolved > 0 {
		o.AutomationShare = float64(o.ResolvedByAutomation) / float64(o.Resolved)
	}
	o.TimeToResolve = Durations{Count: len(ttr)}
	if len(ttr) > 0 {
		o.TimeToResolve.MedianSeconds = percentile(ttr, 50)
		o.TimeToResolve.P90Seconds = percentile(ttr, 90)
	}
}

// percentile is the nearest-rank percentile p of xs (sorted in place).
func percentile(xs []int64, p int) int64 {
	slices.Sort(xs)
	rank := (p*len(xs) + 99) / 100 // ceil(p/100 * n)
	return xs[max(rank, 1)-1]
}

// categories lists the nine areas, then any other category seen.
func categories(seen map[string]*Outcomes) []string {
	out := slices.Clone(opsitem.Categories)
	var extra []string
	for c := range seen {
		if !slices.Contains(out, c) {
			extra = append(extra, c)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

func categoryTitle(c string) string {
	if t, ok := opsitem.CategoryTitles[c]; ok {
		return t
	}
	return c
}

// LibraryVerifier reads from a runbook library which runbooks declare
// verify; nil without one.
func LibraryVerifier(lib *runbook.Library) Verifier {
	if lib == nil {
		return nil
	}
	return func(tenant, name string) bool {
		rb, ok := lib.Get(tenant, name)
		return ok && rb.Verify != nil
	}
}

// LibraryEstimator reads estimates from a runbook library; nil without one.
func LibraryEstimator(lib *runbook.Library) Estimator {
	if lib == nil {
		return nil
	}
	return func(tenant, name string) int {
		if rb, ok := lib.Get(tenant, name); ok {
			return rb.EstimateMinutes
		}
		return 0
	}
}
