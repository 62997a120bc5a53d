package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := sessionCookieFor(e.admin)
	// Two silences and an expiry make three records in acme's chain.
	for _, c := range []string{"first", "second"} {
		f := url.Values{csrfField: {csrfFor(e.admin)}, "matchers": {`alertname="X"`}, "duration": {"2h"}, "comment": {c}}
		wantStatus(t, e.post("/silences?tenant=acme", f, admin), http.StatusSeeOther)
	}
	sils, _, _ := e.st.ListSilences(context.Background(), "acme", store.SilenceFilter{Now: e.now}, store.Page{})
	wantStatus(t, e.post("/silences/"+sils[0].ID+"/expire?tenant=acme", url.Values{csrfField: {csrfFor(e.admin)}}, admin), http.StatusSeeOther)

	page := e.get("/audit?tenant=acme", e.admin)
	wantStatus(t, page, http.StatusOK)
	if n := countRows(page.body); n != 3 {
		t.Errorf("audit page shows %d records, want 3", n)
	}
	wantContains(t, page, "silence.create", "silence.expire", "silence/"+sils[0].ID)
	if n := countRows(e.get("/audit?tenant=acme&action=silence.expire", e.admin).body); n != 1 {
		t.Errorf("action filter: %d records, want 1", n)
	}
	if n := countRows(e.get("/audit?tenant=acme&target=silence/"+sils[1].ID, e.admin).body); n != 1 {
		t.Errorf("target filter: %d records, want 1", n)
	}
	wantContains(t, e.get("/audit?tenant=acme&actor=token:nobody", e.admin), "No audit records match.")

	verified := e.get("/audit?tenant=acme&verify=1", e.admin)
	wantContains(t, verified, `<p class="notice" role="status" id="verify-result">The chain is intact: 3 records verified`)
	// A record whose hash does not match its contents (written past the
	// chaining code): the button says where the chain breaks.
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		head, hash, err := tx.AuditHead(ctx, "acme")
		if err != nil {
			return err
		}
		bad := store.AuditRecord{TenantID: "acme", Seq: head + 1, Time: e.now, Actor: "token:mallory", Action: "silence.create", Result: "ok",
			PrevHash: hash, Hash: "0000"}
		if err := tx.InsertAuditRecords(ctx, []store.AuditRecord{bad}); err != nil {
			return err
		}
		return tx.SetAuditHead(ctx, "acme", bad.Seq, bad.Hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, e.get("/audit?tenant=acme&verify=1", e.admin), `<p class="alert" role="alert" id="verify-result">The chain is broken at record 4: `)
	// Viewers may not browse the log; other tenants' records never show.
	wantStatus(t, e.get("/audit", e.acme), http.StatusForbidden)
	wantContains(t, e.get("/audit", e.admin), "No audit records match.")
}

func countRows(body string) int { return strings.Count(body, `<tr data-seq="`) }

// TestAuditTargetTitles: a record about an OpsItem shows the OpsItem's
// title, linking to it, with its id beside it (filtering by it).
func TestAuditTargetTitles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := sessionCookieFor(e.admin)
	item := e.items["Disk almost full on db-01"]
	f := url.Values{csrfField: {csrfFor(e.admin)}, "text": {"looking"}}
	wantStatus(t, e.post("/opsitems/"+item.ID+"/notes?tenant=acme", f, admin), http.StatusSeeOther)
	page := e.get("/audit?tenant=acme", e.admin)
	wantContains(t, page, `<a class="idlink" href="/opsitems/`+item.ID+`?tenant=acme" title="Disk almost full on db-01">Disk almost full on db-01</a>`,
		`>opsitem/`+item.ID+`</a>`)
	// A target without a title (the tenant's own records) gets no empty link.
	wantStatus(t, e.post("/silences?tenant=acme", url.Values{csrfField: {csrfFor(e.admin)}, "matchers": {`a="b"`}, "duration": {"2h"}, "comment": {"c"}}, admin), http.StatusSeeOther)
	if page := e.get("/audit?tenant=acme", e.admin); strings.Contains(page.body, `href=""`) {
		t.Errorf("the audit page has an empty link:\n%s", page.body)
	}
}
