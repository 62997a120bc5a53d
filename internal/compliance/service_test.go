package compliance_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// sink records the events evaluation raises.
type sink struct {
	mu     sync.Mutex
	events []event.Event
}

func (s *sink) Submit(_ context.Context, _ string, ev event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return nil
}

// starter records the remediations evaluation starts (the executor's
// own tests cover running them).
type starter struct{ reqs []runbook.StartRequest }

func (s *starter) Start(_ context.Context, _ store.Tx, req runbook.StartRequest) (string, error) {
	s.reqs = append(s.reqs, req)
	return "ex_" + req.Targets[0], nil
}

// TestServiceEvaluate: results, history and trend are stored; a result
// turning NON_COMPLIANT raises a firing event and one turning back a
// resolved one; remediation starts at most max_resources runbooks per
// evaluation, waits retry_interval and stops after attempts.
func TestServiceEvaluate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
			return err
		}
		b, err := os.ReadFile("testdata/engine/resources.json")
		if err != nil {
			return err
		}
		var rs []store.Resource
		if err := json.Unmarshal(b, &rs); err != nil {
			return err
		}
		for _, r := range rs {
			r.TenantID, r.CreatedAt, r.UpdatedAt = "acme", t0, t0
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Dir("testdata/service"))
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	sk, sr := &sink{}, &starter{}
	svc := compliance.NewService(compliance.Options{Store: st, Library: func() *compliance.Library { return lib }, Sink: sk, Starter: sr,
		Clock: func() time.Time { return now }})

	run, err := svc.Evaluate(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// logs compliant; assets and tmp not.
	if run.Report.Score.Percent != 33.33 || run.Changed != 3 {
		t.Errorf("first run: %+v, %d changed", run.Report.Score, run.Changed)
	}
	if len(sk.events) != 2 || sk.events[0].Status != event.StatusFiring || sk.events[0].Labels["account"] != "111111111111" ||
		sk.events[0].Source != compliance.EventSource || sk.events[0].Kind != event.KindCompliance {
		t.Errorf("events: %+v", sk.events)
	}
	if len(sr.reqs) != 1 || sr.reqs[0].Parameters["bucket"] != "assets" || sr.reqs[0].Mode != runbook.ModeAuto || sr.reqs[0].StartedBy != "compliance:bucket-versioning" {
		t.Fatalf("remediations (max_resources 1): %+v", sr.reqs)
	}
	// Within the retry interval: the next bucket only.
	now = t0.Add(5 * time.Minute)
	if _, err := svc.Evaluate(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if len(sr.reqs) != 2 || sr.reqs[1].Parameters["bucket"] != "tmp" {
		t.Fatalf("second run starts tmp only: %+v", sr.reqs)
	}
	// Past it, each again; then attempts (2) are spent.
	for i, at := range []time.Duration{20 * time.Minute, 21 * time.Minute, 40 * time.Minute, 60 * time.Minute} {
		now = t0.Add(at)
		if _, err := svc.Evaluate(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if want := min(3+i, 4); len(sr.reqs) != want {
			t.Fatalf("at +%s: %d remediations, want %d", at, len(sr.reqs), want)
		}
	}
	res, _, err := st.ListComplianceResults(ctx, "acme", store.ComplianceResultFilter{ResourceID: "arn:aws:s3:::assets"}, store.Page{})
	if err != nil || len(res) != 1 || res[0].RemediationAttempts != 2 || res[0].Status != "NON_COMPLIANT" || !res[0].Since.Equal(t0) {
		t.Fatalf("assets' result: %+v %v", res, err)
	}

	// The fix shows in the inventory: re-evaluating the resource resolves.
	r, _ := st.GetResource(ctx, "acme", "arn:aws:s3:::assets")
	r.Config = json.RawMessage(`{"Versioning": {"Status": "Enabled"}}`)
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.PutResource(ctx, r) }); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Hour)
	if run, err = svc.EvaluateResources(ctx, "acme", []string{r.ID}); err != nil || run.Changed != 1 {
		t.Fatalf("re-evaluation: %+v %v", run, err)
	}
	last := sk.events[len(sk.events)-1]
	if last.Status != event.StatusResolved || last.Fingerprint != "compliance:bucket-versioning:arn:aws:s3:::assets" {
		t.Errorf("resolution event: %+v", last)
	}
	ch, _, _ := st.ListComplianceChanges(ctx, "acme", store.ComplianceResultFilter{ResourceID: r.ID}, store.Page{})
	if len(ch) != 2 || ch[0].From != "NON_COMPLIANT" || ch[0].To != "COMPLIANT" || ch[1].From != "" {
		t.Errorf("history of assets: %+v", ch)
	}
	sc, _ := st.ListComplianceScores(ctx, "acme", store.ScopePack, "cis", t0, 100)
	if len(sc) != 6 || sc[0].Percent != 33.33 {
		t.Errorf("trend of cis: %+v (6 full evaluations)", sc)
	}
	// The other resources' results were not touched by the partial run.
	all, _, _ := st.ListComplianceResults(ctx, "acme", store.ComplianceResultFilter{}, store.Page{})
	if len(all) != 3 {
		t.Errorf("results after a partial run: %+v", all)
	}
}
