// Package storetest is the conformance suite every store driver must pass.
// A driver's tests call Run with a constructor that returns a fresh, empty,
// isolated store (a new SQLite file, a new PostgreSQL schema).
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Run runs the whole suite. newStore must return an isolated empty store and
// arrange its cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"Tokens", testTokens},
		{"OpsItems", testOpsItems},
		{"OpsItemPagination", testOpsItemPagination},
		{"OpsItemHandling", testOpsItemHandling},
		{"TenantIsolation", testTenantIsolation},
		{"TxRollback", testTxRollback},
		{"AuditChain", testAuditChain},
		{"AuditConcurrentAppend", testAuditConcurrent},
		{"AuditCheckpoints", testAuditCheckpoints},
		{"Silences", testSilences},
		{"SilencePagination", testSilencePagination},
		{"MaintenanceWindows", testMaintenanceWindows},
		{"WindowRuns", testWindowRuns},
		{"AWSAccounts", testAWSAccounts},
		{"Fleet", testFleet},
		{"UnmanagedHosts", testUnmanagedHosts},
		{"IntakeBatches", testIntakeBatches},
		{"AlertsAndRepeats", testAlertsAndRepeats},
		{"InsertEvents", testInsertEvents},
		{"RowsWriter", testRowsWriter},
		{"AuditBatch", testAuditBatch},
		{"Executions", testExecutions},
		{"ExecutionLease", testExecutionLease},
		{"ExecutionSteps", testExecutionSteps},
		{"RuleStates", testRuleStates},
		{"RuleRuns", testRuleRuns},
		{"RuleStateLockOrder", testRuleStateLockOrder},
		{"Stats", testStats},
		{"AuditSearch", testAuditSearch},
		{"UISessions", testUISessions},
		{"Patch", testPatch},
		{"PatchKeysAndLeases", testPatchKeysAndLeases},
		{"BackupCatalogue", testBackupCatalogue},
		{"ContentGeneration", testContentGeneration},
		{"PackInstallations", testPackInstallations},
		{"Retention", testRetention},
		{"Cost", testCost},
		{"Compliance", testCompliance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func mustTx(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func mkTenant(t *testing.T, s store.Store, id string) {
	t.Helper()
	mustTx(t, s, func(tx store.Tx) error {
		return tx.CreateTenant(context.Background(), store.Tenant{ID: id, Name: "Tenant " + id, CreatedAt: t0})
	})
}

func testTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"acme", "globex", "initech"} {
		mkTenant(t, s, id)
	}
	got, err := s.GetTenant(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Tenant globex" || !got.CreatedAt.Equal(t0) {
		t.Errorf("GetTenant = %+v", got)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "again", CreatedAt: t0})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate tenant: err = %v, want ErrConflict", err)
	}
	if _, err := s.GetTenant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing tenant: err = %v, want ErrNotFound", err)
	}
	page1, next, err := s.ListTenants(ctx, store.Page{Limit: 2})
	if err != nil || len(page1) != 2 || next == "" {
		t.Fatalf("page1 = %v next=%q err=%v", page1, next, err)
	}
	page2, next2, err := s.ListTenants(ctx, store.Page{Limit: 2, Cursor: next})
	if err != nil || len(page2) != 1 || next2 != "" {
		t.Fatalf("page2 = %v next=%q err=%v", page2, next2, err)
	}
	if page1[0].ID != "initech" || page1[1].ID != "globex" || page2[0].ID != "acme" {
		t.Errorf("order = %s %s %s", page1[0].ID, page1[1].ID, page2[0].ID)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	exp := t0.Add(time.Hour)
	tk := store.Token{ID: store.NewID("tok", t0), TenantID: "acme", Name: "ci", Role: store.RoleOperator, Prefix: "fw_abcd", CreatedAt: t0, ExpiresAt: &exp,
		Permissions: []store.Permission{store.PermHostCommands}}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateToken(ctx, tk, "hash-1") })
	admin := store.Token{ID: store.NewID("tok", t0.Add(time.Millisecond)), TenantID: "globex", Name: "root", Role: store.RoleAdmin, PlatformAdmin: true, Prefix: "fw_zzzz", CreatedAt: t0}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateToken(ctx, admin, "hash-2") })

	got, err := s.TokenByHash(ctx, "hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tk.ID || got.Role != store.RoleOperator || got.PlatformAdmin || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil ||
		len(got.Permissions) != 1 || got.Permissions[0] != store.PermHostCommands {
		t.Errorf("TokenByHash = %+v", got)
	}
	if got, _ := s.TokenByHash(ctx, "hash-2"); !got.PlatformAdmin || got.Permissions != nil {
		t.Errorf("platform admin flag lost: %+v", got)
	}
	if _, err := s.TokenByHash(ctx, "hash-x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateToken(ctx, store.Token{ID: "tok_dup", TenantID: "acme", Role: store.RoleViewer, CreatedAt: t0}, "hash-1")
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate hash: %v", err)
	}
	list, _, err := s.ListTokens(ctx, "acme", store.Page{})
	if err != nil || len(list) != 1 || list[0].ID != tk.ID {
		t.Fatalf("ListTokens(acme) = %v, %v", list, err)
	}
	// Revoking through the wrong tenant finds nothing.
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, "globex", tk.ID, t0) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cross-tenant revoke: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.RevokeToken(ctx, "acme", tk.ID, t0.Add(time.Minute)) })
	got, _ = s.TokenByHash(ctx, "hash-1")
	if got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoked_at = %v", got.RevokedAt)
	}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, "acme", tk.ID, t0) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second revoke: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.TouchToken(ctx, admin.ID, t0.Add(2*time.Minute)) })
	if got, _ := s.TokenByHash(ctx, "hash-2"); got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("last_used_at = %v", got.LastUsedAt)
	}
}

