package patch_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func expedites(t *testing.T, st store.Store) []store.Expedite {
	t.Helper()
	l, err := st.ListExpedites(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestScanExpeditesNewSecurityUpdate: a scan that sees a new critical
// security update the baseline approves gets it expedited on the next
// tick, once, awaiting approval and due by the next business day; a
// second host missing it later gets its own; an update first seen more
// than FreshFor ago, a non-security one and an excepted host do not.
func TestScanExpeditesNewSecurityUpdate(t *testing.T) {
	ctx := context.Background()
	s, st, clk, runs := setup(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutResource(ctx, store.Resource{ID: "res_web2", TenantID: "acme", Type: "host", Name: "web-2", Tags: map[string]string{"role": "web"}, CreatedAt: clk.t, UpdatedAt: clk.t})
	}); err != nil {
		t.Fatal(err)
	}
	// curl 8.5 was first seen 8 days before this tick: the windows' to install.
	start := clk.t
	clk.t = start.Add(-patch.FreshFor - 24*time.Hour)
	if _, _, err := s.Record(ctx, "acme", "res_web1", report(secUpdate("curl", "8.5"))); err != nil {
		t.Fatal(err)
	}
	clk.t = start
	rep := report(secUpdate("curl", "8.5"), secUpdate("openssl", "3.0.15"), wire.PackageUpdate{Name: "vim", Installed: "9.0", Candidate: "9.1"})
	for _, host := range []string{"res_web1", "res_db1"} { // db-1 is excepted as a host
		if _, _, err := s.Record(ctx, "acme", host, rep); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := s.CheckSLAs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l := expedites(t, st)
	if len(l) != 1 {
		t.Fatalf("expedites = %+v", l)
	}
	e := l[0]
	if e.Package != "openssl" || e.Version != "3.0.15" || strings.Join(e.Targets, ",") != "res_web1" || e.RequestedBy != patch.SystemActor ||
		e.Status != store.ExpediteAwaitingApproval || !strings.Contains(e.Source, "openssl=3.0.15") {
		t.Errorf("expedite = %+v", e)
	}
	// Friday 4 December 15:00 Berlin, Monday a holiday → the end of Tuesday in Berlin.
	if want := time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC); !e.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", e.DueAt, want)
	}
	if len(runs.reqs) != 1 || runs.reqs[0].Runbook != patch.ExpediteRunbook || runs.reqs[0].StartedBy != patch.SystemActor {
		t.Errorf("started %+v", runs.reqs)
	}
	// web-2 scans later: only it is expedited now.
	clk.t = clk.t.Add(time.Hour)
	if _, _, err := s.Record(ctx, "acme", "res_web2", report(secUpdate("openssl", "3.0.15"))); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSLAs(ctx); err != nil {
		t.Fatal(err)
	}
	if l := expedites(t, st); len(l) != 2 || strings.Join(l[0].Targets, ",") != "res_web2" || len(runs.reqs) != 2 {
		t.Errorf("after web-2's scan: %+v", l)
	}
}

func inspectorFinding(t *testing.T) event.Event {
	t.Helper()
	body, err := os.ReadFile("testdata/inspector2-finding.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eventbridge.New().Parse(context.Background(), intake.Request{Body: body})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("parse: %v %+v", err, res)
	}
	return res.Events[0]
}

// TestFindingExpedites: a recorded Inspector2 finding (CVE-2026-21987 on
// openssl and openssl-libs, HIGH, on instance i-015de4c7d28bab629) on the
// host whose agent reports that instance ID expedites both packages on it,
// once however often it arrives; on an unmanaged instance, closed, or of
// low severity, it does nothing.
func TestFindingExpedites(t *testing.T) {
	ctx := context.Background()
	s, st, clk, runs := setup(t)
	ev := inspectorFinding(t)
	run := func(e event.Event) []store.Expedite {
		t.Helper()
		var out []store.Expedite
		if err := st.InTx(ctx, func(tx store.Tx) (err error) {
			out, err = s.ExpediteFinding(ctx, tx, "acme", &e)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := run(ev); len(got) != 0 {
		t.Fatalf("expedited on an unmanaged instance: %+v", got)
	}
	cfg, _ := json.Marshal(map[string]any{"cloud": map[string]any{"instance_id": "i-015de4c7d28bab629"}})
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.PutResource(ctx, store.Resource{ID: "res_orders3", TenantID: "acme", Type: "host", Name: "orders-api-3", AgentID: "agt_3",
			Tags:   map[string]string{"role": "web"},
			Config: cfg, CreatedAt: clk.t, UpdatedAt: clk.t})
	}); err != nil {
		t.Fatal(err)
	}
	got := run(ev)
	if len(got) != 2 || got[0].Package != "openssl" || got[1].Package != "openssl-libs" {
		t.Fatalf("expedites = %+v", got)
	}
	for _, e := range got {
		if strings.Join(e.Targets, ",") != "res_orders3" || e.Source != "inspector2 CVE-2026-21987" || e.RequestedBy != patch.SystemActor ||
			!strings.Contains(e.Reason, "fixed in 1:3.2.2-1.amzn2023.0.4") || e.Status != store.ExpediteAwaitingApproval {
			t.Errorf("expedite = %+v", e)
		}
	}
	// Delivered again: nothing new.
	if again := run(ev); len(again) != 0 || len(expedites(t, st)) != 2 || len(runs.reqs) != 2 {
		t.Errorf("redelivery expedited again: %+v", again)
	}
	// The scan tick does not expedite what the finding covers.
	if _, _, err := s.Record(ctx, "acme", "res_orders3", report(secUpdate("openssl", "3.2.2-1.amzn2023.0.4"))); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSLAs(ctx); err != nil {
		t.Fatal(err)
	}
	if l := expedites(t, st); len(l) != 2 {
		t.Errorf("scan expedited a covered host: %+v", l)
	}
	for _, mut := range []func(e *event.Event){
		func(e *event.Event) { e.Status = event.StatusResolved },
		func(e *event.Event) { e.Severity = event.SeverityMedium },
		func(e *event.Event) { e.Labels = map[string]string{"packages": "bad name;rm"} },
	} {
		e := inspectorFinding(t)
		e.Labels["vulnerability_id"] = "CVE-OTHER"
		e.Annotations = nil
		mut(&e)
		if got := run(e); len(got) != 0 {
			t.Errorf("expedited %+v", got)
		}
	}
}

func TestParseVulnerablePackages(t *testing.T) {
	// The annotation as the eventbridge golden file records it.
	got := patch.ParseVulnerablePackages("openssl 3.2.2 (fixed in 1:3.2.2-1.amzn2023.0.4)\nopenssl-libs 3.2.2 (fixed in 1:3.2.2-1.amzn2023.0.4)\ncurl 8.5\n")
	if len(got) != 2 || got["openssl"] != "1:3.2.2-1.amzn2023.0.4" || got["openssl-libs"] != "1:3.2.2-1.amzn2023.0.4" {
		t.Errorf("got %v", got)
	}
}

func FuzzParseVulnerablePackages(f *testing.F) {
	f.Add("openssl 3.2.2 (fixed in 1:3.2.2-1.amzn2023.0.4)\ncurl 8.5")
	f.Add(" (fixed in )")
	f.Fuzz(func(t *testing.T, s string) {
		for name, v := range patch.ParseVulnerablePackages(s) {
			if name == "" || v == "" || strings.ContainsAny(v, " ()") || strings.Contains(name, " ") {
				t.Errorf("%q → %q=%q", s, name, v)
			}
		}
	})
}
