package rule_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

type opener func(t *testing.T) store.Store

func openSQLite(t *testing.T) store.Store {
	st := sqlitetest.Open(t)
	return st
}

func openPostgres(t *testing.T) store.Store { return postgres.OpenTest(t) }

// runBoth runs fn against SQLite and PostgreSQL.
func runBoth(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, openPostgres) })
}

// fakeStarter records start requests; fail, when set, makes Start fail.
type fakeStarter struct {
	reqs []runbook.StartRequest
	fail error
}

var _ runbook.Starter = (*fakeStarter)(nil)

func (f *fakeStarter) Start(_ context.Context, tx store.Tx, req runbook.StartRequest) (string, error) {
	if tx == nil {
		return "", errors.New("no transaction")
	}
	if f.fail != nil {
		return "", f.fail
	}
	f.reqs = append(f.reqs, req)
	if req.Mode == runbook.ModeSuggest {
		return "", nil // as the executor: a suggestion is no execution
	}
	return fmt.Sprintf("ex_%d", len(f.reqs)), nil
}

// harness is an engine over a store with tenants acme and globex.
type harness struct {
	t       *testing.T
	st      store.Store
	en      *rule.Engine
	starter *fakeStarter
	now     time.Time
}

func newHarness(t *testing.T, open opener, rules string) *harness {
	t.Helper()
	h := &harness{t: t, st: open(t), starter: &fakeStarter{}, now: testNow}
	files := map[string]string{}
	for i, d := range strings.Split(rules, "\n---\n") {
		files[fmt.Sprintf("rules/%d.yaml", i)] = d
	}
	h.en = &rule.Engine{Rules: compileYAML(t, files), Starter: h.starter, Now: func() time.Time { return h.now }}
	h.tx(func(tx store.Tx) error {
		for _, id := range []string{"acme", "globex"} {
			if err := tx.CreateTenant(context.Background(), store.Tenant{ID: id, Name: id, CreatedAt: testNow}); err != nil {
				return err
			}
		}
		return nil
	})
	return h
}

func (h *harness) tx(fn func(tx store.Tx) error) {
	h.t.Helper()
	if err := h.st.InTx(context.Background(), fn); err != nil {
		h.t.Fatal(err)
	}
}

// opsItem stores an open OpsItem about instance i-1 for tenant.
func (h *harness) opsItem(tenant, id string) store.OpsItem {
	h.t.Helper()
	o := store.OpsItem{ID: id, TenantID: tenant, Title: "disk full on web-1", Category: "monitoring", Severity: "high",
		Status: "open", Source: "alertmanager", CreatedAt: h.now, UpdatedAt: h.now, Occurrences: 1}
	h.tx(func(tx store.Tx) error {
		if err := tx.CreateOpsItem(context.Background(), o); err != nil {
			return err
		}
		if err := tx.AddOpsItemResource(context.Background(), tenant, id, store.OpsItemResource{Type: "host", ID: "web-1"}); err != nil {
			return err
		}
		return tx.AddOpsItemResource(context.Background(), tenant, id, store.OpsItemResource{Type: "ec2-instance", ID: "i-1"})
	})
	return o
}

// fire is a firing alert received at h.now.
func (h *harness) fire(labels map[string]string) *event.Event {
	l := map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": "web-1:9100"}
	for k, v := range labels {
		l[k] = v
	}
	return &event.Event{Source: "alertmanager", Kind: event.KindAlert, Severity: event.SeverityHigh, Status: event.StatusFiring,
		Title: "NodeFilesystemAlmostFull", Labels: l, OccurredAt: h.now, ReceivedAt: h.now,
		Resources: []event.ResourceRef{{Type: "host", ID: "web-1"}}, Fingerprint: event.FingerprintOf("alertmanager", l)}
}

// on runs OnEvent for an event on o (decision "attached") in a transaction.
func (h *harness) on(tenant string, ev *event.Event, o *store.OpsItem) []rule.Effect {
	h.t.Helper()
	var effs []rule.Effect
	h.tx(func(tx store.Tx) error {
		var err error
		effs, err = h.en.OnEvent(context.Background(), tx, tenant, ev, o, "attached")
		return err
	})
	return effs
}

func (h *harness) result(tenant, name string, ok bool) {
	h.t.Helper()
	status := runbook.StatusFailed
	if ok {
		status = runbook.StatusSucceeded
	}
	h.record(store.Execution{ID: "ex_r", TenantID: tenant, Rule: name, Runbook: "disk-cleanup", Status: status,
		Targets: json.RawMessage(`[{"id":"web-1"},{"id":"i-1"}]`)})
}