func newOpsItem(tenant string, i int) store.OpsItem {
	at := t0.Add(time.Duration(i) * time.Second)
	return store.OpsItem{
		ID: store.NewID("oi", at), TenantID: tenant, Title: fmt.Sprintf("Disk almost full on web-%02d", i),
		Description: "root volume", Category: "monitoring", Severity: "high", Status: "open", Source: "api",
		CreatedAt: at, UpdatedAt: at,
	}
}

func testOpsItems(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	o := newOpsItem("acme", 1)
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateOpsItem(ctx, o) })
	got, err := s.GetOpsItem(ctx, "acme", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Errorf("GetOpsItem = %+v\nwant %+v", got, o)
	}
	resolved := t0.Add(time.Hour)
	o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = "resolved", &resolved, "token:tok_1", resolved
	mustTx(t, s, func(tx store.Tx) error { return tx.UpdateOpsItem(ctx, o) })
	got, _ = s.GetOpsItem(ctx, "acme", o.ID)
	if got.Status != "resolved" || got.ResolvedAt == nil || !got.ResolvedAt.Equal(resolved) || got.ResolvedBy != "token:tok_1" {
		t.Errorf("after update = %+v", got)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateOpsItem(ctx, newOpsItem("acme", 2)) })
	third := newOpsItem("acme", 3)
	third.Title, third.Severity, third.Category = "GuardDuty: SSH brute force", "medium", "security"
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateOpsItem(ctx, third) })
	for _, tc := range []struct {
		f    store.OpsItemFilter
		want int
	}{
		{store.OpsItemFilter{}, 3},
		{store.OpsItemFilter{Status: "open"}, 2},
		{store.OpsItemFilter{Severity: "medium"}, 1},
		{store.OpsItemFilter{Category: "security"}, 1},
		{store.OpsItemFilter{Text: "BRUTE"}, 1},
		{store.OpsItemFilter{Text: "disk", Status: "resolved"}, 1},
		{store.OpsItemFilter{Text: "%"}, 0},
		{store.OpsItemFilter{Text: "_"}, 0},
	} {
		list, _, err := s.ListOpsItems(ctx, "acme", tc.f, store.Page{})
		if err != nil || len(list) != tc.want {
			t.Errorf("ListOpsItems(%+v) = %d items, %v; want %d", tc.f, len(list), err, tc.want)
		}
	}
	missing := newOpsItem("acme", 9)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateOpsItem(ctx, missing) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
}

func testOpsItemPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	const n = 23
	mustTx(t, s, func(tx store.Tx) error {
		for i := range n {
			if err := tx.CreateOpsItem(ctx, newOpsItem("acme", i)); err != nil {
				return err
			}
		}
		return nil
	})
	seen := map[string]bool{}
	cursor, pages := "", 0
	var last string
	for {
		list, next, err := s.ListOpsItems(ctx, "acme", store.OpsItemFilter{}, store.Page{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range list {
			if last != "" && o.ID >= last {
				t.Fatalf("not newest first: %s after %s", o.ID, last)
			}
			last = o.ID
			seen[o.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != n || pages != 3 {
		t.Errorf("saw %d items in %d pages, want %d in 3", len(seen), pages, n)
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	o := newOpsItem("acme", 1)
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateOpsItem(ctx, o) })
	if _, err := s.GetOpsItem(ctx, "globex", o.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("globex reads acme's OpsItem: %v", err)
	}
	if list, _, _ := s.ListOpsItems(ctx, "globex", store.OpsItemFilter{}, store.Page{}); len(list) != 0 {
		t.Errorf("globex lists %d of acme's OpsItems", len(list))
	}
	stolen := o
	stolen.TenantID, stolen.Title = "globex", "hijacked"
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateOpsItem(ctx, stolen) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("globex updates acme's OpsItem: %v", err)
	}
	if got, _ := s.GetOpsItem(ctx, "acme", o.ID); got.Title != o.Title {
		t.Errorf("title changed to %q", got.Title)
	}
}

func testTxRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	boom := errors.New("boom")
	o := newOpsItem("acme", 1)
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		if _, err := tx.GetOpsItem(ctx, "acme", o.ID); err != nil {
			return fmt.Errorf("tx does not see its own write: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx err = %v", err)
	}
	if _, err := s.GetOpsItem(ctx, "acme", o.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled-back OpsItem visible: %v", err)
	}
	if s.InTx(ctx, func(tx store.Tx) error { return nil }) != nil {
		t.Error("empty tx failed")
	}
}

// chainHash is a stand-in for the audit package's hash; the suite checks
// the store's chaining, not the hash itself.
func chainHash(r store.AuditRecord) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s|%s|%s|%s|%s|%s", r.TenantID, r.Seq, r.Time.Format(time.RFC3339Nano), r.Actor, r.Action, r.Target, r.Result, r.PrevHash)))
	return hex.EncodeToString(h[:])
}

