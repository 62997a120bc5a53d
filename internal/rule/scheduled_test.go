package rule_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const weeklyReport = `apiVersion: flywheel/v1
kind: Rule
metadata: {name: weekly-report}
spec:
  when: {schedule: "cron(0 7 ? * MON *)", timezone: Europe/Berlin}
  then:
    runbook: patch-report
    mode: auto
    parameters: {scope: "'all'"}
`

// TestScheduledRule: a rule with when.schedule fires on its schedule in
// its zone with an injected clock — not before, once per time however
// often it is asked, once after a downtime over several times (the
// latest, the missed counted), never for events — and its runs are
// audited.
func TestScheduledRule(t *testing.T) { runBoth(t, testScheduledRule) }

func testScheduledRule(t *testing.T, open opener) {
	h := newHarness(t, open, weeklyReport)
	ctx := context.Background()
	fire := func(at string) int {
		t.Helper()
		now, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		n, err := h.en.FireScheduled(ctx, h.st, "acme", now)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// First seen on Sunday 22 March 2026 (Berlin winter time).
	if n := fire("2026-03-22T12:00:00+01:00"); n != 0 {
		t.Fatalf("fired %d before its time", n)
	}
	if n := fire("2026-03-23T06:59:00+01:00"); n != 0 {
		t.Fatalf("fired %d at 06:59", n)
	}
	if n := fire("2026-03-23T07:00:00+01:00"); n != 1 {
		t.Fatalf("fired %d at Monday 07:00 CET, want 1", n)
	}
	if n := fire("2026-03-23T07:00:30+01:00"); n != 0 {
		t.Fatalf("fired again within the same time: %d", n)
	}
	// The next Monday is after the spring change: 07:00 CEST.
	if n := fire("2026-03-30T06:30:00+02:00"); n != 0 {
		t.Fatalf("fired %d at 06:30 CEST (05:30 CET would be 07:00-1h)", n)
	}
	if n := fire("2026-03-30T07:00:00+02:00"); n != 1 {
		t.Fatal("did not fire at Monday 07:00 CEST")
	}
	// Down over three Mondays: one firing, for the latest.
	if n := fire("2026-04-21T09:00:00+02:00"); n != 1 {
		t.Fatalf("after the downtime fired %d, want 1", n)
	}
	if got := len(h.starter.reqs); got != 3 {
		t.Fatalf("%d runs started, want 3", got)
	}
	req := h.starter.reqs[0]
	if req.Runbook != "patch-report" || req.Mode != runbook.ModeAuto || req.StartedBy != "rule:weekly-report" || req.Rule != "weekly-report" ||
		req.OpsItemID != "" || req.Parameters["scope"] != "all" {
		t.Errorf("start request %+v", req)
	}
	var missed bool
	h.tx(func(tx store.Tx) error {
		recs, _, err := tx.ListAudit(ctx, "acme", store.Page{Limit: 100})
		for _, r := range recs {
			if r.Action == "rule.ran" && strings.Contains(string(r.Detail), `"missed":2`) && strings.Contains(string(r.Detail), "2026-04-20T05:00:00Z") {
				missed = true
			}
		}
		return err
	})
	if !missed {
		t.Error("no audit record of the firing after the downtime with its missed time")
	}
	// Another tenant keeps its own times; events never match the rule.
	if n, _ := h.en.FireScheduled(ctx, h.st, "globex", time.Date(2026, 4, 21, 9, 0, 0, 0, time.UTC)); n != 0 {
		t.Errorf("globex fired %d when first seeing the rule", n)
	}
	o := h.opsItem("acme", "oi_1")
	if effs := h.on("acme", h.fire(nil), &o); len(effs) != 0 {
		t.Errorf("a scheduled rule acted on an event: %+v", effs)
	}
	if rs := h.en.Rules.Scheduled(); len(rs) != 1 || rs[0].Schedule != "cron(0 7 ? * MON *)" || rs[0].Timezone != "Europe/Berlin" {
		t.Errorf("Scheduled() = %+v", rs)
	}
}

func TestScheduledRuleErrors(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"when: {schedule: \"cron(0 7 ? * MON#9 *)\"}\nthen: {runbook: r, mode: auto}":             "spec.when.schedule",
		"when: {schedule: \"0 7 * * 1\", timezone: Mars/Olympus}\nthen: {runbook: r, mode: auto}": "spec.when.timezone",
		"when: {schedule: \"0 7 * * 1\"}\nthen: {runbook: r, mode: suggest}":                      "spec.then.mode",
		"when: {schedule: \"0 7 * * 1\"}\nthen: {set: {severity: low}}":                           "spec.then.runbook",
		"when: {schedule: \"0 7 * * 1\"}\nthen: {runbook: r, mode: auto, notify: {channel: x}}":   "no OpsItem",
		"when: {timezone: UTC}\nthen: {runbook: r, mode: auto}":                                   "spec.when.timezone: goes with when.schedule",
		"when: {schedule: \"0 7 * * 1\", every: 2}\nthen: {runbook: r, mode: auto}":               "field every not found in when",
	} {
		_, err := loadYAML(map[string]string{"rules/r.yaml": doc("r", spec)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
	if _, err := rule.Compile(nil); err != nil {
		t.Fatal(err)
	}
}
