package patch_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const serviceContent = `apiVersion: flywheel/v1
kind: PatchBaseline
metadata: {name: base, description: test}
spec:
  operating_system: debian
  approval_rules:
    - filters: {classification: [security]}
      compliance_level: critical
  rejected_patches: [telnetd]
---
apiVersion: flywheel/v1
kind: PatchGroup
metadata: {name: web, description: test}
spec:
  baseline: base
  targets: {tags: {role: web}}
  compliance_sla: 48h
  exceptions:
    - {package: libpinned, reason: vendor build, owner: ops, expires: "2026-12-31"}
    - {host: db-1, reason: frozen for the audit, owner: dba, expires: "2026-12-10"}
---
apiVersion: flywheel/v1
kind: BusinessCalendar
metadata: {name: acme, tenant: acme, description: test}
spec:
  timezone: Europe/Berlin
  holidays: ["2026-12-07"]
`

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type starter struct{ reqs []runbook.StartRequest }

func (s *starter) Start(_ context.Context, _ store.Tx, req runbook.StartRequest) (string, error) {
	s.reqs = append(s.reqs, req)
	return "ex_1", nil
}

func setup(t *testing.T) (*patch.Service, store.Store, *clock, *starter) {
	t.Helper()
	ctx := context.Background()
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "test", FS: fstest.MapFS{"patch.yaml": {Data: []byte(serviceContent)}}})
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.Open(t)
	clk := &clock{t: time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC)} // Friday 15:00 in Berlin
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: clk.t}); err != nil {
			return err
		}
		for _, r := range []store.Resource{
			{ID: "res_web1", Name: "web-1", Tags: map[string]string{"role": "web", "application": "shop"}},
			{ID: "res_db1", Name: "db-1", Tags: map[string]string{"role": "web"}},
		} {
			r.TenantID, r.Type, r.CreatedAt, r.UpdatedAt = "acme", "host", clk.t, clk.t
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &starter{}
	return patch.New(patch.Options{Store: st, Content: set, Clock: clk.now, Starter: s}), st, clk, s
}

func report(updates ...wire.PackageUpdate) wire.PatchReport {
	return wire.PatchReport{Backend: "apt", Installed: 100, Updates: updates}
}

func secUpdate(name, ver string) wire.PackageUpdate {
	return wire.PackageUpdate{Name: name, Installed: "1", Candidate: ver, Security: true}
}

// TestComplianceSLAOpensOpsItem: a host missing a security update is
// non-compliant, with the reason; past its group's 48h SLA an OpsItem is
// opened, once. Exceptions keep a package, or a host, out.
func TestComplianceSLAOpensOpsItem(t *testing.T) {
	ctx := context.Background()
	s, st, clk, _ := setup(t)
	start := clk.t
	_, d, err := s.Record(ctx, "acme", "res_web1", report(secUpdate("openssl", "3.0.15"), secUpdate("libpinned", "2"), secUpdate("telnetd", "2")))
	if err != nil {
		t.Fatal(err)
	}
	if d.Missing != 1 || d.MissingByLevel["critical"] != 1 || len(d.Why) != 1 || !strings.Contains(d.Why[0], "openssl 3.0.15") ||
		!strings.Contains(d.Why[0], "patch group web") {
		t.Errorf("web-1 detail: %+v", d)
	}
	for _, dec := range d.Decisions {
		if want := map[string]string{"openssl": patch.Approved, "libpinned": patch.Excepted, "telnetd": patch.Rejected}[dec.Name]; dec.Status != want {
			t.Errorf("%s: %s, want %s", dec.Name, dec.Status, want)
		}
	}
	// db-1 is excepted as a host until 10 December.
	if st1, _, err := s.Record(ctx, "acme", "res_db1", report(secUpdate("openssl", "3.0.15"))); err != nil || !st1.Compliant {
		t.Errorf("excepted host: %+v %v", st1, err)
	}

	clk.t = start.Add(47 * time.Hour)
	if err := s.CheckSLAs(ctx); err != nil {
		t.Fatal(err)
	}
	if items, _, _ := st.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 10}); len(items) != 0 {
		t.Fatalf("OpsItem before the SLA passed: %+v", items)
	}
	// A rescan while still non-compliant keeps the start of it.
	if _, _, err := s.Record(ctx, "acme", "res_web1", report(secUpdate("openssl", "3.0.15"))); err != nil {
		t.Fatal(err)
	}
	clk.t = start.Add(49 * time.Hour)
	for range 2 {
		if err := s.CheckSLAs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	items, _, _ := st.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 10})
	if len(items) != 1 || items[0].Category != "patching" || !strings.Contains(items[0].Title, "web-1") || !strings.Contains(items[0].Description, "openssl") {
		t.Fatalf("OpsItems = %+v", items)
	}
	h, _ := s.Host(ctx, "acme", "res_web1")
	if h.OpsItemID != items[0].ID {
		t.Errorf("host's OpsItem = %q", h.OpsItemID)
	}

	// Installed: compliant again; the tenant's report and trend say so.
	clk.t = start.Add(50 * time.Hour)
	if st1, _, err := s.Record(ctx, "acme", "res_web1", report()); err != nil || !st1.Compliant || st1.NoncompliantSince != nil {
		t.Errorf("after install: %+v %v", st1, err)
	}
	rep, err := s.Compliance(ctx, "acme", 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tenant.Hosts != 2 || rep.Tenant.Percent != 100 || len(rep.Applications) != 1 || rep.Applications[0].Name != "shop" {
		t.Errorf("report: %+v", rep)
	}
	// Friday: web-1 non-compliant, db-1 excepted: 50 %. Sunday: 100 %.
	if len(rep.Trend) != 3 || rep.Trend[0].Day != "2026-12-04" || rep.Trend[0].Percent != 50 || rep.Trend[2].Percent != 100 {
		t.Errorf("trend: %+v", rep.Trend)
	}
}

