package compliance_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/store"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// engineLibrary loads testdata/engine (rules and packs) on the built-in
// library.
func engineLibrary(t *testing.T) *compliance.Library {
	t.Helper()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Dir("testdata/engine"))
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

// engineSubjects reads testdata/engine/resources.json.
func engineSubjects(t *testing.T) []compliance.Subject {
	t.Helper()
	b, err := os.ReadFile("testdata/engine/resources.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []store.Resource
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	var out []compliance.Subject
	for _, r := range rs {
		s, err := compliance.Prepare(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func report(t *testing.T, tenant string, exc ...store.ComplianceException) (*compliance.Plan, *compliance.Report) {
	t.Helper()
	plan := compliance.NewPlan(engineLibrary(t).Packs(tenant))
	return plan, plan.Evaluate(engineSubjects(t)).Report(tenant, exc, t0)
}

func pack(t *testing.T, r *compliance.Report, name string) compliance.PackReport {
	t.Helper()
	for _, p := range r.Packs {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no pack %s in %+v", name, r.Packs)
	return compliance.PackReport{}
}

func control(t *testing.T, p compliance.PackReport, id string) compliance.ControlReport {
	t.Helper()
	for _, c := range p.Controls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("pack %s has no control %s", p.Name, id)
	return compliance.ControlReport{}
}

func resultOf(t *testing.T, c compliance.ControlReport, rule, id string) compliance.ResourceResult {
	t.Helper()
	for _, r := range c.Resources {
		if r.Rule == rule && r.ID == id {
			return r
		}
	}
	t.Fatalf("control %s has no result of %s on %s", c.ID, rule, id)
	return compliance.ResourceResult{}
}

// TestReportFigures: the figures worked out by hand in
// testdata/engine/README.md, from the rules and resources there.
func TestReportFigures(t *testing.T) {
	t.Parallel()
	plan, rep := report(t, "globex")
	if plan.Checks() != 4 {
		t.Errorf("checks = %d, want 4 (bucket-versioning shared by two packs is one)", plan.Checks())
	}
	if len(rep.Packs) != 2 {
		t.Fatalf("globex sees %d packs, want cis and nist", len(rep.Packs))
	}
	cis, nist := pack(t, rep, "cis"), pack(t, rep, "nist")
	if cis.CompliancePercent != 60 || cis.Score.Compliant != 3 || cis.Score.NonCompliant != 2 {
		t.Errorf("cis: %+v, want 3 compliant, 2 not, 60%%", cis.Score)
	}
	if nist.CompliancePercent != 25 {
		t.Errorf("nist: %+v, want 25%%", nist.Score)
	}
	for _, tc := range []struct {
		id     string
		status compliance.Status
		pct    float64
	}{
		{"CIS-AWS-3.0:1.8", compliance.Compliant, 100},
		{"CIS-AWS-3.0:2.1.1", compliance.Errored, 100},
		{"CIS-AWS-3.0:2.1.3", compliance.NonCompliant, 33.33},
	} {
		c := control(t, cis, tc.id)
		if c.Status != tc.status || c.CompliancePercent != tc.pct {
			t.Errorf("%s: %s %v%%, want %s %v%%", tc.id, c.Status, c.CompliancePercent, tc.status, tc.pct)
		}
	}
	if ids := []string{cis.Controls[0].ID, cis.Controls[1].ID, cis.Controls[2].ID}; ids[0] != "CIS-AWS-3.0:1.8" || ids[2] != "CIS-AWS-3.0:2.1.3" {
		t.Errorf("controls in order %v", ids)
	}
	enc := control(t, cis, "CIS-AWS-3.0:2.1.1")
	if r := resultOf(t, enc, "bucket-encrypted", "arn:aws:s3:::tmp"); r.Status != compliance.NotApplicable {
		t.Errorf("scratch bucket: %+v, want NOT_APPLICABLE", r)
	}
	if r := resultOf(t, enc, "bucket-encrypted", "arn:aws:s3:::assets"); r.Status != compliance.Errored || r.Annotation == "" {
		t.Errorf("bucket without encryption config: %+v, want ERROR with the CEL error", r)
	}
	ia5 := control(t, nist, "NIST-800-53:IA-5")
	if r := resultOf(t, ia5, "password-length", "arn:aws:iam::111111111111:account-password-policy"); r.Status != compliance.NonCompliant || r.Annotation != "minimum length 15 < 16" {
		t.Errorf("password policy under nist's min_length 16: %+v", r)
	}
	// Equivalent controls: one evaluation reported under each id.
	cp9 := control(t, nist, "NIST-800-53:CP-9")
	if r := resultOf(t, cp9, "bucket-versioning", "arn:aws:s3:::assets"); r.Status != compliance.NonCompliant || r.Annotation != "versioning is off" {
		t.Errorf("assets under CP-9: %+v", r)
	}
	// Tenant: each rule and resource once, NON_COMPLIANT if so in any pack.
	if rep.Score.Compliant != 2 || rep.Score.NonCompliant != 3 || rep.Score.Percent != 40 {
		t.Errorf("tenant score %+v, want 2/3, 40%%", rep.Score)
	}
	want := map[string]compliance.Score{"111111111111": {Compliant: 2, NonCompliant: 2, Percent: 50}, "222222222222": {NonCompliant: 1, Percent: 0}}
	if len(rep.Accounts) != 2 {
		t.Fatalf("accounts %+v", rep.Accounts)
	}
	for _, a := range rep.Accounts {
		if a.Score != want[a.Account] {
			t.Errorf("account %s: %+v, want %+v", a.Account, a.Score, want[a.Account])
		}
	}
}

// TestTailoring: acme's tailored cis lowers a parameter and disables a
// rule; its own pack's rule equals bucket-versioning and shares its check.
func TestTailoring(t *testing.T) {
	t.Parallel()
	plan, rep := report(t, "acme")
	if plan.Checks() != 3 {
		t.Errorf("checks = %d, want 3", plan.Checks())
	}
	var names []string
	for _, p := range rep.Packs {
		names = append(names, p.Name)
	}
	if len(names) != 3 || names[0] != "acme-cis" || names[1] != "acme-controls" || names[2] != "nist" {
		t.Fatalf("acme's packs %v, want acme-cis (replacing cis), acme-controls, nist", names)
	}
	acis := pack(t, rep, "acme-cis")
	if acis.CompliancePercent != 50 || len(acis.Controls) != 2 {
		t.Errorf("acme-cis: %v%% with %d controls, want 50%% and 2 (2.1.1 disabled)", acis.CompliancePercent, len(acis.Controls))
	}
	if c := control(t, acis, "CIS-AWS-3.0:1.8"); c.Status != compliance.Compliant {
		t.Errorf("1.8 under min_length 8: %s", c.Status)
	}
	if p := pack(t, rep, "acme-controls"); p.CompliancePercent != 33.33 || control(t, p, "ACME-SEC:7").Status != compliance.NonCompliant {
		t.Errorf("acme-controls: %+v", p)
	}
}

// TestExceptions: by rule and resource, by tag; an expired one no longer
// applies.
func TestExceptions(t *testing.T) {
	t.Parallel()
	byResource := store.ComplianceException{ID: "ex1", Rule: "bucket-versioning", ResourceID: "arn:aws:s3:::assets",
		Reason: "migrating", Owner: "ops", ExpiresAt: t0.Add(time.Hour)}
	byTag := store.ComplianceException{ID: "ex2", TagKey: "scratch", Reason: "throwaway", Owner: "dev", ExpiresAt: t0.Add(time.Hour)}
	_, rep := report(t, "globex", byResource, byTag)
	cis := pack(t, rep, "cis")
	c := control(t, cis, "CIS-AWS-3.0:2.1.3")
	if r := resultOf(t, c, "bucket-versioning", "arn:aws:s3:::assets"); r.Status != compliance.Exempt || r.Annotation != "exception ex1 (ops): migrating" {
		t.Errorf("assets: %+v", r)
	}
	if r := resultOf(t, c, "bucket-versioning", "arn:aws:s3:::tmp"); r.Status != compliance.Exempt {
		t.Errorf("tmp by tag: %+v", r)
	}
	if r := resultOf(t, control(t, cis, "CIS-AWS-3.0:2.1.1"), "bucket-encrypted", "arn:aws:s3:::tmp"); r.Status != compliance.NotApplicable {
		t.Errorf("a NOT_APPLICABLE result stays so under an exception: %+v", r)
	}
	if cis.CompliancePercent != 100 {
		t.Errorf("cis with both exempt: %v%%", cis.CompliancePercent)
	}
	byResource.ExpiresAt = t0
	_, rep = report(t, "globex", byResource)
	if r := resultOf(t, control(t, pack(t, rep, "cis"), "CIS-AWS-3.0:2.1.3"), "bucket-versioning", "arn:aws:s3:::assets"); r.Status != compliance.NonCompliant {
		t.Errorf("an expired exception re-opens: %+v", r)
	}
}
