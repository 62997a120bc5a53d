package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestPagination creates 120 OpsItems and follows next_cursor at limit 50:
// 50, 50, 20, newest first, each exactly once.
func TestPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.secret("acme/operator")
	var created []string
	for i := range 120 {
		h.clock.Advance(time.Second)
		created = append(created, h.createOpsItem(op, api.OpsItemInput{Title: fmt.Sprintf("item %03d", i)}).ID)
	}
	// globex's items must not show up in acme's pages.
	h.createOpsItem(h.secret("globex/operator"), api.OpsItemInput{Title: "globex item"})

	var got []store.OpsItem
	var sizes []int
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		q := url.Values{"limit": {"50"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := h.call("GET", "/api/v1/opsitems?"+q.Encode(), h.secret("acme/viewer"), nil)
		var l api.List[store.OpsItem]
		r.ok(t, 200, &l)
		sizes = append(sizes, len(l.Items))
		got = append(got, l.Items...)
		if l.NextCursor == "" {
			if strings.Contains(string(r.Body), "next_cursor") {
				t.Errorf("last page carries next_cursor: %s", r)
			}
			break
		}
		cursor = l.NextCursor
	}
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Errorf("page sizes %v, want [50 50 20]", sizes)
	}
	seen := map[string]bool{}
	for i, o := range got {
		if seen[o.ID] {
			t.Errorf("%s listed twice", o.ID)
		}
		seen[o.ID] = true
		if want := fmt.Sprintf("item %03d", 119-i); o.Title != want {
			t.Errorf("position %d: %q, want %q (newest first)", i, o.Title, want)
		}
		if i > 0 && !o.CreatedAt.Before(got[i-1].CreatedAt) {
			t.Errorf("position %d created %v, not before %v", i, o.CreatedAt, got[i-1].CreatedAt)
		}
	}
	if !sameSet(ids(got), created) {
		t.Errorf("pages hold %d items, want the 120 created", len(got))
	}
	// The default page is 50; the maximum is 500.
	var l api.List[store.OpsItem]
	h.call("GET", "/api/v1/opsitems", h.secret("acme/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 50 || l.NextCursor == "" {
		t.Errorf("default page: %d items, next %q", len(l.Items), l.NextCursor)
	}
	h.call("GET", "/api/v1/opsitems?limit=500", h.secret("acme/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 120 || l.NextCursor != "" {
		t.Errorf("limit=500: %d items, next %q", len(l.Items), l.NextCursor)
	}
	// Bad limits are a 400 naming limit, on every list.
	for _, path := range []string{"/api/v1/opsitems", "/api/v1/tokens", "/api/v1/audit", "/api/v1/tenants"} {
		for _, lim := range []string{"0", "abc", "1000", "-1", "501", "1.5", ""} {
			if lim == "" {
				continue
			}
			h.call("GET", path+"?limit="+url.QueryEscape(lim), h.secret(platform), nil).
				fail(t, http.StatusBadRequest, "bad_request", "limit", fmt.Sprintf("%q", lim), "1 to 500")
		}
	}
	h.call("GET", "/api/v1/audit?cursor=abc", h.secret("acme/admin"), nil).fail(t, http.StatusBadRequest, "bad_request", "cursor")
}

// TestFilters: status, severity, category and q narrow the list, together
// and alone; invalid values are a 400 naming the allowed ones.
func TestFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.secret("acme/operator")
	mk := func(title, desc, sev, cat, status string) string {
		h.clock.Advance(time.Second)
		o := h.createOpsItem(op, api.OpsItemInput{Title: title, Description: desc, Severity: sev, Category: cat})
		if status != "open" {
			h.call("PATCH", "/api/v1/opsitems/"+o.ID, op, api.OpsItemPatch{Status: &status}).ok(t, 200, nil)
		}
		return title
	}
	mk("Disk full on db-1", "", "critical", "monitoring", "open")
	mk("Patch CVE-2024-1234", "kernel", "high", "patching", "in-progress")
	mk("Backup failed", "pg_dump exit 1", "medium", "backup", "resolved")
	mk("Latency on web-3", "slow DISK on web-3", "low", "monitoring", "open")
	mk("Bucket is public", "s3://acme-logs", "critical", "security", "suppressed")
	h.createOpsItem(h.secret("globex/operator"), api.OpsItemInput{Title: "Disk full on globex", Severity: "critical", Category: "monitoring"})

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Disk full on db-1", "Patch CVE-2024-1234", "Backup failed", "Latency on web-3", "Bucket is public"}},
		{"status=open", []string{"Disk full on db-1", "Latency on web-3"}},
		{"status=in-progress", []string{"Patch CVE-2024-1234"}},
		{"status=resolved", []string{"Backup failed"}},
		{"status=suppressed", []string{"Bucket is public"}},
		{"severity=critical", []string{"Disk full on db-1", "Bucket is public"}},
		{"severity=info", nil},
		{"category=monitoring", []string{"Disk full on db-1", "Latency on web-3"}},
		{"q=disk", []string{"Disk full on db-1", "Latency on web-3"}},
		{"q=DISK", []string{"Disk full on db-1", "Latency on web-3"}},
		{"q=web-3", []string{"Latency on web-3"}},
		{"q=pg_dump", []string{"Backup failed"}},
		{"q=" + url.QueryEscape("s3://"), []string{"Bucket is public"}},
		{"severity=critical&category=security", []string{"Bucket is public"}},
		{"status=open&category=monitoring&q=db-1", []string{"Disk full on db-1"}},
		{"status=suppressed&q=disk", nil},
	} {
		r := h.call("GET", "/api/v1/opsitems?"+tc.query, h.secret("acme/viewer"), nil)
		var l api.List[store.OpsItem]
		r.ok(t, 200, &l)
		var got []string
		for _, o := range l.Items {
			got = append(got, o.Title)
		}
		if fmt.Sprint(got) != fmt.Sprint(reverse(tc.want)) {
			t.Errorf("?%s: %q, want %q (newest first)", tc.query, got, reverse(tc.want))
		}
		if len(tc.want) == 0 && !strings.Contains(string(r.Body), `"items":[]`) {
			t.Errorf("?%s: empty list is not \"items\":[]: %s", tc.query, r.Body)
		}
	}
	for _, tc := range []struct{ query, field, allowed string }{
		{"status=closed", "status", "open, in-progress, resolved, suppressed"},
		{"status=OPEN", "status", "open, in-progress, resolved, suppressed"},
		{"severity=urgent", "severity", "critical, high, medium, low, info"},
		{"category=misc", "category", "security, guardrails, monitoring, deployment, patching, backup, service, operations, finance"},
		{"q=" + strings.Repeat("x", 201), "q", "200"},
	} {
		h.call("GET", "/api/v1/opsitems?"+tc.query, h.secret("acme/viewer"), nil).
			fail(t, http.StatusBadRequest, "bad_request", tc.field, tc.allowed)
	}
}

