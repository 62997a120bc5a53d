package stats

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

func TestTitlePattern(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Disk almost full on web-03 (93%)", "Disk almost full on web-* (*%)"},
		{"Disk almost full on web-11 (97%)", "Disk almost full on web-* (*%)"},
		{"EC2 instance i-0abc123def stopped", "EC2 instance i-* stopped"},
		{"S3 bucket logs-2026 is public", "S3 bucket logs-* is public"},
		{"Host 10.0.1.5   unreachable", "Host *.*.*.* unreachable"},
		{"Certificate 3f2c9a1e-77b0-4c1e-9a43-0d6e8e1d2b11 expires", "Certificate *-*-*-*-* expires"},
		{"No numbers here", "No numbers here"},
	} {
		if got := TitlePattern(tc.in); got != tc.want {
			t.Errorf("TitlePattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if Signature("monitoring", "x 1") == Signature("security", "x 2") {
		t.Error("signatures of two areas are equal")
	}
}

func TestPercentileAndStep(t *testing.T) {
	if got := percentile([]int64{3600, 60, 1800, 120, 600}, 50); got != 600 {
		t.Errorf("median = %d, want 600", got)
	}
	if got := percentile([]int64{3600, 60, 1800, 120, 600}, 90); got != 3600 {
		t.Errorf("p90 = %d, want 3600", got)
	}
	if got := percentile([]int64{7}, 90); got != 7 {
		t.Errorf("p90 of one = %d, want 7", got)
	}
	for _, tc := range []struct{ period, want time.Duration }{
		{time.Hour, 5 * time.Minute}, {24 * time.Hour, 15 * time.Minute}, {7 * 24 * time.Hour, 6 * time.Hour},
		{30 * 24 * time.Hour, 24 * time.Hour}, {365 * 24 * time.Hour, 7 * 24 * time.Hour},
	} {
		if got := Step(tc.period); got != tc.want {
			t.Errorf("Step(%s) = %s, want %s", tc.period, got, tc.want)
		}
	}
}

// seed is one day of a tenant's OpsItems (see TestCompute).
type seed struct {
	title, category, by string
	created, resolved   time.Duration // from the period's start; resolved 0: open
	human               int64
	ruleRunbook         string // a runbook a rule ran on it, successfully
	ruleStatus          string // how that run ended, when not succeeded
}

var day = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

func seedStore(t *testing.T, tenant string, items []seed) store.Store {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: tenant, CreatedAt: day}); err != nil {
			return err
		}
		if err := tx.AddNoise(ctx, store.NoiseBucket{TenantID: tenant, Minute: day.Add(time.Hour), Received: 100, Opened: 5, Suppressed: map[string]int64{"silence": 20}}); err != nil {
			return err
		}
		for i, s := range items {
			at := day.Add(s.created)
			o := store.OpsItem{ID: store.NewID("oi", at.Add(time.Duration(i))), TenantID: tenant, Title: s.title, Category: s.category,
				Severity: "high", Status: "open", Source: "api", CreatedAt: at, UpdatedAt: at, HumanSeconds: s.human}
			if s.resolved != 0 {
				r := day.Add(s.resolved)
				o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = "resolved", &r, s.by, r
			}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			if s.ruleRunbook != "" {
				status := s.ruleStatus
				if status == "" {
					status = "succeeded"
				}
				x := store.Execution{ID: store.NewID("ex", at.Add(time.Duration(i))), TenantID: tenant, Runbook: s.ruleRunbook, Status: status, OpsItemID: o.ID,
					Rule: "r-" + s.ruleRunbook, StartedBy: "rule:r-" + s.ruleRunbook, CreatedAt: at, UpdatedAt: at}
				if err := tx.CreateExecution(ctx, x); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// daySeeds: two disk OpsItems resolved by hand before the day (10 and 20
// minutes in hand: median 10), and on the day three automated resolutions
// — one of the disk signature (credited 10 minutes of history), one a rule
// ran isolate-ec2-instance on (its estimate, 45 minutes), one with neither —
// one by hand (30 minutes in hand), one by the pipeline, one still open.
var daySeeds = []seed{
	{title: "Disk almost full on web-01", category: "monitoring", by: "token:tok_1", created: -10 * 24 * time.Hour, resolved: -10*24*time.Hour + time.Hour, human: 600},
	{title: "Disk almost full on web-02", category: "monitoring", by: "token:tok_1", created: -5 * 24 * time.Hour, resolved: -5*24*time.Hour + time.Hour, human: 1200},
	{title: "Disk almost full on web-07", category: "monitoring", by: "automation:rule:disk-cleanup", created: 2 * time.Hour, resolved: 2*time.Hour + 10*time.Minute, ruleRunbook: "disk-cleanup"},
	{title: "GuardDuty: i-0abc123 talks to a C2 server", category: "security", by: "automation:rule:r-isolate", created: 3 * time.Hour, resolved: 3*time.Hour + 30*time.Minute, ruleRunbook: "isolate-ec2-instance"},
	{title: "Certificate expires", category: "monitoring", by: "automation:rule:renew", created: 4 * time.Hour, resolved: 4*time.Hour + time.Minute, ruleRunbook: "renew-cert"},
	{title: "Replication lag on db-2", category: "service", by: "token:tok_2", created: 5 * time.Hour, resolved: 6 * time.Hour, human: 1800},
	{title: "CPU high on api-4", category: "monitoring", by: "system:pipeline", created: 7 * time.Hour, resolved: 7*time.Hour + 2*time.Minute},
	{title: "Backup failed on db-2", category: "backup", created: 8 * time.Hour},
}

func TestCompute(t *testing.T) {
	t.Parallel()
	st := seedStore(t, "acme", daySeeds)
	est := func(tenant, rb string) int {
		if tenant == "acme" && rb == "isolate-ec2-instance" {
			return 45
		}
		return 0
	}
	f, err := Compute(context.Background(), st, "acme", day, day.Add(24*time.Hour), est, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Received != 100 || f.PipelineOpened != 5 || f.Suppressed["silence"] != 20 || math.Abs(f.NoiseReduction-0.95) > 1e-9 {
		t.Errorf("noise: received %d, opened %d, silenced %d, reduction %v; want 100, 5, 20, 0.95", f.Received, f.PipelineOpened, f.Suppressed["silence"], f.NoiseReduction)
	}
	o := f.Outcomes
	if o.Opened != 6 || o.Resolved != 5 || o.ResolvedByAutomation != 3 || o.ResolvedByHand != 1 || o.ResolvedByPipeline != 1 {
		t.Errorf("counts: %+v", o)
	}
	if math.Abs(o.AutomationShare-0.6) > 1e-9 {
		t.Errorf("automation share %v, want 0.6", o.AutomationShare)
	}
	// Times to resolve: 10 min, 30 min, 1 min, 1 h, 2 min.
	if o.TimeToResolve != (Durations{Count: 5, MedianSeconds: 600, P90Seconds: 3600}) {
		t.Errorf("time to resolve %+v, want 5, median 600 s, p90 3600 s", o.TimeToResolve)
	}
	if math.Abs(o.HumanMinutes-30) > 1e-9 {
		t.Errorf("human minutes %v, want 30", o.HumanMinutes)
	}
	if want := 10.0/60 + 45.0/60; math.Abs(o.HumanHoursSaved-want) > 1e-9 || o.CreditedFromHistory != 1 || o.CreditedFromEstimate != 1 || o.Uncredited != 1 {
		t.Errorf("hours saved %v (history %d, estimate %d, none %d), want %v (1, 1, 1)", o.HumanHoursSaved, o.CreditedFromHistory, o.CreditedFromEstimate, o.Uncredited, want)
	}

	// Areas: all nine, in order, their figures adding up to the total.
	if len(f.Areas) != 9 || f.Areas[0].Category != "security" {
		t.Fatalf("areas: %d, first %q", len(f.Areas), f.Areas[0].Category)
	}
	by := map[string]Area{}
	for _, a := range f.Areas {
		by[a.Category] = a
	}
	if m := by["monitoring"]; m.Opened != 3 || m.ResolvedByAutomation != 2 || m.ResolvedByPipeline != 1 || m.CreditedFromHistory != 1 || m.TimeToResolve.MedianSeconds != 120 {
		t.Errorf("monitoring: %+v", m)
	}
	if s := by["security"]; s.Opened != 1 || s.ResolvedByAutomation != 1 || s.AutomationShare != 1 || math.Abs(s.HumanHoursSaved-0.75) > 1e-9 {
		t.Errorf("security: %+v", s)
	}
	if b := by["backup"]; b.Opened != 1 || b.Resolved != 0 || b.TimeToResolve.Count != 0 {
		t.Errorf("backup: %+v", b)
	}

	// The series: 96 quarter hours; the events in the fifth, each OpsItem
	// in the quarter it was created.
	if f.StepSeconds != 900 || len(f.Series) != 96 {
		t.Fatalf("series: step %d s, %d points", f.StepSeconds, len(f.Series))
	}
	var received, opened int64
	for _, p := range f.Series {
		received += p.Received
		opened += p.Opened
	}
	if f.Series[4].Received != 100 || received != 100 || opened != 6 || f.Series[8].Opened != 1 || f.Series[32].Opened != 1 {
		t.Errorf("series: bucket 4 received %d (total %d), opened total %d, bucket 8 %d, bucket 32 %d",
			f.Series[4].Received, received, opened, f.Series[8].Opened, f.Series[32].Opened)
	}

	// Without estimates the isolation is uncredited.
	f, err = Compute(context.Background(), st, "acme", day, day.Add(24*time.Hour), nil, nil)
	if err != nil || f.Uncredited != 2 || f.CreditedFromEstimate != 0 {
		t.Errorf("without estimates: uncredited %d, from estimate %d, %v", f.Uncredited, f.CreditedFromEstimate, err)
	}
	for _, bad := range [][2]time.Time{{day, day}, {day, day.Add(-time.Hour)}, {day, day.Add(MaxPeriod + time.Hour)}} {
		if _, err := Compute(context.Background(), st, "acme", bad[0], bad[1], nil, nil); err == nil {
			t.Errorf("period %s – %s: no error", bad[0], bad[1])
		}
	}
}

// TestIneffectiveRunEarnsNoCredit: a cleanup that ran but did not fix the
// disk (ineffective), then a person freed it, is no automated resolution
// and saves no hours; a resolution naming a rule without a verified run of
// it is withheld; runs of a runbook without verify are not verified. The
// figures count verified, ineffective and failed runs.
func TestIneffectiveRunEarnsNoCredit(t *testing.T) {
	t.Parallel()
	st := seedStore(t, "acme", []seed{
		{title: "Disk almost full on web-01", category: "monitoring", by: "token:tok_1", created: -3 * 24 * time.Hour, resolved: -3*24*time.Hour + time.Hour, human: 900},
		// Ineffective, then the alert cleared once a person removed the file.
		{title: "Disk almost full on web-02", category: "monitoring", by: "system:pipeline", created: time.Hour, resolved: 2 * time.Hour, ruleRunbook: "disk-cleanup", ruleStatus: "ineffective"},
		// Named for the rule, but its only run was ineffective.
		{title: "Disk almost full on web-03", category: "monitoring", by: "automation:rule:disk-cleanup", created: 3 * time.Hour, resolved: 4 * time.Hour, ruleRunbook: "disk-cleanup", ruleStatus: "ineffective"},
		// Verified: credited from history (15 min).
		{title: "Disk almost full on web-04", category: "monitoring", by: "automation:rule:disk-cleanup", created: 5 * time.Hour, resolved: 6 * time.Hour, ruleRunbook: "disk-cleanup"},
		// Succeeded, but its runbook has no verify: not verified, no credit.
		{title: "Service down on api-1", category: "service", by: "automation:rule:restart", created: 7 * time.Hour, resolved: 8 * time.Hour, ruleRunbook: "restart-unverified"},
		{title: "Service down on api-2", category: "service", created: 9 * time.Hour, ruleRunbook: "restart-unverified", ruleStatus: "failed"},
	})
	ver := func(_, rb string) bool { return rb == "disk-cleanup" }
	f, err := Compute(context.Background(), st, "acme", day, day.Add(24*time.Hour), func(string, string) int { return 20 }, ver)
	if err != nil {
		t.Fatal(err)
	}
	o := f.Outcomes
	if o.ResolvedByAutomation != 1 || o.CreditWithheld != 2 || o.ResolvedByPipeline != 3 || o.Resolved != 4 {
		t.Errorf("resolutions: automation %d, withheld %d, pipeline %d of %d; want 1, 2, 3 of 4", o.ResolvedByAutomation, o.CreditWithheld, o.ResolvedByPipeline, o.Resolved)
	}
	if math.Abs(o.HumanHoursSaved-0.25) > 1e-9 || o.CreditedFromHistory != 1 || o.CreditedFromEstimate != 0 {
		t.Errorf("hours saved %v (history %d, estimate %d), want 0.25 from the one verified cleanup", o.HumanHoursSaved, o.CreditedFromHistory, o.CreditedFromEstimate)
	}
	if o.VerifiedRuns != 1 || o.IneffectiveRuns != 2 || o.FailedRuns != 1 || math.Abs(o.AutomationShare-0.25) > 1e-9 {
		t.Errorf("runs: verified %d, ineffective %d, failed %d, share %v; want 1, 2, 1, 0.25", o.VerifiedRuns, o.IneffectiveRuns, o.FailedRuns, o.AutomationShare)
	}
}
