package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestOpsItemMergeSplitForms: the OpsItem page's merge and split forms go
// through opsitem.Merge and opsitem.Split (members move, the source closes
// as merged, the split member gets its own OpsItem); a viewer sees neither
// form and may not post them; a refused merge shows the page with why.
func TestOpsItemMergeSplitForms(t *testing.T) {
	t.Parallel()
	w := newWorkEnv(t)
	ctx := context.Background()
	mk := func(title string, names ...string) store.OpsItem {
		t.Helper()
		o := store.OpsItem{ID: store.NewID("oi", w.now), TenantID: "acme", Title: title, Category: "operations", Severity: "high",
			Status: "open", Source: "alertmanager", CreatedAt: w.now, UpdatedAt: w.now}
		err := w.st.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			for _, n := range names {
				if err := tx.PutOpsItemMember(ctx, store.OpsItemMember{TenantID: "acme", OpsItemID: o.ID, Fingerprint: "fp-" + n, Title: n,
					Source: "alertmanager", Severity: "high", Status: "firing", Occurrences: 1, FirstSeen: w.now, LastSeen: w.now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	target, src := mk("Database down", "InstanceDown"), mk("API errors", "HTTP5xx")
	page := "/opsitems/" + target.ID

	wantLacks(t, w.get(page, w.acme), `action="`+page+`/merge"`)
	wantContains(t, w.get(page, w.op), `action="`+page+`/merge"`, `<label for="merge-from">`)
	wantLacks(t, w.get(page, w.op), `action="`+page+`/split"`) // one member: nothing to split from
	wantStatus(t, w.form(page+"/merge", w.acme, "from", src.ID), http.StatusForbidden)

	res := w.form(page+"/merge", w.op, "from", src.ID)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != page {
		t.Errorf("merge redirects to %q", loc)
	}
	ms, _ := w.st.ListOpsItemMembers(ctx, "acme", target.ID)
	if len(ms) != 2 {
		t.Errorf("target members after merge: %+v", ms)
	}
	if s, _ := w.st.GetOpsItem(ctx, "acme", src.ID); s.Status != "resolved" {
		t.Errorf("source after merge: %+v", s)
	}
	bad := w.form(page+"/merge", w.op, "from", src.ID)
	wantStatus(t, bad, http.StatusConflict)
	wantContains(t, bad, `role="alert">opsitem `+src.ID+` is resolved`)

	after := w.get(page, w.op)
	wantContains(t, after, `action="`+page+`/split"`, `<option value="fp-HTTP5xx">`, "Merged "+src.ID+" into this OpsItem")
	res = w.form(page+"/split", w.op, "fingerprint", "fp-HTTP5xx")
	wantStatus(t, res, http.StatusSeeOther)
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/opsitems/oi_") || loc == page {
		t.Fatalf("split redirects to %q, want the new OpsItem", loc)
	}
	ms, _ = w.st.ListOpsItemMembers(ctx, "acme", strings.TrimPrefix(loc, "/opsitems/"))
	if len(ms) != 1 || ms[0].Fingerprint != "fp-HTTP5xx" {
		t.Errorf("new OpsItem's members: %+v", ms)
	}
}
