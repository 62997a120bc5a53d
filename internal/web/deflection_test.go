package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

var (
	silenceRowRE = regexp.MustCompile(`<tr data-silence="(sil_[0-9a-z]+)">`)
	windowRowRE  = regexp.MustCompile(`<tr data-window="(mw_[0-9a-z]+)">`)
)

// lastAudit is the action of acme's newest audit record.
func lastAudit(t *testing.T, e *env) string {
	t.Helper()
	recs, _, err := e.st.ListAudit(context.Background(), "acme", store.Page{Limit: 1})
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit: %v", err)
	}
	return recs[0].Action
}

func TestSilencesPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := sessionCookieFor(e.admin)
	form := func(kv ...string) url.Values {
		v := url.Values{csrfField: {csrfFor(e.admin)}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	wantContains(t, e.get("/silences", e.acme), "No active or pending silences.")
	wantLacks(t, e.get("/silences", e.acme), "New silence") // a viewer

	res := e.post("/silences?tenant=acme", form("matchers", "alertname=\"DiskFull\"\ninstance=~\"db-.*\"", "duration", "4h", "comment", "disk swap tonight"), admin)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/silences?tenant=acme" {
		t.Fatalf("create: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), excerpt(res.body))
	}
	list := e.get("/silences?tenant=acme", e.admin)
	wantContains(t, list, `<code>alertname=&#34;DiskFull&#34;</code>`, `<code>instance=~&#34;db-.*&#34;</code>`, `<span class="badge st-active">active</span>`,
		"2026-05-04 13:30 UTC", "disk swap tonight")
	if a := lastAudit(t, e); a != "silence.create" {
		t.Errorf("audit action %q", a)
	}
	wantContains(t, e.get("/silences", e.acme), "disk swap tonight")
	wantLacks(t, e.get("/silences", e.globex), "disk swap tonight")

	// Bad input shows the form again with the problem and what was typed.
	for _, bad := range []url.Values{
		form("matchers", "alertname=~\"(\"", "duration", "2h", "comment", "x"),
		form("matchers", "", "duration", "2h", "comment", "x"),
		form("matchers", "a=\"b\"", "duration", "2h", "comment", ""),
		form("matchers", "a=\"b\"", "duration", "forever", "comment", "x"),
	} {
		res := e.post("/silences?tenant=acme", bad, admin)
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res, `<p class="alert" role="alert" id="silence-problem">`)
	}
	wantStatus(t, e.post("/silences", url.Values{"matchers": {"a=\"b\""}, "duration": {"2h"}, "comment": {"x"}, csrfField: {csrfFor(e.acme)}},
		sessionCookieFor(e.acme)), http.StatusForbidden)

	id := silenceRowRE.FindStringSubmatch(list.body)[1]
	wantStatus(t, e.post("/silences/"+id+"/expire", form(), admin), http.StatusNotFound) // the admin's own tenant has no such silence
	res = e.post("/silences/"+id+"/expire?tenant=acme", form(), admin)
	wantStatus(t, res, http.StatusSeeOther)
	wantLacks(t, e.get("/silences?tenant=acme", e.admin), "disk swap tonight")
	wantContains(t, e.get("/silences?tenant=acme&expired=true", e.admin), "disk swap tonight", `<span class="badge st-expired">expired</span>`)
	if a := lastAudit(t, e); a != "silence.expire" {
		t.Errorf("audit action %q", a)
	}
}

func TestMaintenancePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := sessionCookieFor(e.admin)
	form := url.Values{csrfField: {csrfFor(e.admin)}, "name": {"db-patching"}, "start": {"2026-05-04T22:00"}, "timezone": {"Europe/Berlin"},
		"duration": {"4h"}, "matchers": {"cluster=\"eu-1\""}, "comment": {"kernel updates"}}
	wantStatus(t, e.post("/maintenance?tenant=acme", form, admin), http.StatusSeeOther)
	list := e.get("/maintenance?tenant=acme", e.admin)
	// 22:00 in Berlin (UTC+2 in May) is 20:00 UTC.
	wantContains(t, list, "db-patching", `<span class="badge st-suppressed">closed</span>`, "2026-05-04 20:00 UTC", "2026-05-05 00:00 UTC",
		`<code>cluster=&#34;eu-1&#34;</code>`, "kernel updates")
	if a := lastAudit(t, e); a != "maintenance.create" {
		t.Errorf("audit action %q", a)
	}
	res := e.post("/maintenance?tenant=acme", form, admin)
	wantStatus(t, res, http.StatusBadRequest)
	wantContains(t, res, "already exists")
	bad := url.Values{csrfField: {csrfFor(e.admin)}, "name": {"x"}, "start": {"2026-05-04T22:00"}, "timezone": {"Mars/Olympus"}, "duration": {"1h"}, "matchers": {"job=\"x\""}}
	wantContains(t, e.post("/maintenance?tenant=acme", bad, admin), "is not an IANA zone name")
	bad.Set("timezone", "UTC")
	bad.Set("start", "2020-01-01T00:00")
	wantContains(t, e.post("/maintenance?tenant=acme", bad, admin), "end in the past")

	id := windowRowRE.FindStringSubmatch(list.body)[1]
	wantStatus(t, e.post("/maintenance/"+id+"/delete?tenant=acme", url.Values{csrfField: {csrfFor(e.admin)}}, admin), http.StatusSeeOther)
	wantContains(t, e.get("/maintenance?tenant=acme", e.admin), "No maintenance windows.")
	if a := lastAudit(t, e); a != "maintenance.delete" {
		t.Errorf("audit action %q", a)
	}
}
