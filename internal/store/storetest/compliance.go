package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testCompliance(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	res := func(rule, id, status string, at time.Time) store.ComplianceResult {
		return store.ComplianceResult{TenantID: "acme", Rule: rule, ResourceID: id, ResourceType: "AWS::S3::Bucket", Account: "111111111111",
			Status: status, Annotation: "why " + id, Since: at, EvaluatedAt: at}
	}
	// Enough rows for more than one batch statement.
	var rs []store.ComplianceResult
	for i := range 70 {
		rs = append(rs, res("r1", "arn:aws:s3:::b"+string(rune('a'+i%26))+string(rune('a'+i/26)), "COMPLIANT", t0))
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutComplianceResults(ctx, rs) })
	// Upsert: the same key replaces status and times.
	mustTx(t, s, func(tx store.Tx) error {
		nc := res("r1", rs[0].ResourceID, "NON_COMPLIANT", t0.Add(time.Hour))
		nc.RemediationAttempts, nc.RemediatedAt, nc.ExecutionID = 2, t0.Add(time.Hour), "ex_1"
		return tx.PutComplianceResults(ctx, []store.ComplianceResult{nc, res("r2", "x", "ERROR", t0.Add(time.Hour))})
	})
	got, next, err := s.ListComplianceResults(ctx, "acme", store.ComplianceResultFilter{Status: "NON_COMPLIANT"}, store.Page{})
	if err != nil || next != "" || len(got) != 1 || got[0].Rule != "r1" || got[0].ResourceID != rs[0].ResourceID ||
		!got[0].EvaluatedAt.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) || got[0].Annotation != "why "+rs[0].ResourceID ||
		got[0].RemediationAttempts != 2 || got[0].ExecutionID != "ex_1" || !got[0].RemediatedAt.Equal(got[0].EvaluatedAt) {
		t.Fatalf("non-compliant results: %+v %q %v", got, next, err)
	}
	var all []store.ComplianceResult
	for cur := ""; ; {
		page, next, err := s.ListComplianceResults(ctx, "acme", store.ComplianceResultFilter{}, store.Page{Limit: 30, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if cur = next; cur == "" {
			break
		}
	}
	if len(all) != 71 || all[0].Rule != "r2" || !all[1].RemediatedAt.IsZero() || all[70].ExecutionID != "ex_1" {
		t.Errorf("paged results: %d, first %+v; want 71, r2 first (by rule, descending)", len(all), all[0])
	}
	if other, _, _ := s.ListComplianceResults(ctx, "globex", store.ComplianceResultFilter{}, store.Page{}); len(other) != 0 {
		t.Errorf("globex sees acme's results: %+v", other)
	}
	// Results not evaluated since t0+1h are the stale ones.
	var n int64
	mustTx(t, s, func(tx store.Tx) (err error) {
		n, err = tx.DeleteComplianceResults(ctx, "acme", t0.Add(time.Hour), nil)
		return err
	})
	if n != 69 {
		t.Errorf("deleted %d stale results, want 69", n)
	}

	changes := []store.ComplianceChange{
		{TenantID: "acme", Rule: "r1", ResourceID: "a", From: "", To: "COMPLIANT", At: t0},
		{TenantID: "acme", Rule: "r1", ResourceID: "a", From: "COMPLIANT", To: "NON_COMPLIANT", Annotation: "off", At: t0.Add(time.Hour)},
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.AddComplianceChanges(ctx, changes) })
	ch, _, err := s.ListComplianceChanges(ctx, "acme", store.ComplianceResultFilter{ResourceID: "a"}, store.Page{})
	if err != nil || len(ch) != 2 || ch[0].To != "NON_COMPLIANT" || ch[0].From != "COMPLIANT" || ch[0].Annotation != "off" {
		t.Errorf("changes newest first: %+v %v", ch, err)
	}

	scores := []store.ComplianceScore{
		{TenantID: "acme", At: t0, Scope: store.ScopePack, Name: "cis", Compliant: 3, NonCompliant: 1, Percent: 75},
		{TenantID: "acme", At: t0.Add(time.Hour), Scope: store.ScopePack, Name: "cis", Compliant: 4, Percent: 100},
		{TenantID: "acme", At: t0, Scope: store.ScopeTenant, Compliant: 3, NonCompliant: 1, Percent: 75},
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.AddComplianceScores(ctx, scores) })
	sc, err := s.ListComplianceScores(ctx, "acme", store.ScopePack, "cis", t0, 10)
	if err != nil || len(sc) != 2 || sc[0].Percent != 75 || sc[1].Percent != 100 || sc[1].Compliant != 4 {
		t.Errorf("pack trend: %+v %v", sc, err)
	}
	mustTx(t, s, func(tx store.Tx) (err error) {
		n, err = tx.PruneComplianceHistory(ctx, t0.Add(time.Minute))
		return err
	})
	if n != 3 {
		t.Errorf("pruned %d, want 1 change and 2 scores", n)
	}

	ex := store.ComplianceException{ID: store.NewID("cx", t0), TenantID: "acme", Rule: "r1", TagKey: "env", TagValue: "dev",
		Reason: "lab", Owner: "ops", ExpiresAt: t0.Add(24 * time.Hour), CreatedBy: "token:tok_1", CreatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateComplianceException(ctx, ex) })
	if got, err := s.GetComplianceException(ctx, "acme", ex.ID); err != nil || got.TagValue != "dev" || !got.ExpiresAt.Equal(ex.ExpiresAt) || got.Owner != "ops" {
		t.Errorf("exception read back: %+v %v", got, err)
	}
	if _, err := s.GetComplianceException(ctx, "globex", ex.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's exception: %v", err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteComplianceException(ctx, "globex", ex.ID) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another tenant's exception: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteComplianceException(ctx, "acme", ex.ID) })
	if l, _, _ := s.ListComplianceExceptions(ctx, "acme", store.Page{}); len(l) != 0 {
		t.Errorf("after delete: %+v", l)
	}
}