func appendAudit(t *testing.T, s store.Store, tenant, action string) store.AuditRecord {
	t.Helper()
	r := store.AuditRecord{TenantID: tenant, Time: t0, Actor: "token:tok_1", Action: action, Target: "opsitem/oi_1", Result: "ok", Detail: []byte(`{"k":"v"}`)}
	mustTx(t, s, func(tx store.Tx) error { return tx.AppendAudit(context.Background(), &r, chainHash) })
	return r
}

func testAuditChain(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	a1 := appendAudit(t, s, "acme", "opsitem.create")
	a2 := appendAudit(t, s, "acme", "opsitem.update")
	g1 := appendAudit(t, s, "globex", "token.create")
	if a1.Seq != 1 || a2.Seq != 2 || g1.Seq != 1 {
		t.Errorf("seqs = %d %d %d, want 1 2 1 (per tenant)", a1.Seq, a2.Seq, g1.Seq)
	}
	if a1.PrevHash != "" || a2.PrevHash != a1.Hash || a1.Hash == "" || g1.PrevHash != "" {
		t.Errorf("chain: a1=%s/%s a2 prev=%s g1 prev=%s", a1.PrevHash, a1.Hash, a2.PrevHash, g1.PrevHash)
	}
	var scanned []store.AuditRecord
	if err := s.ScanAudit(ctx, "acme", 0, func(r store.AuditRecord) error { scanned = append(scanned, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(scanned) != 2 || scanned[0].Hash != a1.Hash || scanned[1].Hash != a2.Hash || string(scanned[1].Detail) != `{"k":"v"}` || !scanned[0].Time.Equal(t0) {
		t.Errorf("ScanAudit = %+v", scanned)
	}
	seq, hash, err := s.AuditHead(ctx, "acme")
	if err != nil || seq != 2 || hash != a2.Hash {
		t.Errorf("AuditHead = %d %s %v", seq, hash, err)
	}
	if seq, hash, err := s.AuditHead(ctx, "nobody"); seq != 0 || hash != "" || err != nil {
		t.Errorf("AuditHead(empty) = %d %q %v", seq, hash, err)
	}
	list, _, err := s.ListAudit(ctx, "acme", store.Page{Limit: 1})
	if err != nil || len(list) != 1 || list[0].Seq != 2 {
		t.Errorf("ListAudit = %+v %v", list, err)
	}
	tenants, err := s.AuditTenants(ctx)
	if err != nil || len(tenants) != 2 {
		t.Errorf("AuditTenants = %v %v", tenants, err)
	}
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := store.AuditRecord{TenantID: "acme", Time: t0, Actor: fmt.Sprintf("w%d", w), Action: fmt.Sprintf("a%d", i), Result: "ok"}
				errs <- s.InTx(ctx, func(tx store.Tx) error { return tx.AppendAudit(ctx, &r, chainHash) })
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	prev, n := "", int64(0)
	err := s.ScanAudit(ctx, "acme", 0, func(r store.AuditRecord) error {
		n++
		if r.Seq != n || r.PrevHash != prev || chainHash(r) != r.Hash {
			return fmt.Errorf("record %d broken: seq=%d prev=%s want %s", n, r.Seq, r.PrevHash, prev)
		}
		prev = r.Hash
		return nil
	})
	if err != nil || n != workers*each {
		t.Errorf("chain of %d records: %v", n, err)
	}
}

func testAuditCheckpoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	for i := range 3 {
		r := appendAudit(t, s, "acme", "x")
		mustTx(t, s, func(tx store.Tx) error {
			return tx.AddAuditCheckpoint(ctx, store.AuditCheckpoint{TenantID: "acme", Seq: r.Seq, Hash: r.Hash, Time: t0.Add(time.Duration(i) * time.Hour)})
		})
	}
	cps, err := s.ListAuditCheckpoints(ctx, "acme")
	if err != nil || len(cps) != 3 || cps[2].Seq != 3 {
		t.Fatalf("checkpoints = %+v %v", cps, err)
	}
	var n int64
	mustTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.PruneAuditCheckpoints(ctx, t0.Add(10*time.Hour))
		return err
	})
	cps, _ = s.ListAuditCheckpoints(ctx, "acme")
	if n != 2 || len(cps) != 1 || cps[0].Seq != 3 {
		t.Errorf("after prune: removed %d, left %+v (want the newest kept)", n, cps)
	}
}