// itemGroup is the target group of the harness's OpsItems (their
// resources): a rule's breaker for them is kept as "<rule>@"+itemGroup.
const itemGroup = "i-1,web-1"

// record reports how e ended to the engine.
func (h *harness) record(e store.Execution) {
	h.t.Helper()
	h.tx(func(tx store.Tx) error { return h.en.RecordResult(context.Background(), tx, e) })
}

func decisions(effs []rule.Effect) []string {
	var out []string
	for _, e := range effs {
		out = append(out, e.Rule+":"+string(e.Decision))
	}
	return out
}

func wantDecisions(t *testing.T, effs []rule.Effect, want ...string) {
	t.Helper()
	if got := decisions(effs); !slices.Equal(got, want) {
		t.Errorf("decisions = %q, want %q (effects %+v)", got, want, effs)
	}
}

// auditActions lists the tenant's audit records oldest first as
// "actor action result".
func (h *harness) auditActions(tenant string) []string {
	h.t.Helper()
	var out []string
	err := h.st.ScanAudit(context.Background(), tenant, 0, func(r store.AuditRecord) error {
		out = append(out, r.Actor+" "+r.Action+" "+strings.SplitN(r.Result, ":", 2)[0])
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) timeline(tenant, id string) []string {
	h.t.Helper()
	tl, err := h.st.ListTimeline(context.Background(), tenant, id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		out = append(out, e.Kind+": "+e.Message)
	}
	return out
}

const diskRule = `apiVersion: flywheel/v1
kind: Rule
metadata: {name: disk-cleanup}
spec:
  when: event.labels[?"alertname"].orValue("") == "NodeFilesystemAlmostFull"
  then:
    runbook: disk-cleanup
    mode: auto
    parameters:
      host: event.resources[0].id
      threshold: "90"
  rate_limit: {max: 2, per: 1h}
  circuit_breaker: {failures: 2}
  cooldown: 30m
  stop: true`

func TestRunAndLoopGuard(t *testing.T) { runBoth(t, testRunAndLoopGuard) }

func testRunAndLoopGuard(t *testing.T, open opener) {
	h := newHarness(t, open, diskRule)
	o := h.opsItem("acme", "oi_1")
	effs := h.on("acme", h.fire(nil), &o)
	wantDecisions(t, effs, "disk-cleanup:ran")
	want := runbook.StartRequest{TenantID: "acme", Runbook: "disk-cleanup", Parameters: map[string]any{"host": "web-1", "threshold": int64(90)},
		OpsItemID: "oi_1", Mode: runbook.ModeAuto, StartedBy: "rule:disk-cleanup", Rule: "disk-cleanup"}
	if len(h.starter.reqs) != 1 || !reflect.DeepEqual(h.starter.reqs[0], want) {
		t.Fatalf("start requests = %+v\nwant %+v", h.starter.reqs, want)
	}
	if e := effs[0]; e.ExecutionID != "ex_1" || e.Targets != nil {
		t.Errorf("effect = %+v", e)
	}
	// The executor writes the run on the timeline; the rule adds nothing.
	if tl := h.timeline("acme", "oi_1"); len(tl) != 0 {
		t.Errorf("timeline = %q", tl)
	}

	// The same OpsItem within the cool-down: no second run.
	h.now = h.now.Add(10 * time.Minute)
	wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:loop-guarded")
	// An event the rule's own execution caused, on another OpsItem: no run.
	o2 := h.opsItem("acme", "oi_2")
	effs = h.on("acme", h.fire(map[string]string{rule.LabelExecutionRule: "disk-cleanup"}), &o2)
	wantDecisions(t, effs, "disk-cleanup:loop-guarded")
	if !strings.Contains(effs[0].Reason, rule.LabelExecutionRule) {
		t.Errorf("reason = %q", effs[0].Reason)
	}
	// Another rule's execution does not guard this one.
	wantDecisions(t, h.on("acme", h.fire(map[string]string{rule.LabelExecutionRule: "other"}), &o2), "disk-cleanup:ran")
	// After the cool-down (and clear of the rate limit of 2 an hour), the
	// problem is back: run again.
	h.now = testNow.Add(61 * time.Minute)
	wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:ran")
	if len(h.starter.reqs) != 3 {
		t.Errorf("%d runs, want 3", len(h.starter.reqs))
	}
	if got, want := h.auditActions("acme"), []string{
		"rule:disk-cleanup rule.ran ok", "rule:disk-cleanup rule.loop-guarded skipped", "rule:disk-cleanup rule.loop-guarded skipped",
		"rule:disk-cleanup rule.ran ok", "rule:disk-cleanup rule.ran ok",
	}; !slices.Equal(got, want) {
		t.Errorf("audit = %q\nwant %q", got, want)
	}

	// Only firing events that reached an open OpsItem count.
	for _, d := range []string{"deduplicated", "resolved", "suppressed", "held", "flapping", "stale"} {
		var effs []rule.Effect
		o3 := h.opsItem("acme", "oi_"+d)
		h.tx(func(tx store.Tx) error {
			var err error
			effs, err = h.en.OnEvent(context.Background(), tx, "acme", h.fire(nil), &o3, d)
			return err
		})
		if len(effs) != 0 {
			t.Errorf("decision %s: %v", d, decisions(effs))
		}
	}
	resolved := h.fire(nil)
	resolved.Status = event.StatusResolved
	o4 := h.opsItem("acme", "oi_4")
	if effs := h.on("acme", resolved, &o4); len(effs) != 0 {
		t.Errorf("resolved event: %v", decisions(effs))
	}
	o4.Status = "resolved"
	if effs := h.on("acme", h.fire(nil), &o4); len(effs) != 0 {
		t.Errorf("closed OpsItem: %v", decisions(effs))
	}
}

func TestRateLimit(t *testing.T) { runBoth(t, testRateLimit) }

func testRateLimit(t *testing.T, open opener) {
	h := newHarness(t, open, diskRule)
	var items []store.OpsItem
	for i := range 4 {
		items = append(items, h.opsItem("acme", fmt.Sprintf("oi_%d", i)))
	}
	g := h.opsItem("globex", "oi_g")
	wantDecisions(t, h.on("acme", h.fire(nil), &items[0]), "disk-cleanup:ran")
	h.now = h.now.Add(time.Minute)
	wantDecisions(t, h.on("acme", h.fire(nil), &items[1]), "disk-cleanup:ran")
	h.now = h.now.Add(time.Minute)
	effs := h.on("acme", h.fire(nil), &items[2])
	wantDecisions(t, effs, "disk-cleanup:rate-limited")
	if effs[0].Reason != "acted 2 times in the last 1h0m0s (rate limit 2 per 1h0m0s)" {
		t.Errorf("reason = %q", effs[0].Reason)
	}
	if tl := h.timeline("acme", "oi_2"); len(tl) != 1 || !strings.HasPrefix(tl[0], "rule: rule disk-cleanup matched but is rate-limited") {
		t.Errorf("timeline of the rate-limited OpsItem = %q", tl)
	}
	// The limit is per tenant.
	wantDecisions(t, h.on("globex", h.fire(nil), &g), "disk-cleanup:ran")
	// An hour after the first run, a slot is free again.
	h.now = testNow.Add(time.Hour)
	wantDecisions(t, h.on("acme", h.fire(nil), &items[3]), "disk-cleanup:ran")
	wantDecisions(t, h.on("acme", h.fire(nil), &items[2]), "disk-cleanup:rate-limited")
	if n := len(h.starter.reqs); n != 4 {
		t.Errorf("%d runs, want 4", n)
	}
}

func TestCircuitBreaker(t *testing.T) { runBoth(t, testCircuitBreaker) }

func testCircuitBreaker(t *testing.T, open opener) {
	h := newHarness(t, open, diskRule)
	ctx := context.Background()
	o := h.opsItem("acme", "oi_1")
	wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:ran")
	h.result("acme", "disk-cleanup", false)
	if st, err := h.st.GetRuleState(ctx, "acme", "disk-cleanup@"+itemGroup); err != nil || st.Failures != 1 || st.BreakerOpen() {
		t.Fatalf("after one failure: %+v, %v", st, err)
	}
	h.now = h.now.Add(time.Minute)
	h.result("acme", "disk-cleanup", false)
	st, err := h.st.GetRuleState(ctx, "acme", "disk-cleanup@"+itemGroup)
	if err != nil || st.Failures != 2 || !st.BreakerOpen() || st.BreakerOpsItemID == "" {
		t.Fatalf("after two failures: %+v, %v", st, err)
	}
	b, err := h.st.GetOpsItem(ctx, "acme", st.BreakerOpsItemID)
	if err != nil || b.Title != "Automation rule disk-cleanup disabled for i-1,web-1 after 2 failures" || b.Status != "open" ||
		b.Category != "operations" || b.Severity != "high" {
		t.Fatalf("breaker OpsItem = %+v, %v", b, err)
	}
	// Another tenant's breaker is its own.
	if _, err := h.st.GetRuleState(ctx, "globex", "disk-cleanup@"+itemGroup); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("globex state: %v", err)
	}

	// While open, an auto run becomes a suggestion.
	o2 := h.opsItem("acme", "oi_2")
	effs := h.on("acme", h.fire(nil), &o2)
	wantDecisions(t, effs, "disk-cleanup:breaker-open")
	if n := len(h.starter.reqs); n != 2 || h.starter.reqs[1].Mode != runbook.ModeSuggest {
		t.Errorf("while the breaker is open: %+v, want the run suggested", h.starter.reqs[1:])
	}
	// ... and, blocked, the OpsItem is escalated for a person.
	if tl := h.timeline("acme", "oi_2"); len(tl) != 2 || !strings.HasPrefix(tl[0], "rule: rule disk-cleanup matched but is breaker-open: its circuit breaker opened at") ||
		!strings.HasSuffix(tl[0], "after 2 failed runs (OpsItem "+b.ID+")") ||
		!strings.HasPrefix(tl[1], "escalated: needs a person: rule disk-cleanup's automation was blocked: the rule's circuit breaker is open") ||
		!strings.HasSuffix(tl[1], "severity high → critical") {
		t.Errorf("timeline = %q", tl)
	}
	if o2.Severity != "critical" || !strings.Contains(string(o2.OperationalData), `"needs_human":{`) {
		t.Errorf("blocked OpsItem: severity %s, data %s", o2.Severity, o2.OperationalData)
	}
	// A further failure (an approved run) neither reopens nor duplicates.
	h.result("acme", "disk-cleanup", false)
	items, _, _ := h.st.ListOpsItems(ctx, "acme", store.OpsItemFilter{Category: "operations"}, store.Page{})
	if len(items) != 1 {
		t.Errorf("%d breaker OpsItems, want 1", len(items))
	}

	// A success closes it and resolves its OpsItem (an hour on, clear of
	// the rate limit).
	h.now = h.now.Add(time.Hour)
	h.result("acme", "disk-cleanup", true)
	if st, _ := h.st.GetRuleState(ctx, "acme", "disk-cleanup@"+itemGroup); st.Failures != 0 || st.BreakerOpen() {
		t.Errorf("after a success: %+v", st)
	}
	if b, _ := h.st.GetOpsItem(ctx, "acme", b.ID); b.Status != "resolved" || b.ResolvedBy != "automation:rule:disk-cleanup" {
		t.Errorf("breaker OpsItem after success: %s by %s", b.Status, b.ResolvedBy)
	}
	o3 := h.opsItem("acme", "oi_3")
	wantDecisions(t, h.on("acme", h.fire(nil), &o3), "disk-cleanup:ran")

	// A person resets it too.
	h.result("acme", "disk-cleanup", false)
	h.result("acme", "disk-cleanup", false)
	h.tx(func(tx store.Tx) error {
		_, err := h.en.ResetBreaker(ctx, tx, "acme", "disk-cleanup", "", "token:tok_1")
		return err
	})
	if st, _ := h.st.GetRuleState(ctx, "acme", "disk-cleanup@"+itemGroup); st.Failures != 0 || st.BreakerOpen() {
		t.Errorf("after reset: %+v", st)
	}
	h.tx(func(tx store.Tx) error {
		_, err := h.en.ResetBreaker(ctx, tx, "acme", "never-ran", "", "token:tok_1")
		return err
	})

	var breaker []string
	for _, a := range h.auditActions("acme") {
		if strings.Contains(a, "breaker") {
			breaker = append(breaker, a)
		}
	}
	if want := []string{
		"rule:disk-cleanup rule.breaker.open ok", "rule:disk-cleanup rule.breaker-open skipped", "rule:disk-cleanup rule.breaker.close ok",
		"rule:disk-cleanup rule.breaker.open ok", "token:tok_1 rule.breaker.close ok",
	}; !slices.Equal(breaker, want) {
		t.Errorf("breaker audit = %q\nwant %q", breaker, want)
	}
}

func TestModesAndFailures(t *testing.T) { runBoth(t, testModesAndFailures) }

func testModesAndFailures(t *testing.T, open opener) {
	rules := `apiVersion: flywheel/v1
kind: Rule
metadata: {name: suggest-restart}
spec:
  priority: 30
  when: event.labels[?"alertname"].orValue("") == "ServiceDown"
  then:
    runbook: restart-service
    mode: suggest
    parameters: {unit: event.labels.unit}
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: approve-isolate}
spec:
  priority: 20
  when: event.labels[?"alertname"].orValue("") == "Compromised"
  then:
    runbook: isolate-ec2-instance
    mode: approval
    targets: '["i-1"]'
    parameters: {instance_id: '"i-1"'}
  circuit_breaker: {failures: 1}
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: bad-param}
spec:
  priority: 10
  when: event.labels[?"alertname"].orValue("") == "BadParam"
  then:
    runbook: restart-service
    mode: auto
    parameters: {unit: event.labels.unit}
  circuit_breaker: {failures: 1}`
	h := newHarness(t, open, rules)
	ctx := context.Background()

	o1 := h.opsItem("acme", "oi_1")
	effs := h.on("acme", h.fire(map[string]string{"alertname": "ServiceDown", "unit": "nginx.service"}), &o1)
	wantDecisions(t, effs, "suggest-restart:suggested")
	// The starter records the suggestion (and checks the runbook and its
	// parameters); nothing runs.
	if r := h.starter.reqs; len(r) != 1 || r[0].Mode != runbook.ModeSuggest || r[0].Parameters["unit"] != "nginx.service" || effs[0].ExecutionID != "" {
		t.Errorf("suggestion: requests %+v, effect %+v", r, effs[0])
	}
	h.starter.reqs = nil
	// Suggestions are loop-guarded like runs.
	wantDecisions(t, h.on("acme", h.fire(map[string]string{"alertname": "ServiceDown", "unit": "nginx.service"}), &o1), "suggest-restart:loop-guarded")

	o2 := h.opsItem("acme", "oi_2")
	effs = h.on("acme", h.fire(map[string]string{"alertname": "Compromised"}), &o2)
	wantDecisions(t, effs, "approve-isolate:ran")
	if r := h.starter.reqs[0]; r.Mode != runbook.ModeApproval || !slices.Equal(r.Targets, []string{"i-1"}) {
		t.Errorf("approval start = %+v", r)
	}

	// A parameter that fails to evaluate: no run, and not the runbook's
	// fault, so the breaker does not count it.
	o3 := h.opsItem("acme", "oi_3")
	effs = h.on("acme", h.fire(map[string]string{"alertname": "BadParam"}), &o3)
	wantDecisions(t, effs, "bad-param:failed")
	if !strings.Contains(effs[0].Reason, "spec.then.parameters.unit") {
		t.Errorf("reason = %q", effs[0].Reason)
	}
	if tl := h.timeline("acme", "oi_3"); len(tl) != 1 || !strings.HasPrefix(tl[0], "rule: rule bad-param could not start runbook restart-service: rule bad-param: spec.then.parameters.unit: no such key: unit") {
		t.Errorf("timeline = %q", tl)
	}
	if _, err := h.st.GetRuleState(ctx, "acme", "bad-param@"+itemGroup); err != nil {
		t.Errorf("state: %v", err)
	} else if st, _ := h.st.GetRuleState(ctx, "acme", "bad-param@"+itemGroup); st.Failures != 0 {
		t.Errorf("a parameter error counted as a failed run: %+v", st)
	}

	// A runbook the starter refuses is a failed run: with failures 1 the
	// breaker opens at once.
	h.starter.fail = errors.New(`runbook "isolate-ec2-instance" does not exist`)
	o4 := h.opsItem("acme", "oi_4")
	effs = h.on("acme", h.fire(map[string]string{"alertname": "Compromised"}), &o4)
	wantDecisions(t, effs, "approve-isolate:failed")
	if st, _ := h.st.GetRuleState(ctx, "acme", "approve-isolate@i-1"); !st.BreakerOpen() {
		t.Errorf("breaker after a refused start: %+v", st)
	}
	// The breaker stops auto runs only: an approval-mode rule still asks.
	h.starter.fail = nil
	o5 := h.opsItem("acme", "oi_5")
	wantDecisions(t, h.on("acme", h.fire(map[string]string{"alertname": "Compromised"}), &o5), "approve-isolate:ran")

	// Without a starter, runs fail rather than vanish.
	h.en.Starter = nil
	o6 := h.opsItem("acme", "oi_6")
	effs = h.on("acme", h.fire(map[string]string{"alertname": "Compromised"}), &o6)
	wantDecisions(t, effs, "approve-isolate:failed")
	if effs[0].Reason != "no runbook starter is configured" {
		t.Errorf("reason = %q", effs[0].Reason)
	}
	// …but suggestions are still recorded.
	o7 := h.opsItem("acme", "oi_7")
	wantDecisions(t, h.on("acme", h.fire(map[string]string{"alertname": "ServiceDown", "unit": "nginx.service"}), &o7), "suggest-restart:suggested")
	if tl := h.timeline("acme", "oi_7"); !slices.Equal(tl, []string{"suggestion: Suggested runbook: restart-service (rule suggest-restart) (unit=nginx.service)"}) {
		t.Errorf("timeline = %q", tl)
	}
}

func TestClassifyAndNotify(t *testing.T) { runBoth(t, testClassifyAndNotify) }

func testClassifyAndNotify(t *testing.T, open opener) {
	rules := `apiVersion: flywheel/v1
kind: Rule
metadata: {name: dev-is-low}
spec:
  priority: 30
  when: event.labels[?"env"].orValue("") == "dev"
  then:
    set: {severity: low, category: service}
    notify: {channel: dev-team, message: '"dev: " + opsitem.title'}
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: mute-canary}
spec:
  priority: 20
  when: event.labels[?"canary"].orValue("") == "true"
  then:
    suppress: true
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: always-diagnose}
spec:
  priority: 10
  when: "true"
  then:
    runbook: collect-diagnostics-and-escalate
    mode: auto`
	h := newHarness(t, open, rules)
	ctx := context.Background()

	o := h.opsItem("acme", "oi_1")
	effs := h.on("acme", h.fire(map[string]string{"env": "dev"}), &o)
	wantDecisions(t, effs, "dev-is-low:set", "dev-is-low:notified", "always-diagnose:ran")
	if n := effs[1].Notify; n == nil || *n != (rule.Notification{Channel: "dev-team", Message: "dev: disk full on web-1", OpsItemID: "oi_1"}) {
		t.Errorf("notification = %+v", n)
	}
	stored, _ := h.st.GetOpsItem(ctx, "acme", "oi_1")
	if stored.Severity != "low" || stored.Category != "service" || o.Severity != "low" {
		t.Errorf("set: stored %s/%s, in memory %s", stored.Severity, stored.Category, o.Severity)
	}
	// Setting what is already set is no change and no record.
	h.now = h.now.Add(2 * time.Hour)
	wantDecisions(t, h.on("acme", h.fire(map[string]string{"env": "dev"}), &o), "dev-is-low:notified", "always-diagnose:ran")

	o2 := h.opsItem("acme", "oi_2")
	effs = h.on("acme", h.fire(map[string]string{"canary": "true"}), &o2)
	wantDecisions(t, effs, "mute-canary:suppressed")
	stored, _ = h.st.GetOpsItem(ctx, "acme", "oi_2")
	if stored.Status != "suppressed" || stored.ResolvedBy != "rule:mute-canary" || o2.Status != "suppressed" {
		t.Errorf("suppress: stored %+v", stored)
	}
	if effs := h.on("acme", h.fire(map[string]string{"canary": "true"}), &o2); len(effs) != 0 {
		t.Errorf("a suppressed OpsItem: %v", decisions(effs))
	}
}

// TestApplyRollsBack: everything a rule did is in the pipeline's
// transaction; when it rolls back, nothing remains.
func TestApplyRollsBack(t *testing.T) { runBoth(t, testApplyRollsBack) }

func testApplyRollsBack(t *testing.T, open opener) {
	h := newHarness(t, open, diskRule)
	ctx := context.Background()
	o := h.opsItem("acme", "oi_1")
	boom := errors.New("later step failed")
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if _, err := h.en.Apply(ctx, tx, "acme", h.fire(nil), &o); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := h.st.CountRuleRuns(ctx, "acme", "disk-cleanup", time.Time{}); n != 0 {
		t.Errorf("%d runs survived the rollback", n)
	}
	if a := h.auditActions("acme"); len(a) != 0 {
		t.Errorf("audit survived the rollback: %q", a)
	}
	wantDecisions(t, h.on("acme", h.fire(nil), &o), "disk-cleanup:ran")
}
