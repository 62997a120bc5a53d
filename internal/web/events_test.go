package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// seedEvents stores n events of tenant acme whose source, decision,
// fingerprint, resource, OpsItem and time vary independently (each on its
// own cycle), so every filter picks a different set.
func seedEvents(t *testing.T, e *env, n int) []store.Event {
	t.Helper()
	ctx := context.Background()
	sources := []string{"alertmanager", "guardduty", "generic:cron"}
	decisions := []string{"opened", "attached", "suppressed", "held", "deduplicated"}
	resources := []string{"web-01", "db-01", ""}
	disk := e.items["Disk almost full on db-01"]
	var evs []store.Event
	for i := range n {
		at := e.now.Add(-time.Duration(i) * time.Hour)
		ev := store.Event{ID: store.NewID("ev", e.now.Add(time.Duration(i)*time.Millisecond)), TenantID: "acme",
			Source: sources[i%3], Fingerprint: fmt.Sprintf("fp-%d", i%4), Kind: "alert", Severity: "high", Status: "firing",
			Title: fmt.Sprintf("Event %02d", i), Labels: map[string]string{"n": fmt.Sprint(i)}, OccurredAt: at, ReceivedAt: at,
			ResourceKey: resources[i%len(resources)], Decision: decisions[i%5]}
		if ev.Decision == "suppressed" {
			ev.Reason = "silence: sil_" + fmt.Sprint(i)
		}
		if i%7 == 0 {
			ev.OpsItemID = disk.ID
		}
		evs = append(evs, ev)
	}
	if err := e.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertEvents(ctx, evs) }); err != nil {
		t.Fatal(err)
	}
	return evs
}

var eventRowRE = regexp.MustCompile(`<tr data-event="([^"]+)">`)

// shownEvents are the IDs of the event rows of a page, in order.
func shownEvents(body string) []string {
	var ids []string
	for _, m := range eventRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestEventsPageFilters checks each filter of /events against the same
// selection made in Go over the seeded events, newest first.
func TestEventsPageFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	evs := seedEvents(t, e, 40)
	disk := e.items["Disk almost full on db-01"]
	from, to := e.now.Add(-20*time.Hour), e.now.Add(-9*time.Hour)
	for _, c := range []struct {
		query string
		keep  func(store.Event) bool
	}{
		{"source=guardduty", func(ev store.Event) bool { return ev.Source == "guardduty" }},
		{"decision=suppressed", func(ev store.Event) bool { return ev.Decision == "suppressed" }},
		{"fingerprint=fp-2", func(ev store.Event) bool { return ev.Fingerprint == "fp-2" }},
		{"resource=db-01", func(ev store.Event) bool { return ev.ResourceKey == "db-01" }},
		{"opsitem=" + disk.ID, func(ev store.Event) bool { return ev.OpsItemID == disk.ID }},
		{"from=" + from.Format("2006-01-02T15:04") + "&to=" + url.QueryEscape(to.Format(time.RFC3339)),
			func(ev store.Event) bool { return !ev.OccurredAt.Before(from) && ev.OccurredAt.Before(to) }},
		{"source=alertmanager&decision=opened", func(ev store.Event) bool { return ev.Source == "alertmanager" && ev.Decision == "opened" }},
	} {
		var want []string
		for _, ev := range slices.Backward(evs) { // the newest ID first
			if c.keep(ev) {
				want = append(want, ev.ID)
			}
		}
		if len(want) == 0 || len(want) == len(evs) {
			t.Fatalf("%s: the dataset does not tell this filter apart (%d of %d)", c.query, len(want), len(evs))
		}
		res := e.get("/events?"+c.query, e.acme)
		wantStatus(t, res, http.StatusOK)
		if got := shownEvents(res.body); !slices.Equal(got, want) {
			t.Errorf("/events?%s shows %d events %v, want %d %v", c.query, len(got), got, len(want), want)
		}
	}

	// Decisions and reasons in words, and the way to the OpsItem.
	res := e.get("/events?decision=suppressed", e.acme)
	wantContains(t, res, "suppressed</span> <span class=\"help\">— silence: sil_2</span>",
		`<option value="suppressed" selected>suppressed</option>`)
	res = e.get("/events?opsitem="+disk.ID, e.acme)
	wantContains(t, res, `<a href="/opsitems/`+disk.ID+`">Disk almost full on db-01</a>`, "opened a new OpsItem")

	// Bad filters are refused with the reason.
	for q, msg := range map[string]string{
		"decision=maybe": `decision &#34;maybe&#34; is not one of the pipeline&#39;s decisions`,
		"from=yesterday": `from &#34;yesterday&#34; is not a time`,
		"from=2026-05-04T10:00&to=2026-05-04T09:00": "from must be before to",
		"source=" + strings.Repeat("x", 501):        "source filter is longer than 500 characters",
	} {
		res := e.get("/events?"+q, e.acme)
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res, msg)
	}
	// Another tenant sees none of them.
	if got := shownEvents(e.get("/events", e.globex).body); len(got) != 0 {
		t.Errorf("globex sees acme's events %v", got)
	}
}

// TestEventsPagination pages through more events than a page holds,
// keeping the filter.
func TestEventsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	evs := seedEvents(t, e, 3*eventsPageSize+9) // a third from alertmanager: more than a page
	var want []string
	for _, ev := range slices.Backward(evs) {
		if ev.Source == "alertmanager" {
			want = append(want, ev.ID)
		}
	}
	var got []string
	pages := 0
	for page := "/events?source=alertmanager"; page != ""; pages++ {
		res := e.get(page, e.acme)
		wantStatus(t, res, http.StatusOK)
		got = append(got, shownEvents(res.body)...)
		m := regexp.MustCompile(`<a href="([^"]+)">Next page</a>`).FindStringSubmatch(res.body)
		page = ""
		if m != nil {
			page = strings.ReplaceAll(m[1], "&amp;", "&")
			if u, _ := url.Parse(page); u.Query().Get("source") != "alertmanager" || u.Query().Get("cursor") == "" {
				t.Errorf("next link %q drops the filter or the cursor", page)
			}
		}
		if pages > 0 {
			wantContains(t, res, `<a href="/events?source=alertmanager">First page</a>`)
		}
	}
	if pages != 2 || !slices.Equal(got, want) {
		t.Errorf("%d pages show %d events, want 2 pages of %d events in order", pages, len(got), len(want))
	}
}