// TestExpediteDeadline: an expedite raised on Friday 15:00 in Berlin, with
// Monday 7 December a holiday in the tenant's calendar, is due by the end
// of Tuesday 8 December in Berlin (2026-12-08T23:00:00Z); an OpsItem opens
// when that passes; the install, seen by a later scan, settles it.
func TestExpediteDeadline(t *testing.T) {
	ctx := context.Background()
	s, st, clk, runs := setup(t)
	var e store.Expedite
	err := st.InTx(ctx, func(tx store.Tx) (err error) {
		e, err = s.Expedite(ctx, tx, "acme", "token:tok_1", patch.ExpediteRequest{Package: "openssl", Source: "DSA-5801-1", Reason: "RCE", Targets: []string{"res_web1"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC); !e.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", e.DueAt, want)
	}
	if len(runs.reqs) != 1 || runs.reqs[0].Runbook != patch.ExpediteRunbook || runs.reqs[0].Parameters["package"] != "openssl" || runs.reqs[0].Targets[0] != "res_web1" {
		t.Errorf("started %+v", runs.reqs)
	}
	clk.t = e.DueAt.Add(-time.Minute)
	if err := s.CheckSLAs(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetExpedite(ctx, "acme", e.ID); got.OpsItemID != "" {
		t.Errorf("OpsItem before the deadline")
	}
	clk.t = e.DueAt.Add(time.Minute)
	if err := s.CheckSLAs(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetExpedite(ctx, "acme", e.ID)
	item, err := st.GetOpsItem(ctx, "acme", got.OpsItemID)
	if err != nil || item.Severity != "critical" || !strings.Contains(item.Title, "openssl") {
		t.Errorf("breach OpsItem %+v %v", item, err)
	}
	// A scan that still shows openssl missing does not settle it; one
	// without it does.
	if _, _, err := s.Record(ctx, "acme", "res_web1", report(secUpdate("openssl", "3.0.15"))); err != nil {
		t.Fatal(err)
	}
	s.CheckSLAs(ctx)
	if got, _ := st.GetExpedite(ctx, "acme", e.ID); got.Status != store.ExpediteAwaitingApproval {
		t.Errorf("settled while missing: %+v", got)
	}
	clk.t = clk.t.Add(time.Hour)
	if _, _, err := s.Record(ctx, "acme", "res_web1", report()); err != nil {
		t.Fatal(err)
	}
	s.CheckSLAs(ctx)
	if got, _ := st.GetExpedite(ctx, "acme", e.ID); got.Status != store.ExpediteInstalled || got.InstalledAt == nil || !got.InstalledAt.Equal(clk.t) {
		t.Errorf("after the install: %+v", got)
	}
}

// TestPlan: an install takes the approved updates and never a rejected
// one; an expedite takes the named package whatever the rules say.
func TestPlan(t *testing.T) {
	ctx := context.Background()
	s, _, _, _ := setup(t)
	rep := report(secUpdate("openssl", "3.0.15"), secUpdate("telnetd", "2"), wire.PackageUpdate{Name: "vim", Installed: "1", Candidate: "2"},
		secUpdate("libpinned", "2")) // excepted: pinned, not installed
	if _, _, err := s.Record(ctx, "acme", "res_web1", rep); err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(ctx, "acme", "res_web1", rep, nil)
	if err != nil || len(p.Request.Install) != 1 || p.Request.Install[0] != (wire.PackageVersion{Name: "openssl", Version: "3.0.15"}) ||
		len(p.Request.Blocked) != 1 || p.Request.Blocked[0] != "telnetd" {
		t.Errorf("plan = %+v %v", p, err)
	}
	p, _ = s.Plan(ctx, "acme", "res_web1", rep, []string{"vim", "telnetd"})
	if len(p.Request.Install) != 1 || p.Request.Install[0].Name != "vim" {
		t.Errorf("expedite plan = %+v", p.Request.Install)
	}
}

func FuzzExpediteRequest(f *testing.F) {
	f.Add(`{"package":"openssl","source":"DSA-1","targets":["res_a"]}`)
	f.Add(`{"package":"bad name","targets":[]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r patch.ExpediteRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		if r.Check() == nil && (!wire.ValidPackageName(r.Package) || len(r.Targets) == 0 || strings.TrimSpace(r.Source) == "") {
			t.Errorf("accepted %+v", r)
		}
	})
}