// reverse is only for messages: tables list titles in creation order, the
// API newest first.
func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// TestPatchSemantics: resolving sets resolved_at/resolved_by, reopening
// clears them, and an invalid change is a 400 that changes nothing.
func TestPatchSemantics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op, admin := h.cred("acme/operator"), h.cred("acme/admin")
	o := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "queue backlog", Description: "orders", Severity: "high", Category: "service"})
	if o.Status != "open" || o.Source != "manual" || o.ResolvedAt != nil || o.ResolvedBy != "" || !o.CreatedAt.Equal(epoch) {
		t.Fatalf("created %+v", o)
	}
	path := "/api/v1/opsitems/" + o.ID
	get := func() store.OpsItem {
		var got store.OpsItem
		h.call("GET", path, op.Secret, nil).ok(t, 200, &got)
		return got
	}

	h.clock.Advance(10 * time.Minute)
	resolvedAt := h.clock.Now()
	var p store.OpsItem
	h.call("PATCH", path, admin.Secret, api.OpsItemPatch{Status: ptr("resolved")}).ok(t, 200, &p)
	for _, got := range []store.OpsItem{p, get()} {
		if got.Status != "resolved" || got.ResolvedAt == nil || !got.ResolvedAt.Equal(resolvedAt) ||
			got.ResolvedBy != admin.Actor() || !got.UpdatedAt.Equal(resolvedAt) {
			t.Errorf("after resolve: %+v; want resolved at %v by %s", got, resolvedAt, admin.Actor())
		}
		if got.Title != o.Title || got.Severity != o.Severity || got.Category != o.Category || got.Description != o.Description {
			t.Errorf("resolve changed other fields: %+v", got)
		}
	}
	// A PATCH that does not touch status keeps the resolution.
	h.clock.Advance(time.Minute)
	h.call("PATCH", path, op.Secret, api.OpsItemPatch{Title: ptr("queue backlog (orders)")}).ok(t, 200, &p)
	if p.ResolvedAt == nil || !p.ResolvedAt.Equal(resolvedAt) || p.ResolvedBy != admin.Actor() {
		t.Errorf("title change touched the resolution: %+v", p)
	}

	h.clock.Advance(time.Minute)
	r := h.call("PATCH", path, op.Secret, api.OpsItemPatch{Status: ptr("open")})
	r.ok(t, 200, &p)
	for _, got := range []store.OpsItem{p, get()} {
		if got.Status != "open" || got.ResolvedAt != nil || got.ResolvedBy != "" {
			t.Errorf("after reopen: %+v; want no resolution", got)
		}
	}
	if strings.Contains(string(r.Body), "resolved_at") || strings.Contains(string(r.Body), "resolved_by") {
		t.Errorf("reopened item still shows resolution fields: %s", r.Body)
	}

	// suppressed closes the item too.
	h.call("PATCH", path, op.Secret, api.OpsItemPatch{Status: ptr("suppressed")}).ok(t, 200, &p)
	if p.ResolvedAt == nil || p.ResolvedBy != op.Actor() {
		t.Errorf("suppressed: %+v; want resolved_at/by set", p)
	}
	h.call("PATCH", path, op.Secret, api.OpsItemPatch{Status: ptr("in-progress")}).ok(t, 200, &p)
	if p.ResolvedAt != nil || p.ResolvedBy != "" {
		t.Errorf("in-progress: %+v; want no resolution", p)
	}

	// Invalid values: 400 naming the field, and nothing changes, not even
	// the valid fields sent alongside, nor the audit chain.
	before, chain := mustJSON(t, get()), len(h.auditOf(acme))
	h.clock.Advance(time.Minute)
	for _, tc := range []struct {
		patch api.OpsItemPatch
		want  []string
	}{
		{api.OpsItemPatch{Severity: ptr("urgent")}, []string{"severity", `"urgent"`, "critical, high, medium, low, info"}},
		{api.OpsItemPatch{Severity: ptr("urgent"), Status: ptr("resolved"), Title: ptr("renamed")}, []string{"severity"}},
		{api.OpsItemPatch{Status: ptr("closed"), Severity: ptr("low")}, []string{"status", `"closed"`, "open, in-progress, resolved, suppressed"}},
		{api.OpsItemPatch{Category: ptr("misc")}, []string{"category", `"misc"`}},
		{api.OpsItemPatch{Title: ptr("  ")}, []string{"title is required"}},
		{api.OpsItemPatch{Title: ptr(strings.Repeat("t", 501))}, []string{"title is longer than 500"}},
	} {
		h.call("PATCH", path, op.Secret, tc.patch).fail(t, http.StatusBadRequest, "bad_request", tc.want...)
	}
	if after := mustJSON(t, get()); after != before {
		t.Errorf("rejected patches changed the item:\n%s\n→\n%s", before, after)
	}
	if n := len(h.auditOf(acme)); n != chain {
		t.Errorf("rejected patches wrote %d audit records", n-chain)
	}
	h.call("PATCH", "/api/v1/opsitems/oi_missing", op.Secret, api.OpsItemPatch{Status: ptr("resolved")}).fail(t, 404, "not_found", "oi_missing")
	h.call("PATCH", "/api/v1/opsitems/"+strings.Repeat("x", 129), op.Secret, api.OpsItemPatch{}).fail(t, 400, "bad_request", "invalid id")
}
